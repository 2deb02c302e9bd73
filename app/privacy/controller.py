from __future__ import annotations

from typing import Any

from litestar import Controller, get, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from app.i18n import negotiate
from app.privacy import service
from app.privacy.schemas import ConsentIn, ConsentOut, DeletionIn, DeletionOut
from app.security import PrincipalRequest, citizen_only


class PrivacyController(Controller):
    path = "/api/v1/me"
    tags = ["privacy"]
    guards = [citizen_only]

    @get("/consents")
    async def consents(self, request: PrincipalRequest) -> dict[str, list[ConsentOut]]:
        """Your current decision for each purpose of processing."""
        return {"items": await service.consents(request.user.object_id)}

    @put("/consents")
    async def decide(self, request: PrincipalRequest, data: JSONBody[ConsentIn]) -> ConsentOut:
        """Grant or withdraw consent for one purpose; withdrawing stops that processing at once."""
        return await service.decide(request.user.object_id, data.purpose, data.granted, data.terms_version)

    @get("/export")
    async def export(self, request: PrincipalRequest) -> dict[str, Any]:
        """Everything held about you, as one JSON document."""
        return await service.export(request.user.object_id)

    @post("/deletion", status_code=HTTP_200_OK)
    async def close_account(self, request: PrincipalRequest, data: JSONBody[DeletionIn]) -> DeletionOut:
        """Close your account: what may be deleted is deleted now; the answer says what is kept and why."""
        language = negotiate(request.headers.get("accept-language"))
        return await service.close_account(request.user.object_id, data.password, language)
