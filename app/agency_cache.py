"""Agencies' principals (code, procedures, document types, scopes) remembered per API
process, so an agency's request does not read its agency from the store each time
(decision 0016, issue 18).

Every write to an agency goes through app/auth/store.py, and each such write calls
`announce_changed`: the agency is forgotten here at once and announced on a Redis channel
every API process follows (app/redis_channel.py), as the procedure cache does
(app/catalogue/cache.py). A remembered agency is trusted only while this process's
subscription is up (when it breaks, everything is forgotten and each request reads the
store until it is back), and for no longer than `TTL_SECONDS` in any case: a write that
bypassed app/auth/store.py (a hand edit in the store) is seen within that time.

An agency that does not exist is not remembered: registering it is seen at once anyway.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

import msgspec
from redis.asyncio import Redis

from app.redis_channel import announce, follow_changes

CHANNEL_SUFFIX = "agencies:changed"
TTL_SECONDS = 60.0


class AgencyPrincipal(msgspec.Struct, frozen=True, kw_only=True):
    """What a request's principal takes from its agency."""

    code: str
    service_codes: tuple[str, ...]
    document_types: tuple[str, ...]
    scopes: tuple[str, ...]


class Changed(msgspec.Struct, frozen=True):
    """The agencies one write changed, by code; none named: forget every agency."""

    codes: list[str] = []


_decode = msgspec.json.Decoder(Changed).decode


class AgencyCache:
    def __init__(self, ttl_seconds: float = TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self.subscribed = False
        # Bumped by every forget: a store read that began before a write must not put the
        # agency it read back in.
        self.generation = 0
        self._entries: dict[str, tuple[AgencyPrincipal, float]] = {}

    async def get(self, code: str, read: Callable[[str], Awaitable[AgencyPrincipal | None]]) -> AgencyPrincipal | None:
        if self.subscribed:
            found = self._entries.get(code)
            if found is not None and found[1] > time.monotonic():
                return found[0]
        generation = self.generation
        agency = await read(code)
        if agency is not None and self.subscribed and generation == self.generation:
            self._entries[code] = (agency, time.monotonic() + self.ttl_seconds)
        return agency

    def clear(self) -> None:
        self.forget()

    def forget(self, codes: Iterable[str] = ()) -> None:
        """These agencies; with none named, every agency."""
        self.generation += 1
        named = list(codes)
        if not named:
            self._entries.clear()
        for code in named:
            self._entries.pop(code, None)

    def __len__(self) -> int:
        return len(self._entries)


# One per process.
CACHE = AgencyCache()
# This process's connection to Redis while it follows the channel (an API process); other
# processes (the CLI) open one for the announcement.
_publisher: Redis | None = None


def channel_name(queue_name: str) -> str:
    # Under the queue's name, which already keeps parallel test runs and stacks apart.
    return f"{queue_name}:{CHANNEL_SUFFIX}"


async def announce_changed(codes: Iterable[str] = ()) -> None:
    """Call after an agency was written (app/auth/store.py): forget it here, tell every API
    process. No code: every agency."""
    message = Changed(codes=[str(c) for c in codes])
    CACHE.forget(message.codes)
    await announce(_publisher, CHANNEL_SUFFIX, msgspec.json.encode(message), event="agency_changes")


async def listen(redis: Redis, queue_name: str, cache: AgencyCache = CACHE, retry_seconds: float = 1.0) -> None:
    """Follow the agencies' channel for as long as the app runs; the cache is trusted only
    while subscribed. Runs as a task of the app's lifespan."""
    global _publisher
    if cache is CACHE:
        _publisher = redis
    try:
        await follow_changes(
            redis,
            channel_name(queue_name),
            cache,
            lambda data: cache.forget(_decode(data).codes),
            event="agency_changes",
            retry_seconds=retry_seconds,
        )
    finally:
        if cache is CACHE:
            _publisher = None
