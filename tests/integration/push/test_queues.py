"""A citizen's own push and a national announcement wait in different queues: the worker
serves both, and a broadcast's batches never stand in front of a dossier's news."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from arq import ArqRedis, create_pool

from app.config import Settings
from app.queue import (
    announcement_queue,
    enqueue_announcement_batch,
    enqueue_announcement_plan,
    enqueue_notification,
    redis_settings,
)


@pytest.fixture
async def pool(redis_url: str) -> AsyncIterator[ArqRedis]:
    queue = f"cwallet:test-queues:{secrets.token_hex(4)}"  # no worker serves it: jobs stay put
    settings = Settings(redis_url=redis_url, queue_name=queue)
    opened = await create_pool(redis_settings(settings), default_queue_name=queue)
    try:
        yield opened
    finally:
        await opened.delete(queue, announcement_queue(queue))
        await opened.aclose()


async def _queued(pool: ArqRedis, queue: str) -> list[str]:
    return sorted(bytes(j).decode() for j in await pool.zrange(queue, 0, -1))


async def test_announcement_jobs_have_their_own_queue(pool: ArqRedis) -> None:
    personal, bulk = pool.default_queue_name, announcement_queue(pool.default_queue_name)
    run = secrets.token_hex(4)  # job ids are global in Redis: this run's own
    # A national broadcast's 60 batches and its plan queued at once, then one citizen's push.
    batches = [f"batch-{run}-{n:03d}" for n in range(60)]
    queued = await asyncio.gather(
        enqueue_announcement_plan(pool, f"ann-{run}", 0), *(enqueue_announcement_batch(pool, b) for b in batches)
    )
    assert all(queued)
    assert await enqueue_notification(pool, f"note-{run}")

    assert await _queued(pool, personal) == [f"notify:note-{run}"]
    assert await _queued(pool, bulk) == sorted([f"announce-plan:ann-{run}:0", *(f"announce:{b}" for b in batches)])
    job_keys = [f"arq:job:{j}" for j in await _queued(pool, personal) + await _queued(pool, bulk)]
    await pool.delete(*job_keys)
