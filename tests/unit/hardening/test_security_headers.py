"""The headers hook: HSTS only in production; personal answers are never kept by a cache."""

from __future__ import annotations

from typing import Any

from app.config import Settings
from app.security_headers import security_headers


async def answer_headers(settings: Settings, path: str, authorization: bool = False) -> dict[str, str]:
    message: Any = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
    scope: Any = {"type": "http", "path": path, "headers": [(b"authorization", b"Bearer x")] if authorization else []}
    await security_headers(settings)(message, scope)
    return {name.decode().lower(): value.decode() for name, value in message["headers"]}


async def test_hsts_in_production_only() -> None:
    production = await answer_headers(Settings(environment="production"), "/api/v1/me/documents")
    assert production["strict-transport-security"].startswith("max-age=")
    development = await answer_headers(Settings(), "/api/v1/me/documents")
    assert "strict-transport-security" not in development
    for headers in (production, development):
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"


async def test_the_public_catalogue_may_be_cached_unless_asked_with_a_token() -> None:
    assert "cache-control" not in await answer_headers(Settings(), "/api/v1/services")
    assert "cache-control" not in await answer_headers(Settings(), "/.well-known/jwks.json")
    # With a token, a procedure's page reads the caller's wallet (prefill): personal.
    assert (await answer_headers(Settings(), "/api/v1/services/DL_RENEWAL", True))["cache-control"] == "no-store"


async def test_an_answer_may_allow_its_own_origin_to_frame_it() -> None:
    """The console previews a dossier's PDF in a frame: that answer says so itself; others never may."""
    message: Any = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"x-frame-options", b"SAMEORIGIN"), (b"content-security-policy", b"frame-ancestors 'self'")],
    }
    await security_headers(Settings())(message, {"type": "http", "path": "/console/x", "headers": []})
    headers = {name.decode().lower(): value.decode() for name, value in message["headers"]}
    assert headers["x-frame-options"] == "SAMEORIGIN" and headers["content-security-policy"] == "frame-ancestors 'self'"
    assert headers["cache-control"] == "no-store"
