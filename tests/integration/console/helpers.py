"""Helpers of the console's tests: people with accounts (not yet signed in), and signing in
through the console's own forms (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp

from tests.support import remember_secrets

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class Person:
    """A staff member or a clerk: what they type at the sign-in form."""

    username: str
    password: str
    totp_secret: str
    kind: str  # "staff" or "clerk"
    agency_code: str | None = None

    def code(self) -> str:
        """A one-time code not used yet: each 30-second step signs in once, so a second sign-in
        by the same person takes the next step's code (accepted: clocks drift one step)."""
        return pyotp.TOTP(self.totp_secret).at(time.time() + 30 * _next_offset(self.username))

    @property
    def sign_in_path(self) -> str:
        return "/console/sign-in" if self.kind == "staff" else "/console/clerk/sign-in"


_USES: dict[str, int] = {}


def _next_offset(username: str) -> int:
    offset = _USES.get(username, -1) + 1
    assert offset <= 1, "a person signs in at most twice per test"
    _USES[username] = offset
    return offset


async def new_staff(office: str = "Bưu điện Trung tâm 3, Hà Nội", role: str = "support") -> Person:
    from app.cli import create_staff
    from models.agency import Staff

    username = f"desk.{secrets.token_hex(3)}"
    creds = await create_staff(username, role)
    await Staff.get_pymongo_collection().update_one({"username": username}, {"$set": {"office": office}})
    remember_secrets(creds["password"], creds["totp_secret"])
    return Person(username, creds["password"], creds["totp_secret"], "staff")


async def new_clerk(agency_code: str, role: str = "clerk") -> Person:
    from app.auth import clerks

    username = f"clerk.{secrets.token_hex(3)}"
    creds = await clerks.create(agency_code, username, role)  # type: ignore[arg-type]
    remember_secrets(creds["password"], creds["totp_secret"])
    return Person(username, creds["password"], creds["totp_secret"], "clerk", agency_code)


def csrf_of(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def form_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def sign_in(client: httpx.AsyncClient, person: Person, **changes: str) -> httpx.Response:
    token = await form_token(client, person.sign_in_path)
    form = {"username": person.username, "password": person.password, "_csrf_token": token, **changes}
    if "otp" not in form:
        form["otp"] = person.code()  # a fresh code only when the test gives none
    return await client.post(person.sign_in_path, data=form)


async def post_form(client: httpx.AsyncClient, page_path: str, path: str, form: dict[str, Any]) -> httpx.Response:
    """Send a form as the browser does: its CSRF token is read from the page that shows it."""
    token = await form_token(client, page_path)
    return await client.post(path, data={**form, "_csrf_token": token})
