"""A citizen keeps at most MAX_DEVICES_PER_CITIZEN phones for push; one more drops the phone
seen longest ago (apps register their token at every start), however many arrive at once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from app.config import get_settings
from models.citizen import Device


async def register_device(api: httpx.AsyncClient, citizen: Any, token: str) -> httpx.Response:
    return await api.post(
        "/api/v1/me/devices", json={"token": token, "platform": "android", "locale": "vi"}, headers=citizen.headers
    )


async def stored_tokens(citizen: Any) -> set[str]:
    from beanie import PydanticObjectId

    devices = await Device.find(Device.citizen_id == PydanticObjectId(citizen.id)).to_list()
    return {d.token for d in devices}


async def test_four_times_the_cap_registered_at_once_leaves_the_cap(api: httpx.AsyncClient, make_citizen: Any) -> None:
    cap = get_settings().max_devices_per_citizen
    citizen = await make_citizen(devices=0)
    tokens = [f"fcm-{uuid.uuid4().hex}" for _ in range(4 * cap)]
    answers = await asyncio.gather(*(register_device(api, citizen, token) for token in tokens))
    assert [a.status_code for a in answers] == [201] * len(tokens)
    listed = (await api.get("/api/v1/me/devices", headers=citizen.headers)).json()["items"]
    assert len(listed) == cap
    kept = await stored_tokens(citizen)
    assert len(kept) == cap and kept <= set(tokens)


async def test_at_the_cap_the_phone_seen_longest_ago_is_dropped(api: httpx.AsyncClient, make_citizen: Any) -> None:
    cap = get_settings().max_devices_per_citizen
    citizen = await make_citizen(devices=0)
    tokens = [f"fcm-{uuid.uuid4().hex}" for _ in range(cap)]
    for token in tokens:
        assert (await register_device(api, citizen, token)).status_code == 201
    # The first phone starts its app again (registers its token anew): now the second is the oldest.
    assert (await register_device(api, citizen, tokens[0])).status_code == 201
    assert await stored_tokens(citizen) == set(tokens)

    newest = f"fcm-{uuid.uuid4().hex}"
    assert (await register_device(api, citizen, newest)).status_code == 201
    assert await stored_tokens(citizen) == (set(tokens) - {tokens[1]}) | {newest}


async def test_another_citizens_phones_are_not_counted(api: httpx.AsyncClient, make_citizen: Any) -> None:
    cap = get_settings().max_devices_per_citizen
    first, second = await make_citizen(devices=0), await make_citizen(devices=0)
    firsts = [f"fcm-{uuid.uuid4().hex}" for _ in range(cap)]
    seconds = [f"fcm-{uuid.uuid4().hex}" for _ in range(cap)]
    await asyncio.gather(
        *(register_device(api, first, t) for t in firsts), *(register_device(api, second, t) for t in seconds)
    )
    assert await stored_tokens(first) == set(firsts)
    assert await stored_tokens(second) == set(seconds)
