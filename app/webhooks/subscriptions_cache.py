"""Agencies' active webhook subscriptions remembered per API process, so an agency event (a
dossier submitted, a status changed) does not read them from the store each time
(decision 0016, 2026-12-03).

Every write to a subscription goes through app/webhooks/store.py, which forgets them here at
once and announces the change on a Redis channel every API process follows
(app/redis_channel.py), as the procedure and agency caches do. Remembered subscriptions are
trusted only while this process's subscription to the channel is up, and for no longer than
`TTL_SECONDS` in any case. A delivery made from a memory a moment stale is harmless: the
delivery job sends only for a subscription still active (app/webhooks/delivery.py).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from app.redis_channel import KeyedMemory, announce, follow_changes

CHANNEL_SUFFIX = "webhooks:changed"
TTL_SECONDS = 60.0

# Agency code → its active subscriptions' `_id` and `event_types` (a handful, capped per
# agency); an agency with none is remembered as such, the common case. One per process.
CACHE: KeyedMemory[list[dict[str, Any]]] = KeyedMemory(TTL_SECONDS)
_publisher: Redis | None = None


def channel_name(queue_name: str) -> str:
    return f"{queue_name}:{CHANNEL_SUFFIX}"


async def announce_changed() -> None:
    """Call after a subscription was written: forget every agency's here, tell every API
    process (subscriptions change seldom; naming the agency would not pay)."""
    CACHE.forget()
    await announce(_publisher, CHANNEL_SUFFIX, b"changed", event="webhook_changes")


async def listen(redis: Redis, queue_name: str, retry_seconds: float = 1.0) -> None:
    """Follow the channel for as long as the app runs. Runs as a task of the app's lifespan."""
    global _publisher
    _publisher = redis
    try:
        await follow_changes(
            redis,
            channel_name(queue_name),
            CACHE,
            lambda _: CACHE.forget(),
            event="webhook_changes",
            retry_seconds=retry_seconds,
        )
    finally:
        _publisher = None
