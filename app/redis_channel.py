"""Following a Redis pub/sub channel for as long as a process runs (decision 17).

What a process remembers (live sessions, procedures) is trusted only while it is subscribed
to the channel that announces changes: subscribed, it starts from nothing; on each message
it forgets what the message names; when the link is lost (or the task ends) it forgets
everything and stops trusting until it is subscribed again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.config import get_settings

log = structlog.get_logger(__name__)


async def follow(
    redis: Redis,
    channel: str,
    *,
    subscribed: Callable[[], None],
    received: Callable[[bytes], None],
    lost: Callable[[], None],
    lost_event: str,
    retry_seconds: float = 1.0,
) -> None:
    """Run until cancelled: `subscribed()` each time the subscription is (re)made,
    `received(data)` per message, `lost()` when the link drops or the task ends."""
    while True:
        try:
            async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(channel)
                subscribed()
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is None:
                        await pubsub.ping()  # a closed link fails here rather than never
                    elif message.get("type") == "message":
                        received(message["data"])
        except asyncio.CancelledError:
            lost()
            raise
        except (RedisError, OSError) as exc:
            lost()
            log.warning(lost_event, error=type(exc).__name__, retry_in_s=retry_seconds)
            await asyncio.sleep(retry_seconds)


class Memory(Protocol):
    """What a process remembers on the strength of a channel (a cache of decision 17's kind)."""

    subscribed: bool

    def clear(self) -> None: ...


V = TypeVar("V")


class KeyedMemory(Generic[V]):
    """Values read from the store, by key, remembered while the process follows the channel
    that announces their changes, and for no longer than `ttl_seconds` in any case (a write
    that bypassed the announcing module is seen within that time). Nothing is remembered for
    a key the store does not have: making it is seen at once anyway."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self.subscribed = False
        # Bumped by every forget: a store read that began before a write must not put the
        # value it read back in.
        self.generation = 0
        self._entries: dict[str, tuple[V, float]] = {}

    async def get(self, key: str, read: Callable[[str], Awaitable[V | None]]) -> V | None:
        if self.subscribed:
            found = self._entries.get(key)
            if found is not None and found[1] > time.monotonic():
                return found[0]
        generation = self.generation
        value = await read(key)
        if value is not None and self.subscribed and generation == self.generation:
            self._entries[key] = (value, time.monotonic() + self.ttl_seconds)
        return value

    def forget(self, keys: Iterable[str] = ()) -> None:
        """These keys; with none named, every key."""
        self.generation += 1
        named = list(keys)
        if not named:
            self._entries.clear()
        for key in named:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self.forget()

    def __len__(self) -> int:
        return len(self._entries)


class Together:
    """Several memories one channel speaks for: trusted, distrusted and emptied as one."""

    def __init__(self, *memories: Memory) -> None:
        self.memories = memories

    @property
    def subscribed(self) -> bool:
        return all(memory.subscribed for memory in self.memories)

    @subscribed.setter
    def subscribed(self, value: bool) -> None:
        for memory in self.memories:
            memory.subscribed = value

    def clear(self) -> None:
        for memory in self.memories:
            memory.clear()


async def follow_changes(
    redis: Redis,
    channel: str,
    memory: Memory,
    forget: Callable[[bytes], None],
    *,
    event: str,
    retry_seconds: float = 1.0,
) -> None:
    """`follow` for a memory: trusted (from empty) while subscribed, emptied and distrusted
    when the link is lost; each message goes to `forget`, and one it cannot read
    (`msgspec.DecodeError`) empties the memory. `event` names the log lines
    (`<event>_unreadable`, `<event>_unfollowed`)."""

    def subscribed() -> None:
        memory.clear()
        memory.subscribed = True

    def received(data: bytes) -> None:
        try:
            forget(data)
        except msgspec.DecodeError:
            log.warning(f"{event}_unreadable")
            memory.clear()

    def lost() -> None:
        memory.subscribed = False
        memory.clear()

    await follow(
        redis,
        channel,
        subscribed=subscribed,
        received=received,
        lost=lost,
        lost_event=f"{event}_unfollowed",
        retry_seconds=retry_seconds,
    )


async def announce(publisher: Redis | None, channel_suffix: str, message: bytes, *, event: str) -> None:
    """Publish a change on `<QUEUE_NAME>:<channel_suffix>` through this process's own Redis
    connection, or, in a process that has none (the CLI), a short one. Logged as
    `<event>_not_announced`, never raised, when Redis is away: the write stands, and the
    followers' subscriptions are down with Redis, so they forgot everything already."""
    settings = get_settings()
    redis = publisher or Redis.from_url(settings.redis_url)
    try:
        await redis.publish(f"{settings.queue_name}:{channel_suffix}", message)
    except (RedisError, OSError) as exc:
        log.warning(f"{event}_not_announced", error=type(exc).__name__)
    finally:
        if redis is not publisher:
            await redis.aclose()


class WholeMemoryChannel:
    """The channel `<QUEUE_NAME>:<suffix>` announcing writes to one memory, which any message
    empties whole (its writes are rare: naming what changed would not pay). Writers call
    `announce_changed` after each write; the API's lifespan runs `listen`."""

    def __init__(self, memory: KeyedMemory[Any], suffix: str, *, event: str) -> None:
        self.memory = memory
        self.suffix = suffix
        self.event = event
        # This process's connection while it follows the channel; others open a short one.
        self._publisher: Redis | None = None

    async def announce_changed(self) -> None:
        """Forget the memory here at once, and tell every API process."""
        self.memory.forget()
        await announce(self._publisher, self.suffix, b"changed", event=self.event)

    async def listen(self, redis: Redis, queue_name: str, retry_seconds: float = 1.0) -> None:
        """Follow the channel for as long as the app runs; the memory is trusted only while
        subscribed."""
        self._publisher = redis
        try:
            await follow_changes(
                redis,
                # Under the queue's name, which already keeps parallel test runs and stacks apart.
                f"{queue_name}:{self.suffix}",
                self.memory,
                lambda _: self.memory.forget(),
                event=self.event,
                retry_seconds=retry_seconds,
            )
        finally:
            self._publisher = None
