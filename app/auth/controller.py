from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from app.auth.schemas import AccessToken, ClientCredentialsIn, LoginIn, RefreshIn, StaffLoginIn, TokenPair
from app.auth.service import AuthService
from app.security import AnyRequest, PrincipalRequest, citizen_only


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post("/auth/token", status_code=HTTP_200_OK, security=[])
    async def citizen_token(
        self, data: JSONBody[LoginIn], request: AnyRequest, auth_service: NamedDependency[AuthService]
    ) -> TokenPair:
        """Sign in with national ID (or phone) and password."""
        return await auth_service.login_citizen(data.username, data.password, request.headers.get("user-agent"))

    @post("/auth/refresh", status_code=HTTP_200_OK, security=[])
    async def refresh(self, data: JSONBody[RefreshIn], auth_service: NamedDependency[AuthService]) -> TokenPair:
        """Swap a refresh token for a new pair; the old refresh token stops working."""
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

    @post("/staff/token", status_code=HTTP_200_OK, security=[])
    async def staff_token(
        self, data: JSONBody[StaffLoginIn], auth_service: NamedDependency[AuthService]
    ) -> AccessToken:
        """Sign-in for support staff and admins."""
        return await auth_service.staff_token(data.username, data.password)
