from __future__ import annotations

from typing import Literal

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from app.auth.service import AuthService
from app.config import Settings
from app.pagination import Page, clamp_limit
from app.postal import letters, service
from app.postal.letters import LetterOut, LetterUpdateIn
from app.postal.schemas import PostalOperatorCredentialsIn, PostalTokenOut, ShipmentOut, TrackingUpdateIn
from app.security import PrincipalRequest, postal_only


class PostalController(Controller):
    path = "/api/v1/postal"
    tags = ["postal"]

    @post("/token", status_code=HTTP_200_OK, security=[])
    async def token(
        self, data: JSONBody[PostalOperatorCredentialsIn], auth_service: NamedDependency[AuthService]
    ) -> PostalTokenOut:
        """Client-credentials sign-in for the postal operator."""
        return await service.issue_token(auth_service.jwt_auth, data.client_id, data.client_secret)

    @get("/shipments", guards=[postal_only])
    async def shipments(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[ShipmentOut]:
        """Parcels by status (default: waiting to be picked up), oldest first. Each read is on the citizen's record."""
        return await service.shipments(request.user, status, cursor, clamp_limit(limit, settings.page_limit_max))

    @get("/letters", guards=[postal_only])
    async def list_letters(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        status: FromQuery[Literal["awaiting_pickup", "accepted", "in_transit", "delivered", "returned"] | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[LetterOut]:
        """Registered letters of legal notices the citizen did not read in the app (default: waiting to be
        picked up), oldest first. Each read is on the citizen's record."""
        return await letters.letters(request.user, status, cursor, clamp_limit(limit, settings.page_limit_max))

    @post("/letters/{letter_id:str}/updates", status_code=HTTP_200_OK, guards=[postal_only])
    async def letter_update(self, letter_id: FromPath[str], data: JSONBody[LetterUpdateIn]) -> LetterOut:
        """Report where the letter is. The same `event_id` again changes nothing."""
        return await letters.update(letter_id, data)

    @post("/shipments/{code:str}/updates", status_code=HTTP_200_OK, guards=[postal_only])
    async def update(
        self,
        request: PrincipalRequest,
        code: FromPath[str],
        data: JSONBody[TrackingUpdateIn],
    ) -> ShipmentOut:
        """Report where the parcel is. The same `event_id` again changes nothing."""
        return await service.post_update(request.user, code, data)
