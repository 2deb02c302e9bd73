"""Failed sign-ins are throttled per account and per client address.

Litestar's rate limiter (with the app's Redis store, so every API process counts together)
counts every request; a sign-in throttle must count only the failures, or a busy office
behind one address could not sign in at all. This subclass keeps Litestar's window and
storage format, refuses up front once a window is full, and records the request only when
it was answered 401.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from time import time
from typing import Any

from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    CacheObject,
    DurationUnit,
    RateLimitConfig,
    RateLimitMiddleware,
    get_remote_address,
)
from litestar.serialization import decode_json, encode_json
from litestar.stores.base import Store
from litestar.types import Message, Receive, Scope, Send

from app.citizens.identity import canonical_phone
from app.config import Settings
from app.errors import AppError, Text
from models.citizen import Citizen

# Sign-in routes and the body field that names the account being tried.
SIGN_IN_ROUTES: dict[str, tuple[str, str]] = {
    "/api/v1/auth/token": ("citizen", "username"),
    "/api/v1/staff/token": ("staff", "username"),
    "/api/v1/agency/token": ("agency", "client_id"),
    "/api/v1/citizens/claim": ("claim", "national_id"),
}


def too_many_failures(retry_after: int) -> AppError:
    return AppError(
        429,
        "too-many-failed-sign-ins",
        Text("Đăng nhập sai quá nhiều lần", "Too many failed sign-ins"),
        Text(
            "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {seconds} giây; nếu quên mật khẩu, hãy dùng chức năng quên "
            "mật khẩu.",
            "Too many failed sign-ins. Try again in {seconds} seconds; if you forgot the password, use password "
            "recovery.",
        ),
        params={"seconds": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def account_of(kind: str, raw: str) -> str:
    """One key per account however it is typed: `0912…` and `+84912…` are the same citizen."""
    value = raw.strip()
    if kind == "citizen" and not (len(value) == 12 and value.isdigit()):
        value = canonical_phone(value) or value.lower()
    return f"{kind}:{value}"


def _key(deployment: str, kind: str, value: str) -> str:
    # Hashed: the store must not become a list of who tried to sign in from where.
    return f"failed-sign-in:{deployment}:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


@dataclass
class SignInThrottleConfig(RateLimitConfig):
    # `rate_limit` (inherited) is the per-address window; this one is per account.
    per_account: tuple[DurationUnit, int] = ("hour", 10)
    # Deployments (or test runs) sharing one Redis count apart: the database name.
    deployment: str = "cwallet"


class FailedSignInThrottle(RateLimitMiddleware):
    config: SignInThrottleConfig

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = SIGN_IN_ROUTES.get(scope.get("path", "")) if scope.get("method") == "POST" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        app = scope["litestar_app"]
        request = app.request_class(scope, receive)
        deployment = self.config.deployment
        windows = [(_key(deployment, "address", get_remote_address(request)), self.config.rate_limit)]
        account = await self._account(request, *route)
        if account is not None:
            windows.append((_key(deployment, "account", account), self.config.per_account))
        store = self.config.get_store_from_app(app)
        now = int(time())
        for key, (unit, limit) in windows:
            window = await self._window(store, key, unit, now)
            if len(window.history) >= limit:
                raise too_many_failures(max(1, window.reset - now))

        status: dict[str, int] = {}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, capture)
        if status.get("code") == 401:
            async with self._lock:
                for key, (unit, _) in windows:
                    await self._record(store, key, unit)

    async def _account(self, request: Any, kind: str, field: str) -> str | None:
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return None
        value = body.get(field) if isinstance(body, dict) else None
        if not isinstance(value, str) or not value.strip():
            return None
        account = account_of(kind, value)
        if kind == "citizen" and account.startswith("citizen:+84"):
            # A phone number and the ID number are one account: count them together.
            citizen = await Citizen.find_one(Citizen.phone == account.removeprefix("citizen:"))
            if citizen is not None:
                account = account_of(kind, citizen.national_id)
        return account

    @staticmethod
    async def _window(store: Store, key: str, unit: DurationUnit, now: int) -> CacheObject:
        cached = await store.get(key)
        if cached:
            window = CacheObject(**decode_json(value=cached))
            if window.reset > now:
                return window
        return CacheObject(history=[], reset=now + DURATION_VALUES[unit])

    async def _record(self, store: Store, key: str, unit: DurationUnit) -> None:
        now = int(time())
        window = await self._window(store, key, unit, now)
        window.history = [now, *window.history]
        await store.set(key, encode_json(window), expires_in=max(1, window.reset - now))


def sign_in_throttle(settings: Settings) -> SignInThrottleConfig:
    return SignInThrottleConfig(
        rate_limit=("minute", settings.failed_sign_ins_per_address_minute),
        per_account=("hour", settings.failed_sign_ins_per_account_hour),
        deployment=settings.mongodb_db,
        middleware_class=FailedSignInThrottle,
        store="failed-sign-ins",
        set_rate_limit_headers=False,
    )
