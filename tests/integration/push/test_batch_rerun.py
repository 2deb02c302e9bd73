"""A broadcast batch whose worker died halfway, run again: every device hears it once. The
batch's pass is run by the test as the worker would (test_delivery.py does the same for a
personal push), against the store, Redis and the FCM emulator of the session; the batch is
written with the planning's own store functions and marked as queued, so the session's worker
never runs it."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq import ArqRedis
from beanie import PydanticObjectId

from tests.integration.push.helpers import messages

pytestmark = pytest.mark.usefixtures("api")  # the app's lifespan opens the store for the models


class WorkerDied(Exception):
    """Stands for the worker process dying while a batch is out."""


class DiesOnSlice:
    """The real sender, until the worker 'dies' before sending slice `dies_on` (0 = the first)."""

    def __init__(self, sender: Any, dies_on: int) -> None:
        self.sender, self.dies_on, self.calls = sender, dies_on, 0

    async def send(self, pushes: Sequence[Any]) -> list[Any]:
        if self.calls == self.dies_on:
            raise WorkerDied
        self.calls += 1
        return list(await self.sender.send(pushes))


@pytest.fixture
async def sender(stack_env: dict[str, str]) -> AsyncIterator[Any]:
    from notifications.fcm import FcmSender

    async with FcmSender(
        stack_env["FCM_PROJECT_ID"], None, stack_env["FCM_ENDPOINT"], app_name=f"t-{uuid.uuid4().hex}"
    ) as fcm:
        yield fcm


async def _planned_batch(devices: int) -> tuple[PydanticObjectId, list[str]]:
    """An announcement being sent and one batch of `devices` phones, written as planning
    writes them (slices, then the summary), already queued; its id and the phones' tokens."""
    from app.announcements import store
    from models.announcement import Announcement, AnnouncementBatch, BatchDevice
    from models.common import utcnow
    from workers.announcements import SLICE_DEVICES
    from workers.pacing import slices

    announcement = Announcement(
        title_vi="Kiểm tra", title_en="Check", body_vi="Thử lại", body_en="Run again", created_by="test"
    )
    announcement.state, announcement.planned_at = "sending", utcnow()
    await announcement.insert()
    assert announcement.id is not None
    run = secrets.token_hex(4)
    planned = [
        BatchDevice(
            device_id=PydanticObjectId(), citizen_id=PydanticObjectId(), token=f"rerun-{run}-{n:04d}", locale="en"
        )
        for n in range(devices)
    ]
    batch_id = PydanticObjectId()
    parts = slices(planned, SLICE_DEVICES)
    for number, part in enumerate(parts):
        await store.write_slice(batch_id, number, list(part))
    batch = AnnouncementBatch(
        id=batch_id,
        announcement_id=announcement.id,
        seq=0,
        cursor=planned[-1].device_id,
        slices=len(parts),
        counts={"pending": devices},
        queued_at=utcnow(),
        # Not due for the sweeper's look for lost jobs while the test runs.
        next_attempt_at=utcnow() + timedelta(hours=1),
    )
    assert await store.write_batch(batch)
    return batch_id, [d.token for d in planned]


async def test_a_batch_run_again_after_its_worker_died_sends_each_device_once(
    sender: Any, pool: ArqRedis, emulator: httpx.AsyncClient
) -> None:
    from app.announcements import store
    from app.metrics.figures import Tally
    from workers.announcements import SLICE_DEVICES, send_batch

    devices = 2 * SLICE_DEVICES + 30
    batch_id, tokens = await _planned_batch(devices)
    dying = DiesOnSlice(sender, dies_on=2)
    with pytest.raises(WorkerDied):
        await send_batch(dying, pool, str(batch_id), max_attempts=3, in_flight=1, tally=Tally())
    heard = [len(await messages(emulator, token)) for token in tokens]
    assert heard == [1] * (2 * SLICE_DEVICES) + [0] * 30

    # The job again (arq retries it): only the devices not reached yet are sent to.
    tally = Tally()
    assert await send_batch(sender, pool, str(batch_id), max_attempts=3, in_flight=1, tally=tally) == "done"
    assert [len(await messages(emulator, token)) for token in tokens] == [1] * devices
    assert tally.counts == {"sent": 30}
    batch = await store.batch(batch_id)
    assert batch is not None and (batch.state, batch.counts) == ("done", {"sent": devices})
    # Done is done: a late duplicate job sends nothing more.
    assert await send_batch(sender, pool, str(batch_id), max_attempts=3, in_flight=1, tally=Tally()) == "done"
    assert [len(await messages(emulator, token)) for token in tokens] == [1] * devices


async def test_a_planning_run_that_lost_the_race_for_a_batch_leaves_no_device_list_behind() -> None:
    from app.announcements import store
    from models.announcement import AnnouncementBatch, BatchDevice

    batch_id, _ = await _planned_batch(3)
    written = await store.batch(batch_id)
    assert written is not None
    # A second planning run (the sweeper restarted one it thought stalled) reaches the same
    # batch number: its slices are written under its own batch id, then its summary is refused.
    late_id = PydanticObjectId()
    device = BatchDevice(device_id=PydanticObjectId(), citizen_id=PydanticObjectId(), token="late", locale="vi")
    await store.write_slice(late_id, 0, [device])
    late = AnnouncementBatch(
        id=late_id, announcement_id=written.announcement_id, seq=written.seq, cursor=written.cursor, slices=1
    )
    assert not await store.write_batch(late)
    assert await store.batch_slice(late_id, 0) is None
    # The first run's batch is untouched.
    first = await store.batch_slice(batch_id, 0)
    assert first is not None and len(first.devices) == 3
