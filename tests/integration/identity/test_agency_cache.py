"""API processes remember agencies' principals (app/agency_cache.py); a write to an agency
through app/auth/store.py, from any process, is seen by every API process at once, not after
the memory expires."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from redis.asyncio import Redis

from app.agency_cache import TTL_SECONDS, AgencyCache, listen
from app.auth import agencies
from app.auth import store as auth_store
from app.config import get_settings
from app.security import _agency_principal
from devtools.devstack import ManagedProcess
from models.agency import Agency

# Pub/sub delivery between processes takes milliseconds; a process that only waited for its
# memory to expire would take TTL_SECONDS (60 s), far past this.
DELIVERY_ALLOWANCE_S = 5.0
VERIFY = "verify_identity"
# Past the scope check, an unknown citizen is a 404; without the scope, a 403 that says so.
UNKNOWN_CITIZEN = {"national_id": "001090000002", "level": 2}
EID_LEVEL = "/api/v1/agency/identity/eid-level"


async def _eventually(check: Callable[[], Awaitable[Any]], expected: Any) -> Any:
    deadline = time.monotonic() + DELIVERY_ALLOWANCE_S
    while True:
        found = await check()
        if found == expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


async def _hand_edit_scopes(code: str, scopes: list[str]) -> None:
    """Behind app/auth/store.py's back: nothing is announced."""
    await Agency.get_pymongo_collection().update_one({"code": code}, {"$set": {"scopes": scopes}})


async def test_an_agency_whose_scopes_change_is_refused_or_allowed_on_its_very_next_request(
    api: httpx.AsyncClient, callback_api: ManagedProcess, make_agency: Any
) -> None:
    assert DELIVERY_ALLOWANCE_S < TTL_SECONDS
    agency = await make_agency(["TEMPORARY_ABSENCE"], scopes=[VERIFY])
    async with httpx.AsyncClient(base_url=callback_api.url or "", timeout=10) as other:

        async def status_on(client: httpx.AsyncClient) -> int:
            answer = await client.post(EID_LEVEL, json=UNKNOWN_CITIZEN, headers=agency.headers)
            return answer.status_code

        for client in (api, other):
            assert await status_on(client) == 404
        # Both processes remember the agency: a change made behind the store module's back
        # is not seen (the store read each request saves).
        await _hand_edit_scopes(agency.code, [])
        for client in (api, other):
            assert await status_on(client) == 404

        # The scope withdrawn as every write does it: refused at once here, and on the other
        # process as soon as the announcement arrives.
        await auth_store.upsert_agency(agency.code, {"scopes": []}, {})
        refused = await api.post(EID_LEVEL, json=UNKNOWN_CITIZEN, headers=agency.headers)
        assert refused.status_code == 403 and refused.json()["code"] == "scope-missing"
        assert await _eventually(lambda: status_on(other), 403) == 403

        # Granted again: allowed on the very next request.
        await auth_store.upsert_agency(agency.code, {"scopes": [VERIFY]}, {})
        assert await status_on(api) == 404
        assert await _eventually(lambda: status_on(other), 404) == 404


async def test_an_agency_keeps_working_through_its_secret_rotation(api: httpx.AsyncClient, make_agency: Any) -> None:
    """A rotation changes how the agency gets tokens, not what its tokens may do: the token
    that asked for it goes on working, and so does one got with the new secret."""
    agency = await make_agency(["CRIMINAL_RECORD"])
    assert (await api.get("/api/v1/agency/dossiers", headers=agency.headers)).status_code == 200
    rotated = await api.post("/api/v1/agency/credentials/rotate", headers=agency.headers)
    assert rotated.status_code == 200, rotated.text
    assert (await api.get("/api/v1/agency/dossiers", headers=agency.headers)).status_code == 200
    token = await api.post(
        "/api/v1/agency/token", json={"client_id": agency.client_id, "client_secret": rotated.json()["client_secret"]}
    )
    fresh = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await api.get("/api/v1/agency/dossiers", headers=fresh)).status_code == 200


async def test_a_cache_following_the_channel_forgets_an_agency_another_announces(
    api: httpx.AsyncClient, make_agency: Any
) -> None:
    """Another process's memory, on this test's loop: its own cache and its own connection
    to Redis, following the channel as an API process does."""
    agency = await make_agency(["CRIMINAL_RECORD"], scopes=[VERIFY])
    settings = get_settings()
    other = AgencyCache()
    redis: Redis = Redis.from_url(settings.redis_url)
    following = asyncio.create_task(listen(redis, settings.queue_name, other))

    async def scopes() -> tuple[str, ...] | None:
        found = await other.get(agency.code, _agency_principal)
        return found.scopes if found else None

    async def subscribed() -> bool:
        return other.subscribed

    try:
        assert await _eventually(subscribed, True) is True
        assert await scopes() == (VERIFY,)
        await _hand_edit_scopes(agency.code, [])
        assert await scopes() == (VERIFY,)  # remembered
        # A write through the store module (here a secret rotation, from this process)
        # makes the follower read the agency again.
        await agencies.rotate_secret(agency.code, overlap_hours=1)
        assert await _eventually(scopes, ()) == ()
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await redis.aclose()
    # Its link gone, it trusts nothing it remembered: every call reads the store.
    assert not other.subscribed and len(other) == 0
    await _hand_edit_scopes(agency.code, [VERIFY])
    assert await scopes() == (VERIFY,)
    assert len(other) == 0


async def test_a_cache_that_cannot_follow_the_channel_reads_every_time(make_agency: Any) -> None:
    agency = await make_agency(["CRIMINAL_RECORD"])
    other = AgencyCache()
    # Nothing listens on this port: the subscription fails and is retried.
    redis: Redis = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=1)
    following = asyncio.create_task(listen(redis, "nowhere", other, retry_seconds=60))
    try:
        for scopes in ([VERIFY], []):
            await _hand_edit_scopes(agency.code, scopes)
            found = await other.get(agency.code, _agency_principal)
            assert found is not None and list(found.scopes) == scopes
        assert len(other) == 0 and not other.subscribed
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await redis.aclose()
