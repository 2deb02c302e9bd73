"""Nothing is lost when a worker is killed mid-send or Redis restarts while events arrive, and
nothing reaches a device twice except a repeat of the same notification (same id, same
collapse key: the phone shows it once). Each test runs its own copy of the system
(tests/integration/push/stack.py), so what it breaks is its own."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.push.conftest import Resident, new_resident
from tests.integration.push.helpers import wait_for
from tests.integration.push.stack import PrivateStack, agency_headers, start_stack
from tests.support import submit_residence

pytestmark = pytest.mark.slow


@pytest.fixture
def stacks() -> Iterator[list[PrivateStack]]:
    started: list[PrivateStack] = []
    try:
        yield started
    finally:
        for stack in started:
            stack.stop()


async def _messages(emulator: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    answer = await emulator.get("/emulator/messages", params={"token": token})
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["messages"]
    return found


async def _all_sent(db: Any, expected: int) -> bool:
    sent = await db.notifications.count_documents({"state": "sent"})
    return sent >= expected and await db.notifications.count_documents({"state": {"$ne": "sent"}}) == 0


async def _check_once_per_device(emulator: httpx.AsyncClient, db: Any, residents: list[Resident]) -> int:
    """Every device got each of its citizen's notifications; any repeat is the same
    notification under the same collapse key. Returns how many repeats there were."""
    repeats = 0
    for resident in residents:
        citizen = await db.citizens.find_one({"national_id": resident.national_id}, {"_id": 1})
        expected = {str(n["_id"]) async for n in db.notifications.find({"citizen_id": citizen["_id"]}, {"_id": 1})}
        assert expected
        for token in resident.device_tokens:
            received = await _messages(emulator, token)
            per_notification = Counter(m["data"]["notification_id"] for m in received)
            assert set(per_notification) == expected, (token, per_notification, expected)
            for message in received:
                notification_id = message["data"]["notification_id"]
                assert message["android_collapse_key"] == message["apns_collapse_id"] == notification_id
            repeats += sum(count - 1 for count in per_notification.values())
    return repeats


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
        await wait_for(lambda: _all_sent(db, len(residents)), "every notification sent after the kill", deadline=90)
        repeats = await _check_once_per_device(emulator, db, residents)
        print(f"\nkilled mid-send: {repeats} collapsible repeat(s) over {2 * len(residents)} devices")
    await client.close()


async def test_redis_restarting_while_events_arrive_loses_none(
    tmp_path: Path, mongo_url: str, stacks: list[PrivateStack]
) -> None:
    stack = await asyncio.to_thread(
        start_stack,
        tmp_path,
        mongo_url=mongo_url,
        redis_url=None,  # a Redis of its own, to stop and start again
        emulator_url=None,
        fcm_project_id="cwallet-redis",
        agency_code="CA_XA",  # the catalogue's agency for residence registration
    )
    stacks.append(stack)
    client, db = stack.database()
    assert stack.redis is not None and stack.redis.url is not None
    redis_port = int(stack.redis.url.rsplit(":", 1)[1].split("/")[0])
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=30) as api,
        httpx.AsyncClient(base_url=stack.emulator_url, timeout=30) as emulator,
    ):
        residents = [await new_resident(api, "079", devices=1) for _ in range(5)]
        agency = await agency_headers(api, stack)
        stack.start_worker()
        codes = [await submit_residence(api, resident) for resident in residents]

        async def event(code: str, status: str) -> None:
            body = {"event_id": f"evt-{uuid.uuid4().hex}", "status": status}
            answer = await api.post(f"/api/v1/agency/dossiers/{code}/events", json=body, headers=agency)
            assert answer.status_code == 200, answer.text

        # Redis goes away (and comes back empty: no persistence) while the agency posts.
        stack.redis.stop()
        for code in codes:
            await event(code, "received")
        stack.start_redis(redis_port)
        for code in codes:
            await event(code, "processing")
        # A worker that lost Redis exits; its supervisor starts it again.
        if not any(worker.alive() for worker in stack.workers):
            stack.start_worker()
        await wait_for(lambda: _all_sent(db, 3 * len(codes)), "every notification sent after the restart", 90)
        await _check_once_per_device(emulator, db, residents)
        statuses: dict[str, set[str]] = defaultdict(set)
        for resident in residents:
            for message in await _messages(emulator, resident.device_tokens[0]):
                statuses[resident.national_id].add(message["data"]["status"])
        assert all(s == {"submitted", "received", "processing"} for s in statuses.values()), statuses
    await client.close()
