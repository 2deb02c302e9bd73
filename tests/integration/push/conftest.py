"""Fixtures of the push suite: admins, citizens of a chosen province, private stacks (the
session's emulator, which lifts the faults a test set, is in tests/conftest.py)."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.integration.push.stack import PrivateStack
from tests.support import new_phone, register


@dataclass
class Admin:
    username: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def admin_token(api: httpx.AsyncClient, username: str, password: str, totp_secret: str | None) -> str:
    body = {"username": username, "password": password}
    if totp_secret:
        import pyotp

        body["otp"] = pyotp.TOTP(totp_secret).now()
    answer = await api.post("/api/v1/staff/token", json=body)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.fixture
def make_admin(api: httpx.AsyncClient) -> Callable[[], Awaitable[Admin]]:
    """A staff member with role `admin`, created the way `cwallet staff create` does."""

    async def make() -> Admin:
        from app.cli import create_staff

        username = f"admin.{secrets.token_hex(3)}"
        creds = await create_staff(username, "admin")
        return Admin(username, await admin_token(api, username, creds["password"], creds.get("totp_secret")))

    return make


@dataclass
class Resident:
    national_id: str
    access_token: str
    device_tokens: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def new_resident(api: httpx.AsyncClient, province: str, devices: int = 1, locale: str = "vi") -> Resident:
    """A citizen whose national ID starts with `province`, with `devices` phones."""
    password = "correct horse battery staple"
    # Century/sex digit 0 and year 90 agree with the default date of birth (1990).
    national_id = f"{province}090{random.randrange(10**6):06d}"
    created = await register(api, national_id=national_id, phone=new_phone(), password=password)
    assert created.status_code == 201, created.text
    login = await api.post("/api/v1/auth/token", json={"username": national_id, "password": password})
    assert login.status_code == 200, login.text
    resident = Resident(national_id, login.json()["access_token"])
    for _ in range(devices):
        token = f"fcm-{uuid.uuid4().hex}"
        answer = await api.post(
            "/api/v1/me/devices",
            json={"token": token, "platform": "android", "locale": locale},
            headers=resident.headers,
        )
        assert answer.status_code == 201, answer.text
        resident.device_tokens.append(token)
    return resident


@pytest.fixture
def make_resident(api: httpx.AsyncClient) -> Callable[..., Awaitable[Resident]]:
    async def make(province: str, devices: int = 1, locale: str = "vi") -> Resident:
        return await new_resident(api, province, devices, locale)

    return make


@pytest.fixture
def stacks() -> Iterator[list[PrivateStack]]:
    """The private systems a test starts (tests/integration/push/stack.py), each stopped after it."""
    started: list[PrivateStack] = []
    try:
        yield started
    finally:
        for stack in started:
            stack.stop()
