"""Every change a citizen makes through the API goes into the audit trail, recorded in one
place rather than in each route: what route, on what, which fields (names only), and result."""

from __future__ import annotations

import json
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from app.audit.service import record
from app.security import Principal

log = structlog.get_logger(__name__)
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _field_names(body: bytes | None) -> list[str]:
    if not body:
        return []
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    return sorted(parsed) if isinstance(parsed, dict) else []


class CitizenChangeAudit(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        method = str(scope.get("method", ""))
        if method not in CHANGING_METHODS:
            await next_app(scope, receive, send)
            return
        status: dict[str, int] = {}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await next_app(scope, receive, capture)
        user: Any = scope.get("user")
        if not isinstance(user, Principal) or user.kind != "citizen":
            return
        code = status.get("code", 500)
        route = scope.get("path_template") or scope.get("path", "")
        params = scope.get("path_params") or {}
        body = value_or_default(ScopeState.from_scope(scope).body, None)
        try:
            await record(
                user.object_id,
                "citizen",
                user.id,
                f"{method} {route}",
                ",".join(f"{k}={v}" for k, v in sorted(params.items())) or "-",
                client="citizen-app",
                result="ok" if code < 400 else f"refused:{code}",
                changed_fields=_field_names(body),
            )
        except Exception as exc:  # the change itself succeeded: never fail it for its record
            log.error("audit_record_failed", error_type=type(exc).__name__)
