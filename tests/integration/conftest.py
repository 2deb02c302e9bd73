"""Factories for the integration tests: citizens, devices and agencies, created through the real API
(and, for agencies, the same service function the `cwallet` CLI calls)."""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from arq import ArqRedis

from devtools.devstack import ManagedProcess, http_answers, start_process, wait_until
from tests.conftest import CALLBACK_API_PORT
from tests.integration.command_log import store_commands  # noqa: F401  (a fixture; its listener before any client)
from tests.support import new_national_id, new_phone, register, remember_secrets

# Keys of stored documents that must never reach a caller, whatever the route.
INTERNAL_KEYS = frozenset(
    {
        "_id",
        "revision_id",
        "password",
        "password_hash",
        "client_secret_hash",
        "previous_secret_hash",
        "totp_secret",
        "totp_last_step",
        "refresh_token_hash",
        "rotated_token_hashes",
        "claim_code_hash",
        "guardian_ids",
        "tracking_secret_hash",
    }
)


def _internal_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        found = INTERNAL_KEYS & set(value)
        for item in value.values():
            found |= _internal_keys(item)
        return found
    if isinstance(value, list):
        return set().union(*(_internal_keys(item) for item in value)) if value else set()
    return set()


@pytest.fixture(autouse=True)
def no_internal_fields_in_any_response(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every answer the API gives in any integration test is checked: no password hash, secret
    or internal field, at any depth."""
    if "api" not in request.fixturenames:
        yield
        return
    api: httpx.AsyncClient = request.getfixturevalue("api")

    async def check(response: httpx.Response) -> None:
        await response.aread()
        if response.request.url.path.startswith("/schema"):
            return  # the API description names input fields such as `password`, by design
        assert b"$argon2" not in response.content, response.request.url.path
        if response.headers.get("content-type", "").split(";")[0].endswith("json") and response.content:
            leaked = _internal_keys(response.json())
            assert not leaked, f"{response.request.method} {response.request.url.path} answered {sorted(leaked)}"

    api.event_hooks["response"].append(check)
    try:
        yield
    finally:
        api.event_hooks["response"].remove(check)


@dataclass
class CitizenHandle:
    national_id: str
    phone: str
    password: str
    id: str
    access_token: str
    refresh_token: str
    device_tokens: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class AgencyHandle:
    code: str
    client_id: str
    client_secret: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture
async def pool() -> AsyncIterator[ArqRedis]:
    """The app's queue in Redis, as the API and the crons open it (a module may define its own)."""
    from app.config import get_settings
    from app.queue import open_pool

    redis = await open_pool(get_settings())
    try:
        yield redis
    finally:
        await redis.aclose()


@pytest.fixture
def make_citizen(api: httpx.AsyncClient) -> Callable[..., Awaitable[CitizenHandle]]:
    async def make(devices: int = 1, locale: str = "vi", eid_level: int | None = None) -> CitizenHandle:
        password = "correct horse battery staple"
        national_id, phone = new_national_id(), new_phone()
        created = await register(api, national_id=national_id, phone=phone, password=password)
        assert created.status_code == 201, created.text
        if eid_level is not None:
            from models.citizen import Citizen

            await Citizen.get_pymongo_collection().update_one(
                {"national_id": national_id}, {"$set": {"eid_level": eid_level}}
            )
        login = await api.post("/api/v1/auth/token", json={"username": national_id, "password": password})
        assert login.status_code == 200, login.text
        tokens = login.json()
        citizen = CitizenHandle(
            national_id=national_id,
            phone=phone,
            password=password,
            id=created.json()["id"],
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )
        for _ in range(devices):
            token = f"fcm-{uuid.uuid4().hex}"
            answer = await api.post(
                "/api/v1/me/devices",
                json={"token": token, "platform": "android", "locale": locale},
                headers=citizen.headers,
            )
            assert answer.status_code == 201, answer.text
            citizen.device_tokens.append(token)
        remember_secrets(
            citizen.national_id, citizen.phone, "+84" + citizen.phone[1:], citizen.password,
            citizen.access_token, citizen.refresh_token, *citizen.device_tokens,
        )  # fmt: skip
        return citizen

    return make


@pytest.fixture
def make_agency(api: httpx.AsyncClient) -> Callable[..., Awaitable[AgencyHandle]]:
    async def make(services: list[str], code: str | None = None, scopes: Sequence[str] = ()) -> AgencyHandle:
        from app.cli import create_agency
        from models.agency import Agency

        code = code or f"AG{secrets.token_hex(3).upper()}"
        creds = await create_agency(code, f"Test agency {code}", services, [], scopes)  # type: ignore[arg-type]
        assert await Agency.find_one(Agency.code == code) is not None
        token = await api.post(
            "/api/v1/agency/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
        )
        assert token.status_code == 200, token.text
        remember_secrets(creds["client_secret"], token.json()["access_token"])
        return AgencyHandle(code, creds["client_id"], creds["client_secret"], token.json()["access_token"])

    return make


@dataclass
class StaffHandle:
    username: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture
def make_staff(api: httpx.AsyncClient) -> Callable[..., Awaitable[StaffHandle]]:
    async def make(office: str = "Bưu điện Trung tâm 3, Hà Nội", role: str = "support") -> StaffHandle:
        from app.cli import create_staff
        from models.agency import Staff

        username = f"staff.{secrets.token_hex(3)}"
        creds = await create_staff(username, role)  # type: ignore[arg-type]
        await Staff.get_pymongo_collection().update_one({"username": username}, {"$set": {"office": office}})
        body = {"username": username, "password": creds["password"]}
        if "totp_secret" in creds:
            import pyotp

            body["otp"] = pyotp.TOTP(creds["totp_secret"]).now()
        token = await api.post("/api/v1/staff/token", json=body)
        assert token.status_code == 200, token.text
        remember_secrets(creds["password"], creds.get("totp_secret"), token.json()["access_token"])
        return StaffHandle(username, token.json()["access_token"])

    return make


@pytest.fixture(scope="session")
def callback_api(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    """A second API process: the same app as the in-process `api`, served over HTTP on the
    port the payment simulator calls back (PAYMENT_NOTIFY_URL), sharing the store, the queue
    and Redis. Tests of what one process must learn from another use it too."""
    log_path: Path = tmp_path_factory.mktemp("callback-api") / "api.log"
    url = f"http://127.0.0.1:{CALLBACK_API_PORT}"
    argv = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
            "--host", "127.0.0.1", "--port", str(CALLBACK_API_PORT), "--no-proxy-headers"]  # fmt: skip
    proc = start_process("callback-api", argv, {**os.environ, **stack_env}, log_path, url=url)
    try:
        wait_until(proc, lambda: http_answers(f"{url}/health/live"), "/health/live", 60)
        yield proc
    finally:
        proc.stop()
