"""Wallet pages remembered per API process, so the hot read (a citizen opening the app) does
not ask the store each time (issue 18, decision 0025's addendum "The wallet page cache").

The wallet changes seldom (an agency issues, renews, suspends or revokes a paper) and is
read at every app start. Every write to a citizen's documents goes through
app/wallet/store.py, which forgets that citizen's pages here and announces the citizen on a
Redis channel that every API process follows, as session revocations are (decision 0017).
A page is trusted only while this process is subscribed (when the link breaks, everything
is forgotten and each read goes to the store until it is back), for no longer than
`wallet_cache_seconds`, and only on the day it was made: a document's shown status
(`valid`/`expired`) follows the date.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from redis.asyncio import Redis

from app.redis_channel import announce, follow_changes

CHANNEL_SUFFIX = "wallet:changed"

PageKey = tuple[str, int]  # (citizen id, limit) of a first page


@dataclass(slots=True)
class _Entry:
    page: Any
    day: date
    trusted_until: float  # time.monotonic()


class WalletPageCache:
    def __init__(self, ttl_seconds: float = 30.0, max_entries: int = 20_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.subscribed = False
        # Bumped by every forget: a store read that began before a write must not put the
        # page it read back in (see `get`).
        self.generation = 0
        self._entries: OrderedDict[PageKey, _Entry] = OrderedDict()
        self._keys_of: dict[str, set[PageKey]] = {}

    @property
    def enabled(self) -> bool:
        return self.subscribed and self.ttl_seconds > 0 and self.max_entries > 0

    async def get(self, key: PageKey, today: date, read: Callable[[], Awaitable[Any]]) -> Any:
        """The page under `key` as of `today`: remembered, or read and remembered."""
        if self.enabled:
            entry = self._entries.get(key)
            if entry is not None and entry.day == today and entry.trusted_until > time.monotonic():
                self._entries.move_to_end(key)
                return entry.page
        generation = self.generation
        page = await read()
        if self.enabled and generation == self.generation:
            self._remember(key, _Entry(page, today, time.monotonic() + self.ttl_seconds))
        return page

    def _remember(self, key: PageKey, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        self._keys_of.setdefault(key[0], set()).add(key)
        while len(self._entries) > self.max_entries:
            old, _ = self._entries.popitem(last=False)
            self._drop_key(old)

    def _drop_key(self, key: PageKey) -> None:
        keys = self._keys_of.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_of[key[0]]

    def forget(self, citizens: Iterable[str]) -> None:
        self.generation += 1
        for citizen in citizens:
            for key in self._keys_of.pop(citizen, ()):
                self._entries.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._keys_of.clear()

    def __len__(self) -> int:
        return len(self._entries)


# One per process: every app in it reads and forgets through the same memory.
CACHE = WalletPageCache()
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(list[str]).decode
# Where this process announces its writes: set by the API's lifespan and the worker's
# start-up (their own Redis connection); a process without one (the CLI) opens one per write.
_publisher: Redis | None = None


def channel_name(queue_name: str) -> str:
    # Under the queue's name, which already keeps parallel test runs and stacks apart.
    return f"{queue_name}:{CHANNEL_SUFFIX}"


def publish_with(redis: Redis) -> None:
    """This process announces its wallet writes through `redis` (the worker's start-up)."""
    global _publisher
    _publisher = redis


async def announce_changed(citizens: Iterable[Any]) -> None:
    """Call after a citizen's documents were written: forget their pages here, tell every
    API process."""
    names = sorted({str(c) for c in citizens})
    if names:
        CACHE.forget(names)
        await announce(_publisher, CHANNEL_SUFFIX, _encode(names), event="wallet_changes")


async def listen(
    redis: Redis, queue_name: str, ttl_seconds: float, max_entries: int, retry_seconds: float = 1.0
) -> None:
    """Follow the wallet channel for as long as the app runs; pages are trusted only while
    subscribed. Runs as a task of the API's lifespan."""
    publish_with(redis)
    CACHE.ttl_seconds = ttl_seconds
    CACHE.max_entries = max_entries
    if ttl_seconds <= 0 or max_entries <= 0:
        return
    await follow_changes(
        redis,
        channel_name(queue_name),
        CACHE,
        lambda data: CACHE.forget(_decode(data)),
        event="wallet_changes",
        retry_seconds=retry_seconds,
    )
