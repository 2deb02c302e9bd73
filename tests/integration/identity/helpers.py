"""Plain helpers for the identity tests (fixtures live in conftest.py)."""

from __future__ import annotations

import random
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pyotp
from litestar import Litestar

from app.citizens.identity import national_id_for

PASSWORD = "correct horse battery staple"


def app_of(api: httpx.AsyncClient) -> Litestar:
    transport = api._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    assert isinstance(app, Litestar)
    return app


@asynccontextmanager
async def client_from(api: httpx.AsyncClient, address: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The same app seen from another client address (loopback range; no traffic leaves the
    process), so throttling tests start from a clean per-address window."""
    address = address or f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    transport = httpx.ASGITransport(app=app_of(api), client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://cwallet.test") as client:
        client.event_hooks["response"] = list(api.event_hooks["response"])
        yield client


def years_ago(years: int, days: int = 0, today: date | None = None) -> date:
    today = today or date.today()
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        anniversary = today.replace(year=today.year - years, day=28)
    return anniversary + timedelta(days=days)


def random_id_for(born: date) -> str:
    return national_id_for(born, province="079", female=random.random() < 0.5, serial=random.randrange(10**6))


@dataclass
class StaffMember:
    username: str
    password: str
    totp_secret: str
    role: str

    def login_body(self, otp: str | None = None) -> dict[str, Any]:
        return {"username": self.username, "password": self.password, "otp": otp or pyotp.TOTP(self.totp_secret).now()}


async def new_staff(role: str = "support") -> StaffMember:
    """Made with the function behind `cwallet staff create`."""
    from app.cli import create_staff

    username = f"id.{role}.{secrets.token_hex(3)}"
    creds = await create_staff(username, role)
    return StaffMember(username, creds["password"], creds["totp_secret"], role)


async def staff_token(api: httpx.AsyncClient, member: StaffMember) -> dict[str, str]:
    answer = await api.post("/api/v1/staff/token", json=member.login_body())
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
