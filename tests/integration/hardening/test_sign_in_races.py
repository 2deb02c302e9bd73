"""Sign-in throttles hold when the tries come all at once, on one API process or on two: of
4 x limit wrong passwords fired together, exactly `limit` are checked (401) and the others are
answered 429 with Retry-After, before any look at the password."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from app.config import get_settings
from devtools.devstack import ManagedProcess
from tests.integration.hardening.conftest import client_at
from tests.integration.identity.helpers import client_from
from tests.support import new_national_id

CITIZEN_TOKEN = "/api/v1/auth/token"
WRONG = "wrong password here"


def tally(answers: list[httpx.Response]) -> Counter[int]:
    for answer in answers:
        if answer.status_code == 429:
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["code"] == "too-many-failed-sign-ins"
            assert int(answer.headers["retry-after"]) >= 1
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {401, 429}, statuses
    return statuses


async def from_fresh_address(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    async with client_from(api) as client:
        return await client.post(path, json=body)


async def test_wrong_passwords_at_once_on_one_account_are_checked_at_most_limit_times(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    limit = get_settings().failed_sign_ins_per_account_hour
    citizen = await make_citizen(devices=0)
    # Each try from an address of its own: the account's window is what must hold.
    body = {"username": citizen.national_id, "password": WRONG}
    answers = await asyncio.gather(*(from_fresh_address(api, CITIZEN_TOKEN, body) for _ in range(4 * limit)))
    assert tally(list(answers)) == {401: limit, 429: 3 * limit}
    right = await from_fresh_address(
        api, CITIZEN_TOKEN, {"username": citizen.national_id, "password": citizen.password}
    )
    assert right.status_code == 429  # a stranger's device, even with the right password: slowed down


async def test_the_account_limit_holds_across_two_api_processes(
    api: httpx.AsyncClient, callback_api: ManagedProcess, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    limit = get_settings().failed_sign_ins_per_account_hour
    citizen = await make_citizen(devices=0)
    body = {"username": citizen.national_id, "password": WRONG}

    async def through_other_process() -> httpx.Response:
        async with client_at(callback_api.url or "") as other:
            return await other.post(CITIZEN_TOKEN, json=body)

    tries = [from_fresh_address(api, CITIZEN_TOKEN, body) for _ in range(2 * limit)]
    tries += [through_other_process() for _ in range(2 * limit)]
    assert tally(list(await asyncio.gather(*tries))) == {401: limit, 429: 3 * limit}


async def test_failures_at_once_from_one_address_are_checked_at_most_limit_times(api: httpx.AsyncClient) -> None:
    limit = get_settings().failed_sign_ins_per_address_minute
    async with client_from(api) as sprayer:
        answers = await asyncio.gather(
            *(
                sprayer.post(CITIZEN_TOKEN, json={"username": new_national_id(), "password": WRONG})
                for _ in range(4 * limit)
            )
        )
    statuses = tally(list(answers))
    # A minute's window: it cannot have ended and begun again within one burst of a few seconds.
    assert statuses[401] == limit, statuses


async def test_agency_and_staff_sign_ins_hold_at_once_too(
    api: httpx.AsyncClient, make_agency: Callable[..., Awaitable[Any]]
) -> None:
    limit = get_settings().failed_sign_ins_per_account_hour
    agency = await make_agency(["CRIMINAL_RECORD"])
    bad_client = {"client_id": agency.client_id, "client_secret": "not the secret"}
    staff = {"username": f"nobody.{secrets.token_hex(4)}", "password": "x" * 12, "otp": "123456"}
    answers = await asyncio.gather(
        *(from_fresh_address(api, "/api/v1/agency/token", bad_client) for _ in range(4 * limit)),
        *(from_fresh_address(api, "/api/v1/staff/token", staff) for _ in range(4 * limit)),
    )
    assert tally(list(answers[: 4 * limit])) == {401: limit, 429: 3 * limit}
    assert tally(list(answers[4 * limit :])) == {401: limit, 429: 3 * limit}
