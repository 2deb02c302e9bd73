"""Nothing is lost when a worker is killed mid-send, and nothing reaches a device twice except
a repeat of the same notification (same id, same collapse key: the phone shows it once). The
test runs its own copy of the system (tests/integration/push/stack.py), so what it breaks is
its own. Redis and store outages: test_outages.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.integration.push.conftest import new_resident
from tests.integration.push.helpers import all_sent, check_once_per_device, wait_for
from tests.integration.push.stack import PrivateStack, start_stack
from tests.support import submit_residence

pytestmark = pytest.mark.slow


async def test_a_worker_killed_mid_send_loses_nothing(
    tmp_path: Path, mongo_url: str, redis_url: str, stacks: list[PrivateStack]
) -> None:
    # The emulator answers each send 2 s after accepting it: the kill lands between FCM
    # taking the message and the worker recording it.
    stack = await asyncio.to_thread(
        start_stack,
        tmp_path,
        mongo_url=mongo_url,
        redis_url=redis_url,
        emulator_url=None,
        fcm_project_id="cwallet-kill",
        emulator_args=("--latency", "2"),
        # arq hands a killed worker's job to another once its in-progress mark expires
        # (job timeout + 10 s); production keeps 60 s.
        overrides={"WORKER_JOB_TIMEOUT_SECONDS": "3"},
    )
    stacks.append(stack)
    client, db = stack.database()
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=30) as api,
        httpx.AsyncClient(base_url=stack.emulator_url, timeout=30) as emulator,
    ):
        residents = [await new_resident(api, "001", devices=2) for _ in range(4)]
        doomed = stack.start_worker()
        for resident in residents:
            await submit_residence(api, resident)

        async def accepted() -> bool:
            return bool((await emulator.get("/emulator/counts")).json()["messages"] >= 1)

        await wait_for(accepted, "FCM accepting the first push", deadline=60, every=0.02)
        stack.kill(doomed)
        # Killed mid-send: FCM has messages the worker never recorded.
        assert await db.notifications.count_documents({"state": "pending"}) >= 1
        await emulator.put("/emulator/settings", json={"latency": 0})
        stack.start_worker()
        await wait_for(lambda: all_sent(db, len(residents)), "every notification sent after the kill", deadline=90)
        repeats = await check_once_per_device(emulator, db, residents)
        print(f"\nkilled mid-send: {repeats} collapsible repeat(s) over {2 * len(residents)} devices")
    await client.close()
