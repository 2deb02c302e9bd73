"""Security headers on every answer (a `before_send` hook: one dict merge per response).

Personal answers must never be kept by a browser or a shared cache, so everything is
`Cache-Control: no-store` except what is the same for everyone and asked without a token
(the catalogue, the document-type registry, the signing keys, the API description, the
console's script and style files), whose
handlers may say how long to keep it.
"""

from __future__ import annotations

import re

from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from app.config import Settings

PUBLIC_PATHS = re.compile(
    r"^(/api/v1/services(/[^/]+)?/?|/api/v1/document-types/?|/\.well-known/jwks\.json|/schema(/.*)?|/health/.*"
    r"|/console/static/[^/]+)$"
)
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
HSTS = "max-age=63072000; includeSubDomains"
OWN_POLICY_ALLOWED = frozenset({"Content-Security-Policy", "X-Frame-Options"})


def security_headers(settings: Settings) -> BeforeMessageSendHookHandler:
    always = {**ALWAYS, **({"Strict-Transport-Security": HSTS} if settings.environment == "production" else {})}

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in always.items():
            # A page with a framing policy of its own keeps it (a CSP should say frame-ancestors
            # too): the console previews a dossier's PDF in a frame of its own origin.
            if name not in OWN_POLICY_ALLOWED or name not in headers:
                headers[name] = value
        # A token may make a public path personal (a procedure's prefill reads the wallet).
        public = PUBLIC_PATHS.match(scope.get("path", "")) and not _has_authorization(scope)
        if not public:
            headers["Cache-Control"] = "no-store"

    return add_headers


def _has_authorization(scope: Scope) -> bool:
    return any(name == b"authorization" for name, _ in scope.get("headers", ()))
