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

The same announcement makes the process forget what else it derived from agencies as a
whole: the `dependents` its follower was started with (app/main.py names the procedures'
routings, app/catalogue/routing.py). Any agency's write may change who serves a procedure
where, and routings are few and cheap to read again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from redis.asyncio import Redis

from app.redis_channel import KeyedMemory, Together, announce, follow_changes

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


class AgencyCache(KeyedMemory[AgencyPrincipal]):
    def __init__(self, ttl_seconds: float = TTL_SECONDS) -> None:
        super().__init__(ttl_seconds)


# One per process.
CACHE = AgencyCache()
# This process's connection to Redis while it follows the channel (an API process); other
# processes (the CLI) open one for the announcement.
_publisher: Redis | None = None
# Forgotten whole on any agency's write, while this process follows the channel.
_dependents: tuple[KeyedMemory[Any], ...] = ()


def channel_name(queue_name: str) -> str:
    # Under the queue's name, which already keeps parallel test runs and stacks apart.
    return f"{queue_name}:{CHANNEL_SUFFIX}"


async def announce_changed(codes: Iterable[str] = ()) -> None:
    """Call after an agency was written (app/auth/store.py): forget it here, tell every API
    process. No code: every agency."""
    message = Changed(codes=[str(c) for c in codes])
    CACHE.forget(message.codes)
    for dependent in _dependents:
        dependent.forget()
    await announce(_publisher, CHANNEL_SUFFIX, msgspec.json.encode(message), event="agency_changes")


async def listen(
    redis: Redis,
    queue_name: str,
    cache: AgencyCache = CACHE,
    retry_seconds: float = 1.0,
    dependents: tuple[KeyedMemory[Any], ...] = (),
) -> None:
    """Follow the agencies' channel for as long as the app runs; the cache, and the
    `dependents` derived from agencies as a whole, are trusted only while subscribed. Runs as a
    task of the app's lifespan."""
    global _publisher, _dependents

    def forget(data: bytes) -> None:
        cache.forget(_decode(data).codes)
        for dependent in dependents:
            dependent.forget()

    if cache is CACHE:
        _publisher, _dependents = redis, dependents
    try:
        await follow_changes(
            redis,
            channel_name(queue_name),
            Together(cache, *dependents),
            forget,
            event="agency_changes",
            retry_seconds=retry_seconds,
        )
    finally:
        if cache is CACHE:
            _publisher, _dependents = None, ()
