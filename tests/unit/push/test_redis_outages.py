"""The worker's Redis retry policy: wait for Redis while serving, give up at once otherwise."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from workers import redis_outages
from workers.redis_outages import RetryWhileServing, serving_started


class FlakyRedis:
    """A command that fails `failures` times the way a lost Redis does, then answers."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or RedisConnectionError("Connection closed by server.")
        self.tries = 0
        self.disconnects = 0
        self.tried_again = asyncio.Event()

    async def command(self) -> str:
        self.tries += 1
        if self.tries > 1:
            self.tried_again.set()
        if self.tries <= self.failures:
            raise self.error
        return "PONG"

    async def disconnect(self, _error: Exception) -> None:
        self.disconnects += 1


@pytest.fixture(autouse=True)
def not_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_outages, "_serving", None)


async def test_a_worker_not_yet_or_no_longer_serving_fails_at_once() -> None:
    redis = FlakyRedis(failures=1)
    with pytest.raises(RedisConnectionError):
        await RetryWhileServing().call_with_retry(redis.command, redis.disconnect)
    assert (redis.tries, redis.disconnects) == (1, 1)


async def test_while_serving_a_lost_redis_is_waited_for_on_fresh_connections() -> None:
    redis = FlakyRedis(failures=3, error=ConnectionRefusedError(111, "refused"))

    async def poll_loop() -> str:
        serving_started()
        return await RetryWhileServing().call_with_retry(redis.command, redis.disconnect)

    assert await asyncio.create_task(poll_loop()) == "PONG"
    assert (redis.tries, redis.disconnects) == (4, 3)


async def test_errors_redis_answered_are_not_retried() -> None:
    redis = FlakyRedis(failures=1, error=ResponseError("WRONGTYPE"))

    async def poll_loop() -> None:
        serving_started()
        await RetryWhileServing().call_with_retry(redis.command, redis.disconnect)

    with pytest.raises(ResponseError):
        await asyncio.create_task(poll_loop())
    assert redis.tries == 1


async def test_once_the_poll_loop_has_stopped_the_wait_ends() -> None:
    stop = asyncio.Event()

    async def poll_loop() -> None:
        serving_started()
        await stop.wait()

    loop_task = asyncio.create_task(poll_loop())
    await asyncio.sleep(0)  # the loop starts serving
    redis = FlakyRedis(failures=1_000)
    waiting = asyncio.create_task(RetryWhileServing().call_with_retry(redis.command, redis.disconnect))
    await asyncio.wait_for(redis.tried_again.wait(), timeout=10)  # it is waiting for Redis
    stop.set()  # a shutdown: arq's main task ends
    await loop_task
    with pytest.raises(RedisConnectionError):
        await asyncio.wait_for(waiting, timeout=10)
