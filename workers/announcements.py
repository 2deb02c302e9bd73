"""Fanning an announcement out to every device it is for, each exactly once.

Planning walks everyone's devices citizen by citizen, newest citizen first (in windows of the
citizens' ids' creation time, through the `citizen_id` index: app/citizens/store.py), or a
province's citizens in `_id` order, and writes batches (up to 500 devices, never part of a
citizen's; or the devices of 500 citizens of a province), each with its device list fixed, in
slices of 100, and the citizen it ends at; a planning run that dies resumes after the last
batch written, so no device lands in two batches. The list is what the walk finds when it
reaches each citizen: a phone registered during planning is included if its citizen has not
been reached yet, and not if the citizen's window was already read (a citizen who signs up
during planning is newer than the first window, so left out). Before 2026-12-02 (evening) the
walk went over the devices' own `_id`s, and so included every device registered before the
walk ended (decision 0025, addendum of that evening).

Only `batches_in_flight` batches are queued at a time: each one, after its first pass, queues
the next, which keeps the queue short for personal notifications and lets the quota pace the
broadcast. A batch sends slice by slice and, after each slice, records what came of its sends
in one small document, so a batch job run twice skips the devices already sent (a send lost
between FCM's answer and our write is repeated with the same collapse key, so the phone shows
it once); the device lists are never rewritten (decision 0025, addendum of 2026-12-02).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import structlog
from arq import ArqRedis
from beanie import PydanticObjectId
from bson.errors import InvalidId

from app.announcements import store
from app.citizens import store as citizen_store
from app.inbox import store as inbox_store
from app.metrics.figures import Tally
from app.queue import enqueue_announcement_batch, enqueue_announcement_plan
from models.announcement import Announcement, AnnouncementBatch, BatchDevice, CursorOf, DeviceOutcome
from models.common import utcnow
from notifications.fcm import FcmSender
from notifications.push import Push
from notifications.quota import FcmQuota
from notifications.templates import normalize_locale
from workers.delivery import RetryLater, backoff_seconds, state_after
from workers.pacing import Pacing, WaitBudget, send_yielding, slices, yield_to_personal

log = structlog.get_logger(__name__)

# The default batch (ANNOUNCEMENT_BATCH_DEVICES sets it).
BATCH_SIZE = 500
# Devices per stored slice of a batch (and per outcome record): each store operation of a
# broadcast stays small, however large the batch (decision 0025).
SLICE_DEVICES = 100
DEVICE_FIELDS = {"_id": 1, "citizen_id": 1, "token": 1, "locale": 1}
CATEGORY = "announcements"


async def _batch_devices(raw_devices: list[dict[str, Any]]) -> tuple[list[BatchDevice], int]:
    """The chunk's devices with their citizens' quiet hours; those who muted announcements out."""
    citizen_ids = list({d["citizen_id"] for d in raw_devices})
    preferences = {p.citizen_id: p for p in await inbox_store.preferences_of_many(citizen_ids) if citizen_ids}
    devices: list[BatchDevice] = []
    muted = 0
    for raw in raw_devices:
        wanted = preferences.get(raw["citizen_id"])
        if wanted is not None and CATEGORY in wanted.muted:
            muted += 1
            continue
        devices.append(
            BatchDevice(
                device_id=raw["_id"],
                citizen_id=raw["citizen_id"],
                token=raw["token"],
                locale=raw.get("locale") or "vi",
                quiet_hours=wanted.quiet_hours if wanted else None,
            )
        )
    return devices, muted


async def top_up(pool: ArqRedis, announcement_id: PydanticObjectId, in_flight: int) -> int:
    """Queue the next batches until `in_flight` are on their first pass; how many were queued."""
    busy = await store.batches_in_flight(announcement_id)
    queued = 0
    for _ in range(max(in_flight - busy, 0)):
        claimed = await store.claim_next_batch(announcement_id, utcnow())
        if claimed is None:
            break
        await enqueue_announcement_batch(pool, str(claimed))
        queued += 1
    return queued


async def maybe_finish(announcement_id: PydanticObjectId) -> bool:
    """Mark the announcement done once planned and every batch is done (one small read while a
    batch is pending, as after nearly every batch)."""
    if await store.has_pending_batch(announcement_id):
        return False
    announcement = await store.announcement(announcement_id)
    if announcement is None or announcement.planned_at is None or announcement.state == "done":
        return False
    return await store.mark_done(announcement_id)


async def plan_announcement(
    pool: ArqRedis,
    announcement_id: str,
    *,
    in_flight: int,
    round_seconds: float,
    pacing: Pacing | None = None,
    batch_devices: int = BATCH_SIZE,
) -> str:
    """Write the next batches of an announcement, for at most `round_seconds`; queue another
    round when there is more to plan. With `pacing`, each chunk first lets citizens' queued
    pushes go (its reads and writes take the store they need; workers/pacing.py)."""
    try:
        announcement = await store.announcement(PydanticObjectId(announcement_id))
    except InvalidId:
        return "missing"
    if announcement is None or announcement.planned_at is not None:
        return "planned"
    assert announcement.id is not None
    last = await store.last_batch(announcement.id)
    seq = last["seq"] + 1 if last else 0
    deadline = time.monotonic() + round_seconds
    finished = True
    touched = 0.0
    province = announcement.segment.province
    # An announcement to everyone whose planning the version before began (its batches'
    # cursors are devices) is finished with that version's walk.
    cursor_of: CursorOf = (
        "device" if province is None and last and last.get("cursor_of", "device") == "device" else "citizen"
    )
    chunks = citizen_store.device_chunks(
        province,
        last["cursor"] if last else None,
        batch_devices,
        DEVICE_FIELDS,
        SLICE_DEVICES,
        cursor_is_device=cursor_of == "device",
        window=(last["window"][0], last["window"][1]) if last and last.get("window") else None,
    )
    async for raw_devices, cursor, window in chunks:
        if pacing is not None:
            await yield_to_personal(pool, pool.default_queue_name, announcement_id, pacing)
        devices, muted = await _batch_devices(raw_devices)
        batch_id = PydanticObjectId()
        parts = slices(devices, SLICE_DEVICES)
        for number, part in enumerate(parts):
            await store.write_slice(batch_id, number, list(part))
        batch = AnnouncementBatch(
            id=batch_id,
            announcement_id=announcement.id,
            seq=seq,
            cursor=cursor,
            cursor_of=cursor_of,
            window=list(window) if window is not None else None,
            muted=muted,
            slices=len(parts),
            state="pending" if devices else "done",
            counts={"pending": len(devices)},
        )
        if not await store.write_batch(batch):
            # Another planning run is ahead of this one (the sweeper restarted a stalled one).
            return "superseded"
        seq += 1
        # The first batches start at once; later ones are queued by the batches before them,
        # and only checked here now and then (each check is a count and an update).
        if seq <= in_flight or seq % in_flight == 0:
            await top_up(pool, announcement.id, in_flight)
        if time.monotonic() - touched > 1.0:
            touched = time.monotonic()
            await store.planned_so_far(announcement.id, seq)
        if time.monotonic() > deadline:
            finished = False
            break
    await store.planned_so_far(announcement.id, seq)
    if not finished:
        await top_up(pool, announcement.id, in_flight)
        await enqueue_announcement_plan(pool, announcement_id, seq)
        return "planning"
    await store.mark_planned(announcement.id)
    await top_up(pool, announcement.id, in_flight)
    log.info("announcement_planned", announcement_id=announcement_id, batches=seq)
    await maybe_finish(announcement.id)
    return "planned"


def _push(announcement: Announcement, device: BatchDevice) -> Push:
    english = normalize_locale(device.locale) == "en"
    announcement_id = str(announcement.id)
    return Push(
        token=device.token,
        title=announcement.title_en if english else announcement.title_vi,
        body=announcement.body_en if english else announcement.body_vi,
        data={"type": "announcement", "announcement_id": announcement_id, "notification_id": announcement_id},
        collapse_id=announcement_id,
    )


def _due(devices: list[BatchDevice], now: datetime, tally: Tally) -> tuple[list[int], list[int]]:
    """The places of the devices to send to now, and of those newly held: a device in its
    quiet hours is held until their end."""
    due: list[int] = []
    held: list[int] = []
    for place, device in enumerate(devices):
        if device.state not in ("pending", "held"):
            continue
        until = device.quiet_hours.held_until(now) if device.quiet_hours else None
        if until is not None:
            if device.state != "held":
                tally.add("held")
                held.append(place)
            device.state, device.not_before = "held", until
            continue
        device.state, device.not_before = "pending", None
        due.append(place)
    return due, held


def _overlay(devices: list[BatchDevice], start: int, recorded: dict[int, list[DeviceOutcome]]) -> None:
    """The states of a slice's devices (the first at place `start` in the batch) after the
    outcome records so far, in their order: each push's result is one attempt, a hold none."""
    for place, device in enumerate(devices, start):
        for entry in recorded.get(place, ()):
            if entry.state != "held":
                device.attempts += 1
                device.error_code = entry.error_code
            device.state = entry.state


# The message of each announcement this process sends (it never changes once created): read
# once, not once per batch.
_messages: dict[PydanticObjectId, Announcement] = {}


async def _message(announcement_id: PydanticObjectId) -> Announcement | None:
    found = _messages.get(announcement_id)
    if found is None and (found := await store.announcement(announcement_id)) is not None:
        if len(_messages) >= 32:
            _messages.clear()
        _messages[announcement_id] = found
    return found


async def _planned(batch: AnnouncementBatch) -> AsyncIterator[tuple[int, list[BatchDevice]]]:
    """The batch's devices slice by slice, each read when its turn comes, with the place of its
    first device; a batch planned before slices as one slice."""
    assert batch.id is not None
    if batch.slices is None:
        legacy = await store.legacy_batch_devices(batch.id)
        yield 0, legacy.devices if legacy is not None else []
        return
    start = 0
    for number in range(batch.slices):
        part = await store.batch_slice(batch.id, number)
        devices = part.devices if part is not None else []
        yield start, devices
        start += len(devices)


async def send_batch(
    sender: FcmSender,
    pool: ArqRedis,
    batch_id: str,
    *,
    max_attempts: int,
    in_flight: int,
    tally: Tally,
    pacing: Pacing | None = None,
    rate: FcmQuota | None = None,
) -> str:
    """One pass over a batch: send to its due devices and record each result. Raises
    RetryLater while some devices wait for a retry or the end of their quiet hours. With
    `pacing`, it lets citizens' queued pushes go before each slice of sends (workers/pacing.py)."""
    try:
        batch = await store.batch(PydanticObjectId(batch_id))
    except InvalidId:
        return "missing"
    if batch is None or batch.state == "done":
        return "done" if batch else "missing"
    assert batch.id is not None
    announcement = await _message(batch.announcement_id)
    if announcement is None:
        return "missing"
    recorded: dict[int, list[DeviceOutcome]] = {}
    records = await store.batch_outcomes(batch.id)
    for record in records:
        for entry in record:
            recorded.setdefault(entry.i, []).append(entry)
    number = len(records)
    now = utcnow()
    budget = WaitBudget(pacing.max_wait_seconds) if pacing is not None else None
    devices: list[BatchDevice] = []
    retry_after: float | None = None
    async for start, part in _planned(batch):
        _overlay(part, start, recorded)
        devices += part
        due, held = _due(part, now, tally)
        pushes = [_push(announcement, part[place]) for place in due]
        if pacing is None:
            outcomes = await sender.send(pushes) if pushes else []
        else:
            queue, announcement_id = pool.default_queue_name, str(batch.announcement_id)
            outcomes = await send_yielding(pool, queue, announcement_id, pacing, pushes, sender.send, rate, budget)
        written = [DeviceOutcome(i=start + place, state="held") for place in held]
        for place, outcome in zip(due, outcomes, strict=True):
            device = part[place]
            device.attempts += 1
            device.error_code = outcome.error_code
            device.state = state_after(outcome, final_attempt=device.attempts >= max_attempts)
            tally.outcome(device.state, outcome.error_code)
            if device.state == "dropped":
                await citizen_store.drop_device(device.device_id, device.token)
            if outcome.kind == "retryable" and outcome.retry_after_seconds:
                retry_after = max(retry_after or 0.0, outcome.retry_after_seconds)
            written.append(DeviceOutcome(i=start + place, state=device.state, error_code=outcome.error_code))
        # This slice's outcomes before the next slice is sent: a run that dies repeats one slice
        # at most. Taken already: another run of this batch is ahead of this one.
        if written:
            if not await store.record_outcomes(batch.id, number, written):
                log.warning("announcement_batch_superseded", batch_id=batch_id)
                return "superseded"
            number += 1
    counts = Counter(d.state for d in devices)
    waits: list[float] = []
    if counts["pending"]:
        attempt = max(d.attempts for d in devices if d.state == "pending")
        waits.append(backoff_seconds(attempt, retry_after))
    waits += [(d.not_before - now).total_seconds() for d in devices if d.state == "held" and d.not_before]
    defer = min(waits) if waits else 0.0
    first_pass = batch.first_pass_at is None
    now = utcnow()
    # Outcome records first, summary second (store.record_pass).
    await store.record_pass(
        batch.id,
        {
            "counts": dict(counts),
            "state": "pending" if waits else "done",
            "next_attempt_at": now + timedelta(seconds=defer),
            "first_pass_at": batch.first_pass_at or now,
            "updated_at": now,
        },
    )
    if first_pass:
        await top_up(pool, batch.announcement_id, in_flight)
    if waits:
        raise RetryLater(defer)
    await maybe_finish(batch.announcement_id)
    return "done"


async def sweep_announcements(pool: ArqRedis, *, older_than: timedelta, in_flight: int) -> dict[str, int]:
    """What a crash or a Redis restart left behind: batch jobs lost while queued, planning
    that stalled, windows no batch topped up, announcements whose last batch finished unseen."""
    cutoff = utcnow() - older_than
    counts = {"batches": 0, "plans": 0}
    for lost in await store.lost_batch_ids(cutoff, 500):
        if await enqueue_announcement_batch(pool, str(lost)):
            counts["batches"] += 1
    async for announcement in store.active():
        assert announcement.id is not None
        stalled = announcement.planned_at is None and announcement.updated_at < cutoff
        if stalled and await enqueue_announcement_plan(pool, str(announcement.id), announcement.batches):
            counts["plans"] += 1
        counts["batches"] += await top_up(pool, announcement.id, in_flight)
        await maybe_finish(announcement.id)
    return counts
