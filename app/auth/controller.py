from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from app.auth import agencies, sessions
from app.auth.schemas import (
    AccessToken,
    ClientCredentialsIn,
    LoginIn,
    RefreshIn,
    RotatedSecretOut,
    SessionOut,
    SignedIn,
    StaffLoginIn,
    TokenPair,
)
from app.auth.service import AuthService
from app.config import Settings
from app.pagination import Page
from app.security import AnyRequest, PrincipalRequest, agency_only, citizen_only


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post("/auth/token", status_code=HTTP_200_OK, security=[])
    async def citizen_token(
        self, data: JSONBody[LoginIn], request: AnyRequest, auth_service: NamedDependency[AuthService]
    ) -> SignedIn:
        """Sign in with national ID (or phone) and password. Failed attempts are throttled (429):
        per account and per address, or, when the `device_token` of an earlier sign-in on this
        device is sent, per device only, so strangers' guesses cannot lock the citizen out."""
        return await auth_service.login_citizen(data.username, data.password, request.headers.get("user-agent"))

    @post("/auth/refresh", status_code=HTTP_200_OK, security=[])
    async def refresh(self, data: JSONBody[RefreshIn], auth_service: NamedDependency[AuthService]) -> TokenPair:
        """Swap a refresh token for a new pair; the old refresh token stops working, and
        presenting it again ends the whole session."""
        return await auth_service.refresh_citizen(data.refresh_token)

    @post("/auth/logout", status_code=HTTP_204_NO_CONTENT, guards=[citizen_only])
    async def logout(self, request: PrincipalRequest, auth_service: NamedDependency[AuthService]) -> None:
        """End this signed-in session: its access and refresh tokens stop working."""
        await auth_service.logout(request.user)

    @post("/agency/token", status_code=HTTP_200_OK, security=[])
    async def agency_token(
        self, data: JSONBody[ClientCredentialsIn], auth_service: NamedDependency[AuthService]
    ) -> AccessToken:
        """Client-credentials sign-in for agency systems."""
        return await auth_service.agency_token(data.client_id, data.client_secret)

    @post("/agency/credentials/rotate", status_code=HTTP_200_OK, guards=[agency_only])
    async def rotate_agency_secret(
        self, request: PrincipalRequest, settings: NamedDependency[Settings]
    ) -> RotatedSecretOut:
        """A new client secret, shown once; the previous one keeps working for an overlap window."""
        assert request.user.agency_code is not None
        return await agencies.rotate_secret(request.user.agency_code, settings.agency_secret_overlap_hours)

    @post("/staff/token", status_code=HTTP_200_OK, security=[])
    async def staff_token(
        self, data: JSONBody[StaffLoginIn], auth_service: NamedDependency[AuthService]
    ) -> AccessToken:
        """Sign-in for support staff and admins: password and the current TOTP code (`otp`)."""
        return await auth_service.staff_token(data.username, data.password, data.otp)


class SessionController(Controller):
    path = "/api/v1/me/sessions"
    tags = ["auth"]
    guards = [citizen_only]

    @get("/")
    async def list_sessions(self, request: PrincipalRequest) -> Page[SessionOut]:
        """The devices signed in to this account; `current` marks the one asking."""
        return Page(items=await sessions.list_sessions(request.user.object_id, request.user.session_id))

    @delete("/{session_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def sign_out(self, request: PrincipalRequest, session_id: FromPath[str]) -> None:
        """Sign one device out: its tokens stop working at once."""
        await sessions.sign_out_session(request.user.object_id, session_id)
