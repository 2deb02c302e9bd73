"""Following a Redis pub/sub channel for as long as a process runs (decision 17).

What a process remembers (live sessions, procedures) is trusted only while it is subscribed
to the channel that announces changes: subscribed, it starts from nothing; on each message
it forgets what the message names; when the link is lost (or the task ends) it forgets
everything and stops trusting until it is subscribed again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

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
