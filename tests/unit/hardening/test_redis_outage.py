"""With Redis unreachable, request limits let reads through (an outage of the limiter must not
take the API down), while the sign-in throttle stays shut: no password is checked uncounted."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get, post
from litestar.stores.redis import RedisStore
from litestar.testing import AsyncTestClient

from app.auth.throttle import sign_in_throttle
from app.config import Settings
from app.rate_limits import caller_rate_limit
from devtools.devstack import free_port

reached: list[str] = []


@get("/api/v1/me/documents", sync_to_thread=False)
def wallet() -> dict[str, Any]:
    reached.append("wallet")
    return {"items": []}


@post("/api/v1/auth/token", status_code=200, sync_to_thread=False)
def sign_in() -> dict[str, Any]:
    reached.append("sign-in")
    return {}


async def test_limits_open_and_the_sign_in_throttle_shut_while_redis_is_unreachable() -> None:
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    unreachable = RedisStore.with_client(url=settings.redis_url)
    app = Litestar(
        route_handlers=[wallet, sign_in],
        middleware=[caller_rate_limit(settings).middleware, sign_in_throttle(settings).middleware],
        stores={"rate-limits": unreachable, "failed-sign-ins": unreachable},
    )
    async with AsyncTestClient(app) as client:
        read = await client.get("/api/v1/me/documents")
        assert read.status_code == 200
        assert "ratelimit-limit" not in read.headers
        tried = await client.post("/api/v1/auth/token", json={"username": "079090001234", "password": "x"})
        assert tried.status_code >= 500
    assert reached == ["wallet"]
