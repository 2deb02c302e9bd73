"""Guessing cannot lock a citizen out: strangers who fill the account's window are answered 429,
while the citizen's own devices (which signed in before and keep their `device_token`) still
sign in with the right password; each such device has a small window of its own."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from app.config import get_settings
from tests.integration.identity.helpers import client_from

TOKEN = "/api/v1/auth/token"


async def sign_in(api: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    async with client_from(api) as client:  # each try from an address of its own
        return await client.post(TOKEN, json=body, headers={"Accept-Language": "en"})


async def statuses_at_once(api: httpx.AsyncClient, body: dict[str, Any], count: int) -> Counter[int]:
    return Counter(answer.status_code for answer in await asyncio.gather(*(sign_in(api, body) for _ in range(count))))


async def test_strangers_guessing_do_not_lock_out_the_citizens_own_devices(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    settings = get_settings()
    citizen = await make_citizen(devices=0)
    right = {"username": citizen.national_id, "password": citizen.password}
    phone = await sign_in(api, right)
    assert phone.status_code == 200, phone.text
    phone_token = phone.json()["device_token"]
    # The phone number is the same account: a device known under one is known under the other.
    tablet = await sign_in(api, {"username": citizen.phone, "password": citizen.password})
    tablet_token = tablet.json()["device_token"]
    other = await make_citizen(devices=0)
    others_token = (await sign_in(api, {"username": other.national_id, "password": other.password})).json()[
        "device_token"
    ]

    limit = settings.failed_sign_ins_per_account_hour
    strangers = await statuses_at_once(api, {"username": citizen.national_id, "password": "guess"}, 4 * limit)
    assert strangers == {401: limit, 429: 3 * limit}
    # A new device, or one known to another account, is a stranger here: slowed down.
    refused = await sign_in(api, right)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert (await sign_in(api, {**right, "device_token": others_token})).status_code == 429
    assert (await sign_in(api, {**right, "device_token": phone_token[:-2] + "xx"})).status_code == 429

    again = await sign_in(api, {**right, "device_token": phone_token})
    assert again.status_code == 200, again.text
    assert again.json()["device_token"] != phone_token  # a fresh one, to keep instead

    # Someone with the phone's token but not the password gets the device's small window only.
    device_limit = settings.failed_sign_ins_per_device_hour
    stolen = {"username": citizen.national_id, "password": "guess", "device_token": phone_token}
    assert await statuses_at_once(api, stolen, 4 * device_limit) == {401: device_limit, 429: 3 * device_limit}
    assert (await sign_in(api, {**right, "device_token": phone_token})).status_code == 429
    # The citizen's other devices go on signing in.
    assert (await sign_in(api, {**right, "device_token": tablet_token})).status_code == 200


async def test_the_sign_in_body_of_the_contract_still_works_without_a_device_token(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    citizen = await make_citizen(devices=0)
    answer = await sign_in(api, {"username": citizen.national_id, "password": citizen.password})
    assert answer.status_code == 200
    assert {"access_token", "refresh_token", "token_type", "expires_in", "device_token"} <= set(answer.json())
    # The token names nobody: no ID number, phone or name in it.
    token = answer.json()["device_token"]
    assert citizen.national_id not in token and citizen.phone[1:] not in token
