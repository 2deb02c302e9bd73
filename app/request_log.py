"""One log line per request that needs looking at: an answer of 400 or more, or a slow one.

Litestar's logging middleware wrote two lines for every request (request and response),
each through the redacting structlog chain: about a quarter of the API's CPU on a wallet
read (decision 0025). Volumes, statuses and latencies of every request are Prometheus's
job (/metrics, per route); the log keeps what a person reads: refusals, failures and
requests slower than SLOW_SECONDS. Method, path and status only, as before: bodies,
headers and query strings can carry personal data and tokens.
"""

from __future__ import annotations

import time

import structlog
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("app.requests")
SLOW_SECONDS = 1.0
QUIET_PATHS = ("/health", "/metrics")


class RequestLog(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, capture)
        finally:
            seconds = time.perf_counter() - started
            path = str(scope.get("path", ""))
            if (status >= 400 or seconds >= SLOW_SECONDS) and not path.startswith(QUIET_PATHS):
                log.info(
                    "HTTP Response",
                    method=scope.get("method"),
                    path=path,
                    status_code=status,
                    duration_ms=round(seconds * 1000, 1),
                )
