"""Failed sign-ins are throttled per account and per client address; the throttle answers 429
with Retry-After, as problem+json, and successful sign-ins are not counted."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from app.config import get_settings
from tests.integration.identity.helpers import client_from
from tests.support import new_national_id


async def fail(client: httpx.AsyncClient, username: str, password: str = "wrong password here") -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}, headers={"Accept-Language": "en"}
    )


def assert_throttled(answer: httpx.Response) -> int:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "too-many-failed-sign-ins"
    retry_after = int(answer.headers["retry-after"])
    assert retry_after >= 1
    assert str(retry_after) in answer.json()["detail"]
    return retry_after


async def test_an_account_is_throttled_from_every_address(api: httpx.AsyncClient, make_citizen: Any) -> None:
    limit = get_settings().failed_sign_ins_per_account_hour
    citizen = await make_citizen(devices=0)
    # Spread over addresses, each far below the per-address limit: the per-account window
    # is what stops them; the phone and the ID number are the same account.
    for attempt in range(limit):
        async with client_from(api) as client:
            username = citizen.phone if attempt % 2 else citizen.national_id
            assert (await fail(client, username)).status_code == 401
    async with client_from(api) as client:
        assert_throttled(await fail(client, "+84" + citizen.phone[1:]))
        # Even the right password waits: the guesser must not learn it was right.
        assert_throttled(await fail(client, citizen.national_id, citizen.password))
        # Another account from the same address is not affected.
        assert (await fail(client, new_national_id())).status_code == 401


async def test_an_address_is_throttled_across_accounts(api: httpx.AsyncClient, make_citizen: Any) -> None:
    limit = get_settings().failed_sign_ins_per_address_minute
    bystander = await make_citizen(devices=0)
    async with client_from(api) as sprayer:
        for _ in range(limit):
            assert (await fail(sprayer, new_national_id())).status_code == 401
        assert_throttled(await fail(sprayer, new_national_id()))
        assert_throttled(await fail(sprayer, bystander.national_id, bystander.password))
    async with client_from(api) as elsewhere:
        ok = await elsewhere.post(
            "/api/v1/auth/token", json={"username": bystander.national_id, "password": bystander.password}
        )
        assert ok.status_code == 200


async def test_successful_sign_ins_are_not_counted(api: httpx.AsyncClient, make_citizen: Any) -> None:
    limit = get_settings().failed_sign_ins_per_account_hour
    citizen = await make_citizen(devices=0)
    async with client_from(api) as client:
        for _ in range(limit + 2):
            ok = await client.post(
                "/api/v1/auth/token", json={"username": citizen.national_id, "password": citizen.password}
            )
            assert ok.status_code == 200


async def test_staff_and_agency_sign_ins_are_throttled_too(api: httpx.AsyncClient, make_agency: Any) -> None:
    limit = get_settings().failed_sign_ins_per_account_hour
    agency = await make_agency(["CRIMINAL_RECORD"])
    for _ in range(limit):
        async with client_from(api) as client:
            bad = await client.post(
                "/api/v1/agency/token", json={"client_id": agency.client_id, "client_secret": "not the secret"}
            )
            assert bad.status_code == 401
    async with client_from(api) as client:
        assert_throttled(
            await client.post(
                "/api/v1/agency/token", json={"client_id": agency.client_id, "client_secret": agency.client_secret}
            )
        )
        attempt = {"username": f"nobody.{secrets.token_hex(4)}", "password": "x" * 12, "otp": "123456"}
        for _ in range(limit):
            assert (await client.post("/api/v1/staff/token", json=attempt)).status_code == 401
        assert_throttled(await client.post("/api/v1/staff/token", json=attempt))
