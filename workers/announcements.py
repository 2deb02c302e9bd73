"""Fanning an announcement out to every device it is for, each exactly once.

Planning walks the devices (everyone) or the province's citizens (a segment) in `_id` order
and writes batches (500 devices, or the devices of 500 citizens of a province), each with its
device list fixed and the cursor it ends at; a planning run that dies resumes after the last
batch written, so no device lands in two batches. Only `batches_in_flight` batches are queued
at a time: each one, after its first pass, queues the next, which keeps the queue short for
personal notifications and lets the quota pace the broadcast. A batch records each device's result, so a batch job
run twice skips the devices already sent (a send lost between FCM's answer and our write
is repeated with the same collapse key, so the phone shows it once).
"""

from __future__ import annotations

import time
from collections import Counter
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
from models.announcement import Announcement, AnnouncementBatch, BatchDevice, BatchDevices
from models.common import utcnow
from notifications.fcm import FcmSender
from notifications.push import Push
from notifications.quota import FcmQuota
from notifications.templates import normalize_locale
from workers.delivery import RetryLater, backoff_seconds, state_after
from workers.pacing import Pacing, send_yielding, yield_to_personal

log = structlog.get_logger(__name__)

BATCH_SIZE = 500
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
    """Mark the announcement done once planned and every batch is done."""
    announcement = await store.announcement(announcement_id)
    if announcement is None or announcement.planned_at is None or announcement.state == "done":
        return False
    if await store.has_pending_batch(announcement_id):
        return False
    return await store.mark_done(announcement_id)


async def plan_announcement(
    pool: ArqRedis, announcement_id: str, *, in_flight: int, round_seconds: float, pacing: Pacing | None = None
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
    chunks = citizen_store.device_chunks(
        announcement.segment.province, last["cursor"] if last else None, BATCH_SIZE, DEVICE_FIELDS
    )
    async for raw_devices, cursor in chunks:
        if pacing is not None:
            await yield_to_personal(pool, pool.default_queue_name, announcement_id, pacing)
        devices, muted = await _batch_devices(raw_devices)
        batch_id = PydanticObjectId()
        batch = AnnouncementBatch(
            id=batch_id,
            announcement_id=announcement.id,
            seq=seq,
            cursor=cursor,
            muted=muted,
            state="pending" if devices else "done",
            counts={"pending": len(devices)},
        )
        if not await store.write_batch(batch, BatchDevices(id=batch_id, devices=devices) if devices else None):
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


def _due(devices: list[BatchDevice], now: datetime, tally: Tally) -> list[BatchDevice]:
    """The devices to send to now; those in their quiet hours are held until the end."""
    due: list[BatchDevice] = []
    for device in devices:
        if device.state not in ("pending", "held"):
            continue
        until = device.quiet_hours.held_until(now) if device.quiet_hours else None
        if until is not None:
            if device.state != "held":
                tally.add("held")
            device.state, device.not_before = "held", until
            continue
        device.state, device.not_before = "pending", None
        due.append(device)
    return due


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
    announcement = await store.announcement(batch.announcement_id)
    planned = await store.batch_devices(batch.id)
    if announcement is None:
        return "missing"
    devices = planned.devices if planned is not None else []
    now = utcnow()
    due = _due(devices, now, tally)
    pushes = [_push(announcement, d) for d in due]
    if pacing is None:
        outcomes = await sender.send(pushes) if pushes else []
    else:
        queue, announcement_id = pool.default_queue_name, str(batch.announcement_id)
        outcomes = await send_yielding(pool, queue, announcement_id, pacing, pushes, sender.send, rate)
    retry_after: float | None = None
    for device, outcome in zip(due, outcomes, strict=True):
        device.attempts += 1
        device.error_code = outcome.error_code
        device.state = state_after(outcome, final_attempt=device.attempts >= max_attempts)
        tally.outcome(device.state, outcome.error_code)
        if device.state == "dropped":
            await citizen_store.drop_device(device.device_id, device.token)
        if outcome.kind == "retryable" and outcome.retry_after_seconds:
            retry_after = max(retry_after or 0.0, outcome.retry_after_seconds)
    counts = Counter(d.state for d in devices)
    waits: list[float] = []
    if counts["pending"]:
        attempt = max(d.attempts for d in devices if d.state == "pending")
        waits.append(backoff_seconds(attempt, retry_after))
    waits += [(d.not_before - now).total_seconds() for d in devices if d.state == "held" and d.not_before]
    defer = min(waits) if waits else 0.0
    first_pass = batch.first_pass_at is None
    now = utcnow()
    # Devices first, summary second (store.record_pass).
    await store.record_pass(
        batch.id,
        devices if due or counts["held"] else None,
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
