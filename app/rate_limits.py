"""Request limits counted in Redis, atomically, so that every API process counts together and
parallel requests cannot slip past a limit.

Litestar's RateLimitMiddleware reads a window, checks it and writes it back: two round trips
and a lock that holds within one process only, so requests racing on two processes (or on one,
between its read and its write) are all let through. Here a window is one Redis counter that a
Lua script raises and checks in one step (INCR, EXPIRE when new): one round trip, no race.
`CallerRateLimit` keeps Litestar's configuration, headers (RateLimit-*) and store; only the
counting differs. The sign-in throttle (app/auth/throttle.py) uses the same windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import Message, Receive, Scope, Send
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.config import Settings
from app.errors import AppError, Text

log = structlog.get_logger(__name__)

# KEYS: windows; ARGV: limit, seconds for each. Raises every window; if one is then over its
# limit, lowers them all again and answers that window's seconds left: all slots or none.
_TAKE = """
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    ttl = tonumber(ARGV[2 * i])
    redis.call('EXPIRE', key, ttl)
  end
  if count > tonumber(ARGV[2 * i - 1]) then
    for j = 1, i do redis.call('DECR', KEYS[j]) end
    return {0, ttl}
  end
end
return {1, 0}
"""
# KEYS: windows; gives back one slot in each (never below zero).
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > 0 then redis.call('DECR', key) end
end
return 0
"""
# KEYS[1]: the window; ARGV[1]: its seconds. Counts one request: the count and seconds left.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('EXPIRE', KEYS[1], ttl)
end
return {count, ttl}
"""


@dataclass(frozen=True)
class Window:
    key: str
    limit: int
    seconds: int


class FixedWindows:
    """Counters in one of the app's Redis stores, each living `seconds` from its first count."""

    def __init__(self, store: Store) -> None:
        if not isinstance(store, RedisStore):
            raise TypeError("request limits need the Redis store: they must hold across API processes")
        self._store = store
        redis: Redis = store._redis
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)
        self._hit = redis.register_script(_HIT)

    def _keys(self, windows: Sequence[Window]) -> list[str]:
        return [self._store._make_key(window.key) for window in windows]

    async def take(self, windows: Sequence[Window]) -> int:
        """A slot in every window, or none: 0 when taken, else the seconds until one frees up."""
        args = [value for window in windows for value in (window.limit, window.seconds)]
        taken, seconds_left = await self._take(keys=self._keys(windows), args=args)
        return 0 if taken else max(1, int(seconds_left))

    async def give_back(self, windows: Sequence[Window]) -> None:
        await self._give_back(keys=self._keys(windows))

    async def hit(self, window: Window) -> tuple[int, int]:
        """Counts one request in the window: how many it now holds and its seconds left."""
        count, seconds_left = await self._hit(keys=self._keys([window]), args=[window.seconds])
        return int(count), max(1, int(seconds_left))


def windows_of(config: RateLimitConfig, scope: Scope) -> FixedWindows:
    """The windows over the config's store, made once per app (the scripts are registered once)."""
    app = scope["litestar_app"]
    cached: FixedWindows | None = getattr(app.state, f"_windows_{config.store}", None)
    if cached is None:
        cached = FixedWindows(config.get_store_from_app(app))
        setattr(app.state, f"_windows_{config.store}", cached)
    return cached


def too_many_requests(retry_after: int, headers: dict[str, str]) -> AppError:
    return AppError(
        429,
        "too-many-requests",
        Text("Quá nhiều yêu cầu", "Too many requests"),
        Text(
            "Bạn đã gửi quá nhiều yêu cầu trong một phút. Hãy thử lại sau {seconds} giây.",
            "Too many requests in a minute. Try again in {seconds} seconds.",
        ),
        params={"seconds": retry_after},
        headers={**headers, "Retry-After": str(retry_after)},
    )


@dataclass
class CallerRateLimitConfig(RateLimitConfig):
    # `rate_limit` (inherited) is the window of signed-in citizens, staff and postal operators.
    agency_per_minute: int = 3000
    address_per_minute: int = 1200
    # Deployments (or test runs) sharing one Redis count apart: the database name.
    deployment: str = "cwallet"
    exclude: str | list[str] | None = field(
        # Probes, the scraper (it has a token of its own) and the payment provider's signed callback.
        default_factory=lambda: ["^/health", "^/metrics", "^/api/v1/payments/callback$"]
    )


class CallerRateLimit(RateLimitMiddleware):
    """Requests a minute per caller: the signed-in principal (the JWT middleware runs first),
    else the client address (app/client_address.py makes it the real one)."""

    config: CallerRateLimitConfig

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key, limit = self._caller(scope)
        if limit <= 0:
            await self.app(scope, receive, send)
            return
        seconds = DURATION_VALUES["minute"]
        try:
            count, reset = await windows_of(self.config, scope).hit(Window(key, limit, seconds))
        except RedisError as exc:
            # Open, not shut: a Redis outage must not take every read down with it (the
            # sign-in throttle, which guards passwords, stays shut).
            _warn_unlimited(exc)
            await self.app(scope, receive, send)
            return
        headers = {
            self.config.rate_limit_policy_header_key: f"{limit}; w={seconds}",
            self.config.rate_limit_limit_header_key: str(limit),
            self.config.rate_limit_remaining_header_key: str(max(0, limit - count)),
            self.config.rate_limit_reset_header_key: str(reset),
        }
        if count > limit:
            raise too_many_requests(reset, headers)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)

    def _caller(self, scope: Scope) -> tuple[str, int]:
        prefix = f"requests:{self.config.deployment}"
        user: Any = scope.get("user")
        kind, ident = getattr(user, "kind", None), getattr(user, "id", None)
        if isinstance(kind, str) and isinstance(ident, str):
            limit = self.config.agency_per_minute if kind == "agency" else self.max_requests
            return f"{prefix}:{kind}:{ident}", limit
        client = scope.get("client")
        address = client[0] if client else "unknown"
        return f"{prefix}:address:{address}", self.config.address_per_minute


def _warn_unlimited(exc: RedisError, every_seconds: float = 10.0) -> None:
    now = monotonic()
    if now - _last_warning[0] >= every_seconds:  # once in a while, not once a request
        _last_warning[0] = now
        log.warning("request_limits_unavailable", error_type=type(exc).__name__)


_last_warning = [float("-inf")]


def caller_rate_limit(settings: Settings) -> CallerRateLimitConfig:
    return CallerRateLimitConfig(
        rate_limit=("minute", settings.requests_per_minute_signed_in),
        agency_per_minute=settings.requests_per_minute_agency,
        address_per_minute=settings.requests_per_minute_per_address,
        deployment=settings.mongodb_db,
        middleware_class=CallerRateLimit,
        store="rate-limits",
    )
