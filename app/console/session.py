"""The console's cookie sessions (decision 0027).

Signing in goes through the API's own sign-in (AuthService: password, one-time code, the
failed-sign-in throttle) and yields the same short-lived JWT the API hands out. The token
stays on the server, in the shared Redis store, under the SHA-256 of a random session id;
the browser holds only that id, in an HttpOnly, SameSite=Strict cookie (Secure in
production) that lives as long as the token. On each console request this middleware turns
the session back into the API's Principal, through the same token check and the same
`retrieve_principal`, and puts it where the API's JWT middleware would: `scope["user"]`. So
the console's routes use the API's guards unchanged, and a session ends by itself when its
token expires, at once when the person signs out, and at the next request when their
account is removed or disabled.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException
from litestar.middleware import ASGIMiddleware
from litestar.security.jwt import JWTAuth, Token
from litestar.stores.base import Store
from litestar.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.security import Principal
from models.common import utcnow

COOKIE = "cw_console"
STORE = "console-sessions"
PATH = "/console"
SessionKind = Literal["staff", "clerk"]


@dataclass(frozen=True)
class ConsoleSession:
    kind: SessionKind
    name: str
    expires_at: datetime


def _store(request_or_scope: Request[Any, Any, Any] | Scope) -> Store:
    app = request_or_scope.app if isinstance(request_or_scope, Request) else request_or_scope["litestar_app"]
    store: Store = app.stores.get(STORE)
    return store


def _key(session_id: str) -> str:
    # The store holds hashes: a copy of it opens no browser's session.
    return hashlib.sha256(session_id.encode()).hexdigest()


def cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        path=PATH,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
    )


async def start(
    request: Request[Any, Any, Any],
    response: Response[Any],
    settings: Settings,
    kind: SessionKind,
    name: str,
    token: str,
    seconds: int,
) -> None:
    """A new session (never the id the browser came with: no fixation) holding `token`."""
    if previous := request.cookies.get(COOKIE):
        await _store(request).delete(_key(previous))
    session_id = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(seconds=seconds)
    data = {"token": token, "kind": kind, "name": name, "expires_at": expires.isoformat()}
    await _store(request).set(_key(session_id), json.dumps(data), expires_in=seconds)
    response.set_cookie(cookie(settings, session_id, seconds))


async def end(request: Request[Any, Any, Any], response: Response[Any], settings: Settings) -> None:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        await _store(request).delete(_key(session_id))
        response.set_cookie(cookie(settings, "", 0))


def current(request: Request[Any, Any, Any]) -> ConsoleSession | None:
    found: ConsoleSession | None = request.scope.get("state", {}).get("console_session")
    return found


class ConsoleAuth(ASGIMiddleware):
    """Puts the signed-in person's Principal in `scope["user"]`, as the JWT middleware does for the API."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, jwt_auth: JWTAuth[Principal, Token]) -> None:
        self.jwt_auth = jwt_auth

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope, receive)
        session_id = request.cookies.get(COOKIE)
        raw = await _store(scope).get(_key(session_id)) if session_id else None
        if raw is not None:
            data = json.loads(raw)
            principal = await self._principal(data["token"], request)
            if principal is not None:
                scope["user"] = principal
                scope.setdefault("state", {})["console_session"] = ConsoleSession(
                    data["kind"], data["name"], datetime.fromisoformat(data["expires_at"])
                )
        await next_app(scope, receive, send)

    async def _principal(self, encoded: str, request: Request[Any, Any, Any]) -> Principal | None:
        auth = self.jwt_auth
        try:
            token = auth.token_cls.decode(
                encoded_token=encoded,
                secret=auth.token_secret,
                algorithm=auth.algorithm,
                audience=auth.accepted_audiences,
                issuer=auth.accepted_issuers,
                require_claims=auth.require_claims,
            )
        except (NotAuthorizedException, ImproperlyConfiguredException, ValueError):
            return None  # expired (the session has ended by itself) or not ours
        principal: Principal | None = await auth.retrieve_user_handler(token, request)  # type: ignore[misc]
        return principal
