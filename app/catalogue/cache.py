"""Procedures remembered per API process, so an agency event or a dossier view does not read
its procedure from the store each time (decision 0016, issue 18).

The catalogue changes only when it is loaded (`load_catalogue`: `cwallet catalogue load`,
in any process). A load forgets every procedure here at once and announces it on a Redis
channel that every API process listens to, as session revocations are (decision 0017). A
remembered procedure is trusted only while this process's subscription is up (when it
breaks, everything is forgotten and each call reads the store until it is back), and for
no longer than `TTL_SECONDS` in any case: a write to the store that bypassed the loader is
seen within that time.
"""

from __future__ import annotations

from redis.asyncio import Redis

from app.redis_channel import KeyedMemory, announce, follow_changes
from models.catalogue import Service

CHANNEL_SUFFIX = "catalogue:changed"
TTL_SECONDS = 60.0


class ProcedureCache(KeyedMemory[Service]):
    def __init__(self, ttl_seconds: float = TTL_SECONDS) -> None:
        super().__init__(ttl_seconds)


# One per process.
CACHE = ProcedureCache()


def channel_name(queue_name: str) -> str:
    # Under the queue's name, which already keeps parallel test runs and stacks apart.
    return f"{queue_name}:{CHANNEL_SUFFIX}"


async def announce_changed() -> None:
    """Call after the catalogue was written: forget it here, tell every API process."""
    CACHE.forget()
    await announce(None, CHANNEL_SUFFIX, b"loaded", event="catalogue_changes")


async def listen(redis: Redis, queue_name: str, retry_seconds: float = 1.0) -> None:
    """Follow the catalogue channel for as long as the app runs; the cache is trusted only
    while subscribed. Runs as a task of the app's lifespan."""
    await follow_changes(
        redis,
        channel_name(queue_name),
        CACHE,
        lambda _: CACHE.forget(),
        event="catalogue_changes",
        retry_seconds=retry_seconds,
    )
