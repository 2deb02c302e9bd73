"""A broadcast to 4,000 devices (20 batches of 200 over two worker processes): every device
sent exactly once, progress visible while it runs. Its own copy of the system, with an emulator
that only counts (no message copies). What it checks needs many batches, not many devices: at
100,000 it alone took 5.3 min of the suite's 11.5 on 2 cores, at 10,000 (20 batches of 500)
half a minute; `make bench` measures the 100,000-device announcement, and
`BROADCAST_DEVICES=100000 BROADCAST_BATCH=500` runs this test at that size.

BROADCAST_DEVICES, BROADCAST_BATCH and BROADCAST_WORKERS change the size, the batch and the number
of worker processes;
the figures (seeding, fan-out, messages a second) are printed, never asserted."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.integration.push.helpers import seed_devices, wait_for
from tests.integration.push.stack import PrivateStack, admin_headers, start_stack

pytestmark = pytest.mark.slow

DEVICES = int(os.environ.get("BROADCAST_DEVICES", "4000"))
BATCH = int(os.environ.get("BROADCAST_BATCH", "200"))
WORKERS = int(os.environ.get("BROADCAST_WORKERS", "2"))


async def test_a_broadcast_reaches_every_device_exactly_once(
    tmp_path: Path, mongo_url: str, redis_url: str, stacks: list[PrivateStack]
) -> None:
    # Seeded before the stack starts: the store builds the indexes once over the whole
    # collection, twice as fast as keeping them up to date insert by insert.
    database = f"cwallet_broadcast_{secrets.token_hex(4)}"
    seeder: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    began = time.monotonic()
    try:
        await seed_devices(seeder[database], DEVICES, "broadcast")
    finally:
        await seeder.close()
    stack = await asyncio.to_thread(
        start_stack,
        tmp_path,
        mongo_url=mongo_url,
        redis_url=redis_url,
        emulator_url=None,
        fcm_project_id="cwallet-broadcast",
        emulator_args=("--record", "counts"),
        # The sweeper only as the backstop it is in production; two batches in flight per worker.
        overrides={
            "SWEEP_EVERY_SECONDS": "15",
            "SWEEP_GRACE_SECONDS": "30",
            "ANNOUNCEMENT_BATCHES_IN_FLIGHT": str(2 * WORKERS),
            "ANNOUNCEMENT_BATCH_DEVICES": str(BATCH),
        },
        database=database,
    )
    stacks.append(stack)
    seeded = time.monotonic()
    for _ in range(WORKERS):
        stack.start_worker()
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api,
        httpx.AsyncClient(base_url=stack.emulator_url, timeout=60) as emulator,
    ):
        admin = await admin_headers(api, stack)
        body = {
            "title": {"vi": "Diễn tập phòng cháy", "en": "Fire drill"},
            "body": {"vi": "Diễn tập lúc 9 giờ sáng mai.", "en": "Drill tomorrow at 9 a.m."},
        }
        sent = await api.post("/api/v1/admin/announcements", json=body, headers=admin)
        assert sent.status_code == 201, sent.text
        announcement_id = sent.json()["id"]
        started = time.monotonic()
        seen: list[dict[str, Any]] = []

        async def done() -> bool:
            answer = await api.get(f"/api/v1/admin/announcements/{announcement_id}", headers=admin)
            shown: dict[str, Any] = answer.json()
            seen.append(shown["progress"])
            return shown["state"] == "done"

        await wait_for(done, f"the broadcast to {DEVICES} devices finishing", deadline=1200, every=2.0)
        finished = time.monotonic()
        counts = (await emulator.get("/emulator/counts")).json()
    progress = seen[-1]
    assert counts == {"messages": DEVICES, "tokens": DEVICES, "max_per_token": 1, "rejected": 0}
    assert (progress["devices"], progress["sent"], progress["pending"]) == (DEVICES, DEVICES, 0)
    assert progress["batches"] == progress["batches_done"] == -(-DEVICES // BATCH)
    # Progress only moves forward, and was visible while the broadcast ran.
    sent_over_time = [p["sent"] for p in seen]
    assert sent_over_time == sorted(sent_over_time)
    fan_out = finished - started
    print(
        f"\nbroadcast: {DEVICES} devices, {WORKERS} worker(s): seeding and start {seeded - began:.1f} s, "
        f"fan-out {fan_out:.1f} s ({DEVICES / fan_out:.0f} messages/s), "
        f"{sum(1 for s in sent_over_time if 0 < s < DEVICES)} progress reads in between"
    )
