"""Failed sign-ins are throttled per account and per client address, and a device that has
signed in before has a window of its own (decision 0018).

A slot is taken in the windows BEFORE the password is checked, atomically in Redis for every
API process (app/rate_limits.py): with N wrong passwords sent at once, at most the limit are
checked; the others are answered 429 without a look at the password. A try that was not a
failure (signed in, locked account, invalid body) gives its slot back, so a busy office behind
one address is held back by its failures only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from litestar.middleware.rate_limit import DURATION_VALUES, DurationUnit, RateLimitConfig, RateLimitMiddleware
from litestar.types import Message, Receive, Scope, Send

from app.auth import known_devices, store
from app.auth.phone import canonical_phone
from app.config import Settings
from app.errors import AppError, Text
from app.rate_limits import Window, windows_of

# Sign-in routes and the body field that names the account being tried.
SIGN_IN_ROUTES: dict[str, tuple[str, str]] = {
    "/api/v1/auth/token": ("citizen", "username"),
    "/api/v1/staff/token": ("staff", "username"),
    "/api/v1/agency/token": ("agency", "client_id"),
    "/api/v1/citizens/claim": ("claim", "national_id"),
    # The console's sign-in forms (app/console): the same windows as the API's.
    "/console/sign-in": ("staff", "username"),
    "/console/clerk/sign-in": ("clerk", "username"),
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
    return f"sign-in-failures:{deployment}:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


@dataclass
class SignInThrottleConfig(RateLimitConfig):
    # `rate_limit` (inherited) is the per-address window; these are per account and per device.
    per_account: tuple[DurationUnit, int] = ("hour", 10)
    per_device: tuple[DurationUnit, int] = ("hour", 5)
    # Deployments (or test runs) sharing one Redis count apart: the database name.
    deployment: str = "cwallet"
    # Checks known-device tokens (their key derives from the settings' JWT secret).
    settings: Settings | None = None


class FailedSignInThrottle(RateLimitMiddleware):
    config: SignInThrottleConfig

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = SIGN_IN_ROUTES.get(scope.get("path", "")) if scope.get("method") == "POST" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        request = scope["litestar_app"].request_class(scope, receive)
        body = _parsed(await request.body(), request.content_type[0])
        windows = await self._windows(scope, *route, body if isinstance(body, dict) else {})
        counters = windows_of(self.config, scope)
        retry_after = await counters.take(windows)
        if retry_after:
            raise too_many_failures(retry_after)

        status: dict[str, int] = {}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            # Any answer but 401 was not a wrong password: its slot goes back. A try that ended
            # without an answer may have checked the password, so it stays counted.
            if status.get("code", 401) != 401:
                await counters.give_back(windows)

    def _window(self, kind: str, value: str, per: tuple[DurationUnit, int]) -> Window:
        unit, limit = per
        return Window(_key(self.config.deployment, kind, value), limit, DURATION_VALUES[unit])

    async def _windows(self, scope: Scope, kind: str, field: str, body: dict[str, Any]) -> list[Window]:
        account = await self._account(kind, body.get(field))
        settings = self.config.settings
        if account is not None and settings is not None and kind == "citizen":
            device = known_devices.device_of(settings, account, body.get("device_token"))
            if device is not None:
                # A device that signed in before: strangers' windows do not hold it back.
                return [self._window("device", device, self.config.per_device)]
        client = scope.get("client")
        windows = [self._window("address", client[0] if client else "unknown", self.config.rate_limit)]
        if account is not None:
            windows.append(self._window("account", account, self.config.per_account))
        return windows

    @staticmethod
    async def _account(kind: str, value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        account = account_of(kind, value)
        if kind == "citizen" and account.startswith("citizen:+84"):
            # A phone number and the ID number are one account: count them together.
            citizen = await store.citizen_by_phone(account.removeprefix("citizen:"))
            if citizen is not None:
                account = account_of(kind, citizen.national_id)
        return account


def _parsed(raw: bytes, media_type: str) -> Any:
    """The body as a dict: JSON for the API, a urlencoded form for the console."""
    try:
        if media_type == "application/x-www-form-urlencoded":
            return {k: v[0] for k, v in parse_qs(raw.decode(), max_num_fields=20).items()}
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def sign_in_throttle(settings: Settings) -> SignInThrottleConfig:
    return SignInThrottleConfig(
        rate_limit=("minute", settings.failed_sign_ins_per_address_minute),
        per_account=("hour", settings.failed_sign_ins_per_account_hour),
        per_device=("hour", settings.failed_sign_ins_per_device_hour),
        deployment=settings.mongodb_db,
        settings=settings,
        middleware_class=FailedSignInThrottle,
        store="failed-sign-ins",
        set_rate_limit_headers=False,
    )
