"""The support desk in the console: the same service calls, guards, rate limit and audit as
/api/v1/support (app/support), with pages instead of JSON."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body, FromPath
from litestar.response import Template

from app.catalogue.service import find_service, list_services, unknown_service
from app.config import Settings
from app.console.pages import is_fragment, page, problem, see_other
from app.console.texts import Words, language
from app.dossiers.schemas import DossierIn
from app.errors import AppError
from app.security import PrincipalRequest, staff_only
from app.support import service
from app.support.controller import lookup_limit
from app.wallet.service import document_out
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
    async def assisted(self, request: PrincipalRequest, session_id: FromPath[str]) -> Response[Any]:
        """The full wallet: every showing of this page is a look the citizen is told about."""
        return await self._session_page(request, session_id)

    async def _session_page(
        self, request: PrincipalRequest, session_id: str, status: int = 200, **context: Any
    ) -> Response[Any]:
        try:
            found = await service.active_session(request.user, session_id, None)
            documents: list[WalletDocument] = []
            if "view_wallet" in found.scopes:
                found, documents = await service.session_wallet(request.user, session_id)
        except NotAuthorizedException:
            return see_other("/console/support?ended=1")  # ended or expired
        procedures = await list_services() if "submit_dossier" in found.scopes else []
        chosen = next((p for p in procedures if p.code == request.query_params.get("service")), None)
        filed = request.query_params.get("filed")
        left = max(int((found.expires_at - utcnow()).total_seconds()), 0)
        return page(
            request,
            "assisted.html",
            status,
            session_id=session_id,
            documents=[document_out(d) for d in documents],
            scopes=found.scopes,
            expires_iso=found.expires_at.isoformat(),
            left=f"{left // 60:02d}:{left % 60:02d}",
            procedures=procedures,
            chosen=chosen,
            idempotency_key=f"console-{secrets.token_hex(12)}",
            message=Words(language(request))("filed", code=filed[:40]) if filed else None,
            **context,
        )

    @get("/sessions/{session_id:str}/form")
    async def dossier_form(self, request: PrincipalRequest, session_id: FromPath[str]) -> Template:
        """The chosen procedure's form (htmx swaps it in; it shows nothing of the citizen)."""
        await service.active_session(request.user, session_id, "submit_dossier")
        chosen = await find_service(request.query_params.get("service") or "")
        return page(request, "dossier_form.html", session_id=session_id, chosen=chosen,
                    idempotency_key=f"console-{secrets.token_hex(12)}")  # fmt: skip

    @post("/sessions/{session_id:str}/dossiers", status_code=303)
    async def file_dossier(self, request: PrincipalRequest, session_id: FromPath[str]) -> Response[Any]:
        """A dossier filed for the citizen (online delivery): the same call as the API's."""
        form = await request.form()
        procedure = await find_service(str(form.get("service_code") or ""))
        values: dict[str, Any] = {}
        for field in procedure.form_fields if procedure else []:
            raw = str(form.get(f"f_{field.name}") or "").strip()
            if field.type == "boolean":
                values[field.name] = raw == "on"
            elif raw:
                values[field.name] = int(raw) if field.type == "integer" and raw.lstrip("-").isdigit() else raw
        try:
            data = msgspec.convert(
                {"service_code": str(form.get("service_code") or "")[:64], "delivery": {"method": "online"},
                 "form": values},
                DossierIn,
            )  # fmt: skip
            key = str(form.get("idempotency_key") or "")[:128] or None
            dossier, _ = await service.submit_for_citizen(request.user, session_id, key, data)
        except AppError as exc:
            return await self._session_page(request, session_id, exc.status, problem=problem(exc, language(request)))
        except msgspec.ValidationError:
            return await self._session_page(request, session_id, 422, problem=problem(
                unknown_service(str(form.get("service_code") or "-")[:64]), language(request)))  # fmt: skip
        return see_other(f"/console/support/sessions/{session_id}?filed={dossier.code}")

    @post("/sessions/{session_id:str}/end", status_code=303)
    async def end(self, request: PrincipalRequest, session_id: FromPath[str]) -> Response[Any]:
        await service.end_session(request.user, session_id)
        return see_other("/console/support?ended=1")
