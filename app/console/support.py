"""The support desk in the console: the same service calls, guards, rate limit and audit as
/api/v1/support (app/support), with pages instead of JSON."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body, FromPath
from litestar.response import Template

from app.catalogue.service import find_service, list_services, unknown_service
from app.config import Settings
from app.console.pages import is_fragment, page, problem, see_other
from app.console.texts import Words, language
from app.dossiers.controller import UPLOAD_BODY_LIMIT
from app.dossiers.schemas import DossierIn
from app.errors import AppError
from app.security import PrincipalRequest, staff_only
from app.support import papers, service
from app.support.controller import lookup_limit
from app.wallet.schemas import DocumentOut
from app.wallet.service import document_out
from models.catalogue import Service
from models.common import utcnow
from models.wallet import WalletDocument


@dataclass
class LookupForm:
    national_id: str = ""
    reason: str = ""


@dataclass
class SessionForm:
    national_id: str = ""
    code: str = ""
    reason: str = ""


def wallet_choices(chosen: Service | None, documents: list[DocumentOut]) -> dict[str, list[DocumentOut]]:
    """Per paper of the procedure, the citizen's valid wallet documents that may stand in for it."""
    return {
        spec.name: [d for d in documents if d.type in spec.wallet_types and d.status == "valid"]
        for spec in (chosen.attachments if chosen else [])
        if spec.wallet_types
    }


def form_context(
    chosen: Service | None, scopes: Collection[str], documents: list[DocumentOut], settings: Settings
) -> dict[str, Any]:
    """What the filing form shows besides the procedure: the papers' wallet choices and the upload cap."""
    return {
        "choices": wallet_choices(chosen, documents),
        "wallet_shown": "view_wallet" in scopes,
        "max_mb": round(settings.attachment_max_bytes / (1024 * 1024), 1),
    }


LookupData = Annotated[LookupForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
SessionData = Annotated[SessionForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


class SupportDeskController(Controller):
    path = "/console/support"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def desk(self, request: PrincipalRequest) -> Template:
        ended = request.query_params.get("ended") == "1"
        return page(request, "support.html", message=Words(language(request)).session_ended if ended else None)

    @post("/lookups", middleware=[lookup_limit.middleware], status_code=200)
    async def lookup(self, request: PrincipalRequest, data: LookupData) -> Template:
        context: dict[str, Any] = {"national_id": data.national_id, "reason": data.reason}
        status = 200
        try:
            context["lookup"] = await service.lookup(request.user, data.national_id.strip()[:32], data.reason[:500])
        except AppError as exc:
            context["lookup_problem"] = problem(exc, language(request))
            status = exc.status
        if is_fragment(request):
            # htmx swaps 2xx answers only: the problem is the fragment's content.
            return page(request, "lookup_result.html", **context)
        return page(request, "support.html", status, **context)

    @post("/sessions", status_code=303)
    async def open_session(
        self, request: PrincipalRequest, data: SessionData, settings: NamedDependency[Settings]
    ) -> Response[Any]:
        try:
            opened = await service.open_session(
                request.user, data.national_id.strip()[:32], data.code.strip(), data.reason[:500], settings
            )
        except AppError as exc:
            return page(request, "support.html", exc.status, problem=problem(exc, language(request)))
        return see_other(f"/console/support/sessions/{opened.id}")

    @get("/sessions/{session_id:str}")
    async def assisted(
        self, request: PrincipalRequest, session_id: FromPath[str], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """The full wallet: every showing of this page is a look the citizen is told about."""
        return await self._session_page(request, session_id, settings)

    async def _session_page(
        self, request: PrincipalRequest, session_id: str, settings: Settings, status: int = 200, **context: Any
    ) -> Response[Any]:
        try:
            found = await service.active_session(request.user, session_id, None)
            documents: list[WalletDocument] = []
            if "view_wallet" in found.scopes:
                found, documents = await service.session_wallet(request.user, session_id)
        except NotAuthorizedException:
            return see_other("/console/support?ended=1")  # ended or expired
        procedures = await list_services() if "submit_dossier" in found.scopes else []
        # After a refused filing the same procedure's form again, beside the problem.
        asked = context.pop("service_code", None) or request.query_params.get("service")
        chosen = next((p for p in procedures if p.code == asked), None)
        filed = request.query_params.get("filed")
        left = max(int((found.expires_at - utcnow()).total_seconds()), 0)
        shown = [document_out(d) for d in documents]
        return page(
            request,
            "assisted.html",
            status,
            session_id=session_id,
            documents=shown,
            scopes=found.scopes,
            expires_iso=found.expires_at.isoformat(),
            left=f"{left // 60:02d}:{left % 60:02d}",
            procedures=procedures,
            chosen=chosen,
            idempotency_key=f"console-{secrets.token_hex(12)}",
            message=Words(language(request))("filed", code=filed[:40]) if filed else None,
            **form_context(chosen, found.scopes, shown, settings),
            **context,
        )

    @get("/sessions/{session_id:str}/form")
    async def dossier_form(
        self, request: PrincipalRequest, session_id: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template:
        """The chosen procedure's form (htmx swaps it in). It lists wallet documents for its
        papers only when the session allows viewing the wallet, and that look is told as any other."""
        found = await service.active_session(request.user, session_id, "submit_dossier")
        chosen = await find_service(request.query_params.get("service") or "")
        documents: list[WalletDocument] = []
        if chosen and "view_wallet" in found.scopes and any(a.wallet_types for a in chosen.attachments):
            found, documents = await service.session_wallet(request.user, session_id)
        shown = [document_out(d) for d in documents]
        return page(request, "dossier_form.html", session_id=session_id, chosen=chosen,
                    idempotency_key=f"console-{secrets.token_hex(12)}",
                    **form_context(chosen, found.scopes, shown, settings))  # fmt: skip

    @post("/sessions/{session_id:str}/dossiers", status_code=303, request_max_body_size=UPLOAD_BODY_LIMIT)
    async def file_dossier(
        self, request: PrincipalRequest, session_id: FromPath[str], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """A dossier filed for the citizen (online delivery), its papers uploaded on their behalf
        or picked from their wallet: the API's assisted submission and the citizen's upload checks."""
        form = await request.form()
        procedure = await find_service(str(form.get("service_code") or ""))
        values: dict[str, Any] = {}
        for field in procedure.form_fields if procedure else []:
            raw = str(form.get(f"f_{field.name}") or "").strip()
            if field.type == "boolean":
                values[field.name] = raw == "on"
            elif raw:
                values[field.name] = int(raw) if field.type == "integer" and raw.lstrip("-").isdigit() else raw
        chosen: list[papers.Paper] = []
        for spec in procedure.attachments if procedure else []:
            # A file input left empty arrives as an empty text field; anything but a file is no file.
            file, document = form.get(f"paper_{spec.name}"), form.get(f"doc_{spec.name}")
            paper = papers.Paper(spec.name, file if isinstance(file, UploadFile) else None)
            if isinstance(document, str) and document.strip():
                paper.document_id = document.strip()[:64]
            if paper.file is not None or paper.document_id is not None:
                chosen.append(paper)
        try:
            data = msgspec.convert(
                {"service_code": str(form.get("service_code") or "")[:64], "delivery": {"method": "online"},
                 "form": values},
                DossierIn,
            )  # fmt: skip
            key = str(form.get("idempotency_key") or "")[:128] or None
            dossier, _ = await papers.submit_with_papers(
                request.user, session_id, key, data, chosen, settings.attachment_max_bytes
            )
        except AppError as exc:
            return await self._session_page(
                request, session_id, settings, exc.status, problem=problem(exc, language(request)),
                service_code=procedure.code if procedure else None,
            )  # fmt: skip
        except msgspec.ValidationError:
            return await self._session_page(request, session_id, settings, 422, problem=problem(
                unknown_service(str(form.get("service_code") or "-")[:64]), language(request)))  # fmt: skip
        return see_other(f"/console/support/sessions/{session_id}?filed={dossier.code}")

    @post("/sessions/{session_id:str}/end", status_code=303)
    async def end(self, request: PrincipalRequest, session_id: FromPath[str]) -> Response[Any]:
        await service.end_session(request.user, session_id)
        return see_other("/console/support?ended=1")
