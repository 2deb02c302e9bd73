"""Delivery figures for operators: what the workers counted, and what is waiting.

Workers are separate processes, so they do not keep the counters themselves: each send adds
its counts to one Redis hash per deployment (the queue name), and the API reads that hash,
the queue and the store when Prometheus scrapes /metrics or an admin asks
(docs/decisions/0014-push-pipeline.md). Counters survive worker restarts; a Redis restart
resets them, which Prometheus's rate() treats like any counter reset.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.inbox import store as inbox_store
from models.common import utcnow

log = structlog.get_logger(__name__)


def figures_key(queue_name: str) -> str:
    return f"cwallet:push-figures:{queue_name}"


class Tally:
    """Counts of one job's sends, added to the shared figures in one round trip."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def outcome(self, state: str, error_code: str | None) -> None:
        """Count one push by the state it left its device in."""
        if state == "sent":
            self.counts["sent"] += 1
        elif state == "dropped":
            self.counts["dropped"] += 1
        elif state == "pending":
            self.counts["retried"] += 1
        elif state == "failed":
            self.counts[f"failed:{error_code or 'UNKNOWN'}"] += 1

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    async def flush(self, redis: Redis, queue_name: str) -> None:
        if not self.counts:
            return
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for name, amount in self.counts.items():
                    pipe.hincrby(figures_key(queue_name), name, amount)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # Figures are for operators; a lost increment must never fail a delivery.
            log.warning("figures_not_recorded", error_type=type(exc).__name__)
        self.counts.clear()


class QueueDepth(msgspec.Struct):
    ready: int
    # Retries and quiet-hour holds waiting for their time.
    deferred: int


class PushFigures(msgspec.Struct):
    sent: int
    failed_by_reason: dict[str, int]
    retried: int
    tokens_dropped: int
    muted: int
    held_for_quiet_hours: int
    queue: QueueDepth
    oldest_pending_seconds: float | None
    pending_notifications: int


async def read_figures(redis: Redis, queue_name: str) -> PushFigures:
    raw: dict[Any, Any] = {}
    ready = total = 0
    try:
        raw = await redis.hgetall(figures_key(queue_name))  # type: ignore[misc]
        total = await redis.zcard(queue_name)
        ready = await redis.zcount(queue_name, "-inf", int(time.time() * 1000))
    except (RedisError, OSError) as exc:
        log.warning("figures_unavailable", error_type=type(exc).__name__)
    counts = {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}
    now = utcnow()
    oldest, pending = await inbox_store.waiting(now)
    return PushFigures(
        sent=counts.get("sent", 0),
        failed_by_reason={k.removeprefix("failed:"): v for k, v in sorted(counts.items()) if k.startswith("failed:")},
        retried=counts.get("retried", 0),
        tokens_dropped=counts.get("dropped", 0),
        muted=counts.get("muted", 0),
        held_for_quiet_hours=counts.get("held", 0),
        queue=QueueDepth(ready=ready, deferred=max(total - ready, 0)),
        oldest_pending_seconds=(now - oldest["created_at"]).total_seconds() if oldest else None,
        pending_notifications=pending,
    )
