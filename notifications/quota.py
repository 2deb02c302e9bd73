"""The project-wide FCM quota, shared by every worker through Redis.

FCM allows a project so many messages a minute (600,000 by default). Every worker reserves
its messages from one Redis key before each send_each_async call, so the whole fleet stays
under the quota however many workers run: a burst is spread out (the caller waits its turn)
instead of being refused by FCM.

The algorithm is GCRA, a token bucket kept as one timestamp: the key holds the "theoretical
arrival time" (TAT) of the next free slot. A reservation of n messages moves the TAT n/rate
seconds later and tells the caller how long to wait, so reservations are granted in order,
never refused, and cost one round trip. The time is Redis's own (TIME), so workers with
skewed clocks still share one schedule.
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# FCM's limit for one send_each call; the bucket always holds at least that many.
FCM_BATCH_LIMIT = 500

_RESERVE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + n / rate
local wait = new_tat - burst / rate - now
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return string.format('%.6f', wait)
"""


class FcmQuota:
    """Reserve FCM sends against the project's per-minute quota."""

    def __init__(self, redis: Redis, project_id: str, per_minute: int, *, burst: int | None = None) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.key = f"cwallet:fcm-quota:{project_id}"
        self.rate = per_minute / 60.0
        # One second's worth by default, and never less than a full FCM batch.
        self.burst = max(FCM_BATCH_LIMIT, burst if burst is not None else int(self.rate))
        self._reserve = redis.register_script(_RESERVE)

    async def reserve(self, n: int) -> float:
        """Reserve n messages; the seconds to wait before sending them (0: at once)."""
        if n <= 0:
            return 0.0
        try:
            raw = await self._reserve(keys=[self.key], args=[repr(self.rate), self.burst, n])
        except (RedisError, OSError) as exc:
            # Holding every push while Redis is away would turn a blip into lost minutes;
            # FCM's own QUOTA_EXCEEDED (retried after its Retry-After) is the backstop.
            logger.warning("fcm quota unavailable, sending without it: %s", type(exc).__name__)
            return 0.0
        return float(raw.decode() if isinstance(raw, bytes) else raw)

    async def acquire(self, n: int) -> float:
        """Wait until n messages may go; returns how long that took."""
        wait = await self.reserve(n)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait
