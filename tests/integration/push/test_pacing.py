"""A national announcement lets citizens' own pushes go first: while personal pushes are
queued it sends nothing (its progress says it is yielding), it resumes once they are gone, and
a lane that never empties holds it back only for a bounded wait per batch (workers/pacing.py)."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from arq import ArqRedis, create_pool
from arq.constants import in_progress_key_prefix

from app.config import get_settings
from app.queue import redis_settings
from tests.integration.push.helpers import messages, wait_for

ANNOUNCEMENTS = "/api/v1/admin/announcements"
BODY = {
    "title": {"vi": "Bảo trì hệ thống", "en": "System maintenance"},
    "body": {"vi": "Cổng dịch vụ công tạm dừng 22:00–23:00.", "en": "The public service portal pauses 22:00-23:00."},
}


@pytest.fixture
async def personal_push_held(worker: Any) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """A personal push due now that stays in the citizens' queue: another worker is sending it
    (its in-progress mark), so the suite's worker leaves it there. Yields its removal."""
    settings = get_settings()
    pool: ArqRedis = await create_pool(redis_settings(settings), default_queue_name=settings.queue_name)
    job_id = f"notify:held-{secrets.token_hex(6)}"

    async def release() -> None:
        await pool.zrem(settings.queue_name, job_id)
        await pool.delete(in_progress_key_prefix + job_id)

    await pool.set(in_progress_key_prefix + job_id, b"1", px=60_000)
    await pool.zadd(settings.queue_name, {job_id: int(time.time() * 1000)})
    try:
        yield release
    finally:
        await release()
        await pool.aclose()


async def _announce(api: httpx.AsyncClient, admin: Any, province: str) -> str:
    body = {**BODY, "segment": {"province": province}}
    sent = await api.post(ANNOUNCEMENTS, json=body, headers={**admin.headers, "Idempotency-Key": uuid.uuid4().hex})
    assert sent.status_code == 201, sent.text
    return str(sent.json()["id"])


async def _shown(api: httpx.AsyncClient, admin: Any, announcement_id: str) -> dict[str, Any]:
    answer = await api.get(f"{ANNOUNCEMENTS}/{announcement_id}", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


async def _yielding(api: httpx.AsyncClient, admin: Any, announcement_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        shown = await _shown(api, admin, announcement_id)
        return shown if shown["progress"]["yielding"] else None

    return await wait_for(check, "the announcement yielding to the queued personal push", every=0.05)


async def _done(api: httpx.AsyncClient, admin: Any, announcement_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        shown = await _shown(api, admin, announcement_id)
        return shown if shown["state"] == "done" else None

    return await wait_for(check, "the announcement finishing")


def assert_all_tried(progress: dict[str, Any], at_least_sent: int) -> None:
    """Every device of the broadcast had its push tried (none pending), at least this many sent."""
    assert progress["pending"] == 0, progress
    assert progress["sent"] + progress["failed"] + progress["dropped"] == progress["devices"], progress
    assert progress["sent"] >= at_least_sent, progress


async def test_a_broadcast_waits_while_personal_pushes_are_queued_and_resumes_after(
    api: httpx.AsyncClient,
    make_admin: Callable[[], Awaitable[Any]],
    make_resident: Callable[..., Awaitable[Any]],
    emulator: httpx.AsyncClient,
    personal_push_held: Callable[[], Awaitable[None]],
) -> None:
    admin = await make_admin()
    resident = await make_resident("091", devices=2)

    announcement_id = await _announce(api, admin, "091")
    held = await _yielding(api, admin, announcement_id)
    # Held back: no batch out, nothing at the phones.
    assert held["state"] != "done" and held["progress"]["sent"] == 0 and held["progress"]["batches_done"] == 0
    for token in resident.device_tokens:
        assert await messages(emulator, token) == []

    await personal_push_held()
    done = await _done(api, admin, announcement_id)
    # Other tests' citizens of the province may have phones too (national IDs are random), some
    # with tokens made to fail: every device is tried, ours are sent to.
    assert_all_tried(done["progress"], at_least_sent=2)
    assert done["progress"]["yielding"] is False
    for token in resident.device_tokens:
        assert [m["data"]["announcement_id"] for m in await messages(emulator, token)] == [announcement_id]


async def test_a_broadcast_is_never_held_back_for_ever(
    api: httpx.AsyncClient,
    make_admin: Callable[[], Awaitable[Any]],
    make_resident: Callable[..., Awaitable[Any]],
    emulator: httpx.AsyncClient,
    personal_push_held: Callable[[], Awaitable[None]],
) -> None:
    admin = await make_admin()
    resident = await make_resident("092", devices=1)

    announcement_id = await _announce(api, admin, "092")
    await _yielding(api, admin, announcement_id)
    # The personal lane never empties (the push stays queued), yet the cap lets the batch go.
    done = await _done(api, admin, announcement_id)
    assert_all_tried(done["progress"], at_least_sent=1)
    assert len(await messages(emulator, resident.device_tokens[0])) == 1
    settings = get_settings()
    pool: ArqRedis = await create_pool(redis_settings(settings), default_queue_name=settings.queue_name)
    try:
        assert await pool.zcard(settings.queue_name) >= 1  # still there when the broadcast finished
    finally:
        await pool.aclose()
