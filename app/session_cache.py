"""Citizens' signed-in sessions known to be live, remembered per API process, so that most
requests skip the store read of their session (decision 0017).

A revocation forgets the session here at once and announces it on a Redis channel that
every API process listens to. An entry is trusted only while this process's subscription
is up: when it breaks, everything is forgotten (announcements may have been missed) and
each request reads its session from the store until the subscription is back. No entry is
trusted for longer than `session_cache_seconds`, nor past the session's own end.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.redis_channel import follow_changes
from models.common import utcnow

log = structlog.get_logger(__name__)

CHANNEL_SUFFIX = "sessions:revoked"


class Revoked(msgspec.Struct, frozen=True):
    """What one announcement ends: sessions by id, or every session of some citizens."""

    sessions: list[str] = []
    citizens: list[str] = []


_decode = msgspec.json.Decoder(Revoked).decode


@dataclass(slots=True)
class _Entry:
    citizen_id: str
    trusted_until: float  # time.monotonic()


class SessionCache:
    def __init__(self, ttl_seconds: float = 30.0, max_entries: int = 100_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.subscribed = False
        # Bumped by every forget: a store read that began before a revocation must not put
        # the session it read back in (see `remember`).
        self.generation = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.subscribed and self.ttl_seconds > 0

    def citizen_of(self, session_id: str) -> str | None:
        """The citizen of a live session, or None: unknown here, stale, or not to be trusted now."""
        if not self.enabled:
            return None
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        if entry.trusted_until <= time.monotonic():
            self._entries.pop(session_id, None)
            return None
        return entry.citizen_id

    def remember(self, session_id: str, citizen_id: str, expires_at: datetime, read_at_generation: int) -> None:
        if not self.enabled or read_at_generation != self.generation:
            return
        left = (expires_at - utcnow()).total_seconds()
        if left <= 0:
            return
        self._entries[session_id] = _Entry(citizen_id, time.monotonic() + min(self.ttl_seconds, left))
        self._entries.move_to_end(session_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, sessions: Iterable[str] = (), citizens: Iterable[str] = ()) -> None:
        self.generation += 1
        for session_id in sessions:
            self._entries.pop(session_id, None)
        ended = set(citizens)
        if ended:
            for session_id in [s for s, e in self._entries.items() if e.citizen_id in ended]:
                del self._entries[session_id]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# One per process: every app in it reads and forgets through the same memory.
CACHE = SessionCache()
_publisher: tuple[Redis, str] | None = None


def channel_name(queue_name: str) -> str:
    # Under the queue's name, which already keeps parallel test runs and stacks apart.
    return f"{queue_name}:{CHANNEL_SUFFIX}"


async def announce_revoked(sessions: Iterable[Any] = (), citizens: Iterable[Any] = ()) -> None:
    """Call after the store says the sessions ended: forget them here, tell the other processes."""
    message = Revoked(sessions=[str(s) for s in sessions], citizens=[str(c) for c in citizens])
    CACHE.forget(message.sessions, message.citizens)
    if _publisher is None or not (message.sessions or message.citizens):
        return
    redis, channel = _publisher
    try:
        await redis.publish(channel, msgspec.json.encode(message))
    except (RedisError, OSError) as exc:
        # The others' subscriptions are down with Redis: they forgot everything already.
        log.warning("session_revocation_not_announced", error=type(exc).__name__)


async def listen(redis: Redis, queue_name: str, ttl_seconds: float, retry_seconds: float = 1.0) -> None:
    """Follow the revocation channel for as long as the app runs; the cache is trusted only
    while subscribed. Runs as a task of the app's lifespan."""
    global _publisher
    channel = channel_name(queue_name)
    _publisher = (redis, channel)
    CACHE.ttl_seconds = ttl_seconds
    if ttl_seconds <= 0:
        return

    def forget(data: bytes) -> None:
        revoked = _decode(data)
        CACHE.forget(revoked.sessions, revoked.citizens)

    await follow_changes(redis, channel, CACHE, forget, event="session_revocations", retry_seconds=retry_seconds)
