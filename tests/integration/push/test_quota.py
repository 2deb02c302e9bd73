"""The project-wide FCM quota in Redis: shared by every worker, a burst waits its turn instead
of being refused."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from devtools.devstack import free_port
from notifications.fcm import TRANSPORTS, FcmSender
from notifications.push import Push
from notifications.quota import FcmQuota


@pytest.fixture
async def redis_clients(redis_url: str) -> AsyncIterator[tuple[Redis, Redis]]:
    """Two connections, as two worker processes would have."""
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


async def test_two_workers_share_one_schedule(redis_clients: tuple[Redis, Redis]) -> None:
    project = f"quota-{uuid.uuid4().hex}"
    # 1,000 messages a second, a bucket of one second's worth.
    workers = [FcmQuota(client, project, per_minute=60_000) for client in redis_clients]
    started = time.monotonic()
    waits = [await workers[i % 2].reserve(500) for i in range(6)]
    elapsed = time.monotonic() - started
    # The first 1,000 go at once; every further 500 waits half a second more, whichever
    # worker asks: 3,000 messages cannot all have gone before 2 s.
    assert waits[:2] == [0.0, 0.0]
    assert waits == sorted(waits)
    assert waits[-1] >= 2.0 - elapsed
    assert waits[-1] <= 2.0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_burst_through_the_sender_is_spread_not_refused(
    redis_clients: tuple[Redis, Redis], stack_env: dict[str, str], emulator: httpx.AsyncClient, transport: str
) -> None:
    quota = FcmQuota(redis_clients[0], f"quota-{uuid.uuid4().hex}", per_minute=15_000)  # 250 a second
    tokens = [f"quota-{uuid.uuid4().hex}" for _ in range(1000)]
    pushes = [Push(token=t, title="t", body="b", data={"notification_id": "q"}, collapse_id="q") for t in tokens]
    async with FcmSender(
        stack_env["FCM_PROJECT_ID"],
        None,
        stack_env["FCM_ENDPOINT"],
        app_name=f"q-{uuid.uuid4().hex}",
        quota=quota,
        h2c=True,
        transport=transport,
    ) as sender:
        before = time.time()
        outcomes = await sender.send(pushes)
    assert [o.kind for o in outcomes] == ["sent"] * len(pushes)
    last = (await emulator.get("/emulator/messages", params={"token": tokens[-1]})).json()["messages"]
    # The second batch of 500 had to wait until 1,000 messages fit the rate: 2 s after the first.
    assert last[0]["received_at"] - before >= 2.0


async def test_without_redis_the_quota_lets_sends_through() -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    try:
        assert await FcmQuota(client, "quota-offline", per_minute=60).reserve(500) == 0.0
    finally:
        await client.aclose()
