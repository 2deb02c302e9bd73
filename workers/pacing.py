"""A broadcast yields to citizens' own pushes (decisions 0016, 0025).

Before each batch an announcement looks at the personal queue: arq keeps it as a Redis sorted
set scored by the time each job is due (a running job stays in it until it finishes), so
`ZCOUNT queue -inf now` is the personal pushes waiting or being sent. While there are more
than `above` of them the batch waits, polling every `poll_seconds`, for at most
`max_wait_seconds` in all: after that it sends anyway, so a broadcast always moves on, however
busy the citizens' lane. Retries and quiet-hour holds (due later) do not count.

A batch sends in slices of `slice_devices` and looks again before each: a push that arrives
while a batch is out waits for one slice, not for 500 sends (decision 0016 measured the
pre-batch look alone).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import structlog
from arq.utils import timestamp_ms
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.in_lists import pieces
from app.queue import yielding_key
from notifications.quota import FcmQuota

log = structlog.get_logger(__name__)
T = TypeVar("T")
R = TypeVar("R")

# How often the "yielding" mark the admin's progress reads is refreshed, and how long it lives
# without a refresh (a worker killed while waiting leaves it for this long at most).
MARK_EVERY_SECONDS = 0.5
MARK_TTL_MS = 1500


@dataclass(frozen=True)
class Pacing:
    max_wait_seconds: float  # 0: never yield
    poll_seconds: float
    above: int  # personal pushes due now that a broadcast tolerates without waiting
    slice_devices: int = 100  # sends between two looks at the personal queue


@dataclass
class WaitBudget:
    """What is left of one batch's waits for citizens' pushes, shared by all its slices."""

    seconds: float


def keeps_waiting(personal_due: int, waited_seconds: float, pacing: Pacing) -> bool:
    """Whether a batch goes on waiting: personal pushes beyond what it tolerates, and its cap not
    reached."""
    return personal_due > pacing.above and waited_seconds < pacing.max_wait_seconds


def slices(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` in consecutive slices of at most `size` (at least one item each)."""
    return pieces(items, size)


async def personal_due(redis: Redis, queue_name: str) -> int:
    """Personal jobs due now: queued, or running (arq removes a job once it finishes)."""
    return int(await redis.zcount(queue_name, "-inf", timestamp_ms()))


async def yield_to_personal(redis: Redis, queue_name: str, announcement_id: str, pacing: Pacing) -> float:
    """Wait while citizens' own pushes are queued, at most `pacing.max_wait_seconds`; the seconds
    waited. Marks the announcement as yielding meanwhile, for its progress. Redis away: no wait
    (the quota and FCM pace the broadcast then)."""
    if pacing.max_wait_seconds <= 0:
        return 0.0
    start = time.monotonic()
    marked = 0.0
    key = yielding_key(queue_name, announcement_id)
    try:
        while keeps_waiting(await personal_due(redis, queue_name), time.monotonic() - start, pacing):
            if time.monotonic() - marked >= MARK_EVERY_SECONDS:
                marked = time.monotonic()
                await redis.set(key, "1", px=MARK_TTL_MS)
            await asyncio.sleep(pacing.poll_seconds)
        if marked:
            await redis.delete(key)
    except (RedisError, OSError) as exc:
        log.warning("announcement_yield_skipped", error_type=type(exc).__name__)
    waited = time.monotonic() - start
    if waited >= pacing.max_wait_seconds:
        log.info("announcement_yield_capped", announcement_id=announcement_id, waited_seconds=round(waited, 2))
    return waited


async def send_yielding(
    redis: Redis,
    queue_name: str,
    announcement_id: str,
    pacing: Pacing,
    items: Sequence[T],
    send: Callable[[Sequence[T]], Awaitable[list[R]]],
    rate: FcmQuota | None = None,
    budget: WaitBudget | None = None,
) -> list[R]:
    """`send` the items slice by slice, letting citizens' queued pushes go before each slice;
    the waits of all slices together stay within `budget` (by default `pacing.max_wait_seconds`;
    a batch sending its stored slices one call each passes one budget to all). With `rate`, the
    broadcasts' own bucket in Redis (ANNOUNCEMENT_MAX_PER_SECOND), each slice also waits its
    turn there, whatever the personal queue says."""
    results: list[R] = []
    left = budget if budget is not None else WaitBudget(pacing.max_wait_seconds)
    for part in slices(items, pacing.slice_devices):
        if left.seconds > 0:
            capped = replace(pacing, max_wait_seconds=left.seconds)
            left.seconds -= await yield_to_personal(redis, queue_name, announcement_id, capped)
        if rate is not None:
            await rate.acquire(len(part))
        results += await send(part)
    return results
