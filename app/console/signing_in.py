"""Signing in and out of the console: the API's own sign-in (AuthService), then a cookie session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app.auth.schemas import AccessToken
from app.auth.service import AuthService
from app.config import Settings
from app.console import session
from app.console.pages import page, problem, see_other
from app.console.texts import Words, language
from app.errors import AppError

HOME = {"staff": "/console/support", "clerk": "/console/agency/dossiers"}


@dataclass
class SignInForm:
    username: str = ""
    password: str = ""
    otp: str = ""


Form = Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


def _sign_in_page(request: Request[Any, Any, Any], kind: str, status: int = 200, **context: Any) -> Template:
    words = Words(language(request))
    return page(
        request,
        "sign_in.html",
        status,
        kind=kind,
        action="/console/sign-in" if kind == "staff" else "/console/clerk/sign-in",
        heading=words.sign_in_staff if kind == "staff" else words.sign_in_clerk,
        **context,
    )


class SignInController(Controller):
    path = "/console"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Redirect:
        found = session.current(request)
        return see_other(HOME[found.kind] if found else "/console/sign-in")

    @get("/sign-in")
    async def staff_form(self, request: Request[Any, Any, Any]) -> Template:
        ended = request.query_params.get("ended") == "1"
        return _sign_in_page(request, "staff", message=Words(language(request)).session_over if ended else None)

    @get("/clerk/sign-in")
    async def clerk_form(self, request: Request[Any, Any, Any]) -> Template:
        return _sign_in_page(request, "clerk")

    @post("/sign-in")
    async def staff_sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        auth_service: NamedDependency[AuthService],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """Password and one-time code, checked (and throttled) as POST /api/v1/staff/token."""
        return await _sign_in(request, data, settings, "staff", auth_service.staff_token)

    @post("/clerk/sign-in")
    async def clerk_sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        auth_service: NamedDependency[AuthService],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        return await _sign_in(request, data, settings, "clerk", auth_service.clerk_token)

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Redirect:
        found = session.current(request)
        redirect = see_other("/console/clerk/sign-in" if found and found.kind == "clerk" else "/console/sign-in")
        await session.end(request, redirect, settings)
        return redirect


async def _sign_in(
    request: Request[Any, Any, Any],
    data: SignInForm,
    settings: Settings,
    kind: session.SessionKind,
    token_for: Callable[[str, str, str | None], Awaitable[AccessToken]],
) -> Response[Any]:
    username = data.username.strip()
    try:
        token = await token_for(username, data.password, data.otp.strip() or None)
    except AppError as exc:
        # The status is the API's (401 counts as a failed sign-in for the throttle).
        return _sign_in_page(request, kind, exc.status, problem=problem(exc, language(request)), username=data.username)
    redirect = see_other(HOME[kind])
    await session.start(request, redirect, settings, kind, username, token.access_token, token.expires_in)
    return redirect
