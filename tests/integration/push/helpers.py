"""Waiting on the worker and reading what the emulator received."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from bson import ObjectId

from models.common import utcnow

if TYPE_CHECKING:
    from tests.integration.push.conftest import Resident

T = TypeVar("T")
# How long to wait for the worker before calling it a failure: a deadline, not a speed check.
DEADLINE_SECONDS = 30.0


async def wait_for(
    check: Callable[[], Awaitable[T | None]], what: str, deadline: float = DEADLINE_SECONDS, every: float = 0.1
) -> T:
    """Poll `check` until it returns something truthy; fail saying `what` did not happen."""
    end = time.monotonic() + deadline
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline:.0f} s")
        await asyncio.sleep(every)


async def messages(emulator: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    answer = await emulator.get("/emulator/messages", params={"token": token})
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["messages"]
    return found


async def attempts(emulator: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    answer = await emulator.get("/emulator/attempts", params={"token": token})
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["attempts"]
    return found


async def received(emulator: httpx.AsyncClient, token: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until `token` has at least `count` messages; return them."""

    async def check() -> list[dict[str, Any]] | None:
        found = await messages(emulator, token)
        return found if len(found) >= count else None

    return await wait_for(check, f"{count} push(es) to {token}")


async def all_sent(db: Any, expected: int) -> bool:
    """At least `expected` notifications are sent, and none is left pending or failed."""
    sent = await db.notifications.count_documents({"state": "sent"})
    return sent >= expected and await db.notifications.count_documents({"state": {"$ne": "sent"}}) == 0


async def check_once_per_device(emulator: httpx.AsyncClient, db: Any, residents: list[Resident]) -> int:
    """Every device got each of its citizen's notifications; any repeat is the same
    notification under the same collapse key. Returns how many repeats there were."""
    repeats = 0
    for resident in residents:
        citizen = await db.citizens.find_one({"national_id": resident.national_id}, {"_id": 1})
        expected = {str(n["_id"]) async for n in db.notifications.find({"citizen_id": citizen["_id"]}, {"_id": 1})}
        assert expected
        for token in resident.device_tokens:
            received = await messages(emulator, token)
            per_notification = Counter(m["data"]["notification_id"] for m in received)
            assert set(per_notification) == expected, (token, per_notification, expected)
            for message in received:
                notification_id = message["data"]["notification_id"]
                assert message["android_collapse_key"] == message["apns_collapse_id"] == notification_id
            repeats += sum(count - 1 for count in per_notification.values())
    return repeats


async def seed_devices(db: Any, count: int, tag: str) -> None:
    """Phones straight into a store (registering thousands through the API would be the
    test), each of its own citizen, Vietnamese and English in turn, tokens `{tag}-0000000`…"""
    now = utcnow()
    for start in range(0, count, 10_000):
        await db.devices.insert_many(
            [
                {
                    "citizen_id": ObjectId(),
                    "token": f"{tag}-{i:07d}",
                    "platform": "android",
                    "locale": "en" if i % 2 else "vi",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(start + 10_000, count))
            ],
            ordered=False,
        )
