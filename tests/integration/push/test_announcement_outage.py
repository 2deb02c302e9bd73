"""Redis goes away while an announcement fans out, and comes back empty (no persistence):
its queued batch jobs and planning rounds are gone with it. The sweeper finds the batches
no job holds and the planning that stalled; nobody acts, and every phone hears of it once.
A system of its own (its own Redis, to stop), on the session's store."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.integration.push.helpers import seed_devices, wait_for
from tests.integration.push.stack import PrivateStack, admin_headers, start_stack

pytestmark = pytest.mark.slow

DEVICES = 600
BATCH = 50  # twelve batches: the outage lands between them


@pytest.mark.parametrize("province", [None, "096"], ids=["everyone", "a-province"])
async def test_a_redis_restart_mid_broadcast_reaches_every_phone_once_without_anyone_acting(
    tmp_path: Path, mongo_url: str, stacks: list[PrivateStack], province: str | None
) -> None:
    """To everyone, and to a province (whose planning resumes from the ID-number window its
    last batch recorded: its citizens spread over the whole number space)."""
    database = f"cwallet_announce_outage_{secrets.token_hex(4)}"
    seeder: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        await seed_devices(seeder[database], DEVICES, "outage")
        if province is not None:
            owners = [raw["citizen_id"] async for raw in seeder[database].devices.find({}, {"citizen_id": 1})]
            await seeder[database].citizens.insert_many(
                [{"_id": c, "national_id": f"{province}{n * 1_000_003 % 10**9:09d}"} for n, c in enumerate(owners)]
            )
    finally:
        await seeder.close()
    stack = await asyncio.to_thread(
        start_stack,
        tmp_path,
        mongo_url=mongo_url,
        redis_url=None,  # its own, to stop and start again
        emulator_url=None,
        fcm_project_id="cwallet-announce-outage",
        emulator_args=("--record", "counts"),
        # One batch in flight at a time, so the outage finds most of them still to send.
        overrides={"ANNOUNCEMENT_BATCHES_IN_FLIGHT": "1", "ANNOUNCEMENT_BATCH_DEVICES": str(BATCH)},
        database=database,
    )
    stacks.append(stack)
    assert stack.redis is not None
    stack.wait_serving(stack.start_worker())
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=30) as api,
        httpx.AsyncClient(base_url=stack.emulator_url, timeout=30) as emulator,
    ):
        admin = await admin_headers(api, stack)
        body = {
            "title": {"vi": "Mất điện", "en": "Power cut"},
            "body": {"vi": "Sáng mai.", "en": "Tomorrow."},
            "segment": {"province": province},
        }
        posted = await api.post("/api/v1/admin/announcements", json=body, headers=admin)
        assert posted.status_code == 201, posted.text
        shown_at = f"/api/v1/admin/announcements/{posted.json()['id']}"

        async def sending() -> bool:
            return 0 < int((await api.get(shown_at, headers=admin)).json()["progress"]["sent"]) < DEVICES

        await wait_for(sending, "the broadcast under way", deadline=60, every=0.05)
        port = urlsplit(stack.redis.url).port
        stack.redis.stop()
        stack.start_redis(port)

        async def done() -> bool:
            answer = await api.get(shown_at, headers=admin)
            return answer.status_code == 200 and answer.json()["state"] == "done"

        await wait_for(done, "the broadcast finished after Redis came back", deadline=120, every=0.5)
        counts = (await emulator.get("/emulator/counts")).json()
        progress = (await api.get(shown_at, headers=admin)).json()["progress"]
    assert counts == {"messages": DEVICES, "tokens": DEVICES, "max_per_token": 1, "rejected": 0}
    assert (progress["sent"], progress["pending"]) == (DEVICES, 0)
    assert stack.workers[0].alive()
