"""The worker rides out a Redis outage instead of exiting (decision 0020).

arq retries only its first connection (`conn_retries`); once running, its poll loop ends
the process at the first lost Redis command. Every Redis command of the worker therefore
goes through `RetryWhileServing`: while the worker serves (from its startup hook until its
poll loop stops), a command that cannot reach Redis waits with capped, jittered backoff and
runs again on a fresh connection, so the poll loop, the cron schedule and running jobs all
pause and carry on when Redis is back. Once the worker is stopping, a lost command fails
at once, so a shutdown during an outage does not hang.

One command cannot be retried in place: a connection lost between WATCH and EXEC voids the
watch, and redis-py raises WatchError, which arq's `start_jobs` does not expect. Every arq
worker of ours is therefore an `OutageTolerantWorker` (`python -m workers` starts one), which
gives that job back to the queue and goes on polling.

Redis comes back empty (no persistence): the sweeper, which the cron schedule runs as soon
as the poll loop resumes, queues again what the store still holds as pending.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from arq.connections import RedisSettings
from arq.worker import Worker
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Waits between tries grow from 0.1 s to at most this: a worker is back at work within
# about this long after Redis returns.
MAX_WAIT_SECONDS = 2.0
FIRST_WAIT_SECONDS = 0.1
# A worker started while Redis is down waits this many seconds for it, then exits.
STARTUP_WAIT_SECONDS = 300

_serving: asyncio.Task[Any] | None = None


def serving_started() -> None:
    """Call from the worker's startup hook: it runs inside arq's main task (the poll loop),
    and the worker serves for as long as that task runs."""
    global _serving
    _serving = asyncio.current_task()


def serving() -> bool:
    return _serving is not None and not _serving.done()


class RetryWhileServing(Retry):
    """redis-py's retry policy, unbounded while the worker serves, none once it stops."""

    def __init__(self) -> None:
        super().__init__(
            EqualJitterBackoff(cap=MAX_WAIT_SECONDS, base=FIRST_WAIT_SECONDS),
            retries=-1,
            supported_errors=(RedisConnectionError, RedisTimeoutError),
        )
        # Opening a connection fails with the socket's own error (refused, timed out), which
        # redis-py wraps into its ConnectionError only after this policy has given up.
        self.update_supported_errors([OSError])

    async def call_with_retry(self, do: Callable[[], Awaitable[T]], fail: Callable[[Any], Any]) -> T:
        failures = 0  # the backoff is stateless: nothing to reset
        lost_at = 0.0
        while True:
            try:
                result = await do()
            except self._supported_errors as error:
                await fail(error)  # drops the broken connection; the next try opens a new one
                if not serving():
                    raise
                failures += 1
                if failures == 1:
                    lost_at = time.monotonic()
                    log.warning("redis_unreachable_waiting", error_type=type(error).__name__)
                await asyncio.sleep(self._backoff.compute(failures))
                continue
            if failures:
                log.info("redis_reachable_again", waited_s=round(time.monotonic() - lost_at, 1))
            return result


def riding_out_outages(base: RedisSettings) -> RedisSettings:
    """The worker's Redis settings: every command retried while serving; at startup, wait."""
    return dataclasses.replace(
        base,
        retry=RetryWhileServing(),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        conn_retries=STARTUP_WAIT_SECONDS,
        conn_retry_delay=1,
    )


class OutageTolerantWorker(Worker):
    """An arq Worker whose poll loop survives a Redis outage met while claiming a job."""

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        try:
            await super().start_jobs(job_ids)
        except WatchError:
            if not serving():
                raise
            # Lost between WATCH and EXEC (see the module's docstring): arq had counted the job
            # it was claiming but had not marked it in progress, so it stays queued; give its
            # slot back. The jobs after it in this poll stay queued too: the next poll takes them.
            self.job_counter -= 1
            self.sem.release()
            log.warning("redis_lost_while_claiming_a_job")
