from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.config import Settings, get_settings
from app.dossiers import service as dossiers
from app.dossiers.schemas import DossierIn, DossierOut
from app.security import AnyRequest, PrincipalRequest, citizen_only, staff_only
from app.support import service
from app.support.schemas import (
    AssistedSessionIn,
    AssistedSessionOut,
    ConsentCodeIn,
    ConsentCodeOut,
    LookupIn,
    LookupOut,
)
from app.wallet.schemas import DocumentOut
from app.wallet.service import document_out


def _staff_key(request: AnyRequest) -> str:
    # Per staff member, not per address: a whole post office shares one address.
    user = request.scope.get("user")
    return f"staff:{getattr(user, 'id', 'anonymous')}"


lookup_limit = RateLimitConfig(
    rate_limit=("minute", get_settings().support_lookups_per_minute),
    identifier_for_request=_staff_key,
    store="support-lookups",
)


class SupportController(Controller):
    path = "/api/v1/support"
    tags = ["support"]
    guards = [staff_only]

    @post("/lookups", status_code=HTTP_201_CREATED, middleware=[lookup_limit.middleware])
    async def lookup(self, request: PrincipalRequest, data: JSONBody[LookupIn]) -> LookupOut:
        """Look up a citizen's masked profile and wallet. A reason is required; the citizen is told."""
        return await service.lookup(request.user, data.national_id, data.reason)

    @post("/sessions", status_code=HTTP_201_CREATED)
    async def open_session(
        self,
        request: PrincipalRequest,
        data: JSONBody[AssistedSessionIn],
        settings: NamedDependency[Settings],
    ) -> AssistedSessionOut:
        """Open an assisted session with the six-digit code the citizen made in the app."""
        return await service.open_session(request.user, data.national_id, data.code, data.reason, settings)

    @delete("/sessions/{session_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def end_session(self, request: PrincipalRequest, session_id: FromPath[str]) -> None:
        """End an assisted session before its time."""
        await service.end_session(request.user, session_id)

    @get("/sessions/{session_id:str}/documents")
    async def wallet(self, request: PrincipalRequest, session_id: FromPath[str]) -> dict[str, list[DocumentOut]]:
        """The citizen's whole wallet, within a session the citizen allowed to see it; each look is pushed to them."""
        _, documents = await service.session_wallet(request.user, session_id)
        return {"items": [document_out(d) for d in documents]}

    @post("/sessions/{session_id:str}/dossiers", status_code=HTTP_201_CREATED)
    async def submit_for_citizen(
        self,
        request: PrincipalRequest,
        session_id: FromPath[str],
        data: JSONBody[DossierIn],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", min_length=8, max_length=128)
        ] = None,
    ) -> Response[DossierOut]:
        """Submit a dossier on the citizen's behalf; it is recorded as assisted, and by whom."""
        dossier, _ = await service.submit_for_citizen(request.user, session_id, idempotency_key, data)
        out = dossiers.dossier_out(dossier)
        # Printed on the receipt the desk hands over (decision 0029).
        out.tracking_secret = dossiers.receipt_secret(dossier)
        return Response(out, status_code=HTTP_201_CREATED)


class ConsentCodeController(Controller):
    path = "/api/v1/me/consent-codes"
    tags = ["support"]
    guards = [citizen_only]

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self, request: PrincipalRequest, data: JSONBody[ConsentCodeIn], settings: NamedDependency[Settings]
    ) -> ConsentCodeOut:
        """Make a six-digit code that lets a support desk act for you once, for a few minutes."""
        return await service.create_consent_code(request.user.object_id, list(data.scopes), settings)
