"""Fixtures of the dossier suite."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from devtools.devstack import ManagedProcess
from tests.integration.conftest import AgencyHandle, CitizenHandle
from tests.support import new_national_id, new_phone, register


@pytest.fixture
async def simulator(payment_simulator: ManagedProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=payment_simulator.url or "", timeout=20) as client:
        yield client


@pytest.fixture(scope="module")
async def shared_citizen(api: httpx.AsyncClient) -> CitizenHandle:
    """One citizen (level 2, one phone, English) for a whole module: signing up hashes
    passwords, which is slow on purpose; the dossiers each test makes are its own."""
    return await new_citizen(api, devices=1, locale="en", eid_level=2)


@pytest.fixture(scope="module")
async def module_agency(api: httpx.AsyncClient) -> Callable[[list[str]], Awaitable[AgencyHandle]]:
    """An agency per set of procedures, made once per module."""
    made: dict[tuple[str, ...], AgencyHandle] = {}

    async def get(services: list[str]) -> AgencyHandle:
        key = tuple(sorted(services))
        if key not in made:
            made[key] = await new_agency(api, services)
        return made[key]

    return get


async def new_citizen(
    api: httpx.AsyncClient, devices: int = 1, locale: str = "en", eid_level: int | None = None
) -> CitizenHandle:
    from models.citizen import Citizen

    password = "correct horse battery staple"
    national_id, phone = new_national_id(), new_phone()
    created = await register(api, national_id=national_id, phone=phone, password=password)
    assert created.status_code == 201, created.text
    if eid_level is not None:
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
    return citizen


async def new_agency(api: httpx.AsyncClient, services: list[str]) -> AgencyHandle:
    from app.cli import create_agency

    code = f"AG{secrets.token_hex(3).upper()}"
    creds = await create_agency(code, f"Test agency {code}", services, [], [])  # type: ignore[call-arg]
    token = await api.post(
        "/api/v1/agency/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    assert token.status_code == 200, token.text
    return AgencyHandle(code, creds["client_id"], creds["client_secret"], token.json()["access_token"])
