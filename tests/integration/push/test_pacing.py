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


async def _heard(
    api: httpx.AsyncClient, admin: Any, emulator: httpx.AsyncClient, announcement_id: str, tokens: list[str]
) -> dict[str, Any]:
    """Wait until each of `tokens` has had the announcement once and its progress counts them
    sent; that progress. Only our own phones: other tests' citizens of the province (ID numbers
    take random real province codes) may have phones the broadcast is still retrying."""

    async def check() -> dict[str, Any] | None:
        heard = [[m["data"]["announcement_id"] for m in await messages(emulator, token)] for token in tokens]
        shown = await _shown(api, admin, announcement_id)
        counted = shown["progress"]["sent"] >= len(tokens)
        return shown if counted and all(h == [announcement_id] for h in heard) else None

    try:
        return await wait_for(check, "the announcement reaching our phones, counted sent")
    except AssertionError as failed:
        progress = (await _shown(api, admin, announcement_id))["progress"]
        raise AssertionError(f"{failed}; its progress: {progress}") from None


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
    await _heard(api, admin, emulator, announcement_id, resident.device_tokens)

    async def not_yielding() -> bool:
        return not (await _shown(api, admin, announcement_id))["progress"]["yielding"]

    await wait_for(not_yielding, "the progress no longer saying it yields")


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
    await _heard(api, admin, emulator, announcement_id, resident.device_tokens)
    settings = get_settings()
    pool: ArqRedis = await create_pool(redis_settings(settings), default_queue_name=settings.queue_name)
    try:
        assert await pool.zcard(settings.queue_name) >= 1  # still there when the broadcast reached us
    finally:
        await pool.aclose()
