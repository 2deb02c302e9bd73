"""API processes remember live sessions (decision 0017); a sign-out or a lock made through
one process must still end the tokens on every other process at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from devtools.devstack import ManagedProcess
from tests.integration.identity.helpers import bearer
from tests.integration.identity.test_sessions_and_lock import sign_in

# Pub/sub delivery between processes takes milliseconds; a process that only waited for its
# memory to expire would take session_cache_seconds (30 s), far past this.
DELIVERY_ALLOWANCE_S = 5.0


async def _status_becomes(client: httpx.AsyncClient, token: str, expected: int) -> int:
    deadline = time.monotonic() + DELIVERY_ALLOWANCE_S
    while True:
        status = (await client.get("/api/v1/me/documents", headers=bearer(token))).status_code
        if status == expected or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.02)


async def test_a_sign_out_through_one_api_process_ends_the_session_on_the_others(
    api: httpx.AsyncClient, callback_api: ManagedProcess, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    phone = await sign_in(api, citizen, "phone")
    tablet = await sign_in(api, citizen, "tablet")
    async with httpx.AsyncClient(base_url=callback_api.url or "", timeout=10) as other:
        # The other process has checked both sessions and now remembers them as live.
        for _ in range(3):
            for tokens in (phone, tablet):
                assert (
                    await other.get("/api/v1/me/documents", headers=bearer(tokens["access_token"]))
                ).status_code == 200

        listed = (await api.get("/api/v1/me/sessions", headers=bearer(phone["access_token"]))).json()["items"]
        tablet_id = next(s["id"] for s in listed if s["user_agent"] == "tablet")
        signed_out = await api.delete(f"/api/v1/me/sessions/{tablet_id}", headers=bearer(phone["access_token"]))
        assert signed_out.status_code == 204
        assert await _status_becomes(other, tablet["access_token"], 401) == 401
        # Only that session: the phone goes on working on both processes.
        assert (await other.get("/api/v1/me/documents", headers=bearer(phone["access_token"]))).status_code == 200

        # A self-lock ends every session of the citizen, on the other process too.
        locked = await api.post("/api/v1/me/lock", headers=bearer(phone["access_token"]))
        assert locked.status_code == 200, locked.text
        assert await _status_becomes(other, phone["access_token"], 401) == 401
        assert await _status_becomes(other, citizen.access_token, 401) == 401


async def test_logging_out_through_the_other_process_ends_the_token_here(
    api: httpx.AsyncClient, callback_api: ManagedProcess, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    tokens = await sign_in(api, citizen, "phone")
    assert (await api.get("/api/v1/me/documents", headers=bearer(tokens["access_token"]))).status_code == 200
    async with httpx.AsyncClient(base_url=callback_api.url or "", timeout=10) as other:
        out = await other.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
        assert out.status_code == 204, out.text
    assert await _status_becomes(api, tokens["access_token"], 401) == 401


async def test_a_process_trusts_a_session_it_has_seen_without_reading_it_again(
    api: httpx.AsyncClient, make_citizen: Any
) -> None:
    from bson import ObjectId

    from app.session_cache import CACHE
    from models.citizen import AuthSession

    citizen = await make_citizen(devices=0)
    tokens = await sign_in(api, citizen, "phone")
    assert CACHE.subscribed, "the API follows the revocation channel once started"
    assert (await api.get("/api/v1/me/documents", headers=bearer(tokens["access_token"]))).status_code == 200
    # Gone from the store behind the API's back (no revocation announced): the process still
    # trusts what it saw, for at most SESSION_CACHE_SECONDS. This is the read it saves.
    sessions = AuthSession.get_pymongo_collection()
    listed = (await api.get("/api/v1/me/sessions", headers=bearer(tokens["access_token"]))).json()["items"]
    session_id = next(s["id"] for s in listed if s["current"])
    await sessions.delete_one({"_id": ObjectId(session_id)})
    assert (await api.get("/api/v1/me/documents", headers=bearer(tokens["access_token"]))).status_code == 200
    # Any revocation of it is announced, and then it ends at once.
    from app.session_cache import announce_revoked

    await announce_revoked(sessions=[session_id])
    assert (await api.get("/api/v1/me/documents", headers=bearer(tokens["access_token"]))).status_code == 401
