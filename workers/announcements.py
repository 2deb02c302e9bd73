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
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import structlog
from arq import ArqRedis
from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.metrics.figures import Tally
from app.queue import enqueue_announcement_batch, enqueue_announcement_plan
from models.announcement import Announcement, AnnouncementBatch, BatchDevice, BatchDevices
from models.citizen import Citizen, Device
from models.common import utcnow
from models.preferences import NotificationPreferences
from notifications.fcm import FcmSender
from notifications.push import Push
from notifications.templates import normalize_locale
from workers.delivery import RetryLater, backoff_seconds, drop_device, state_after

log = structlog.get_logger(__name__)

BATCH_SIZE = 500
DEVICE_FIELDS = {"_id": 1, "citizen_id": 1, "token": 1, "locale": 1}
CATEGORY = "announcements"


async def _chunks(
    segment_province: str | None, after: PydanticObjectId | None
) -> AsyncIterator[tuple[list[dict[str, Any]], PydanticObjectId]]:
    """(devices, cursor) in `_id` order, starting after `after`."""
    after_filter: dict[str, Any] = {"_id": {"$gt": after}} if after is not None else {}
    if segment_province is None:
        chunk: list[dict[str, Any]] = []
        cursor = Device.get_pymongo_collection().find(after_filter, DEVICE_FIELDS).sort("_id", 1)
        async for raw in cursor.batch_size(BATCH_SIZE):
            chunk.append(raw)
            if len(chunk) == BATCH_SIZE:
                yield chunk, chunk[-1]["_id"]
                chunk = []
        if chunk:
            yield chunk, chunk[-1]["_id"]
        return
    # A segment: the province's citizens (their national IDs start with its code), then the
    # devices of each chunk of them.
    query = {"national_id": {"$gte": segment_province, "$lt": segment_province + ":"}, **after_filter}
    citizen_ids: list[Any] = []
    citizens = Citizen.get_pymongo_collection().find(query, {"_id": 1}).sort("_id", 1)
    async for raw in citizens.batch_size(BATCH_SIZE):
        citizen_ids.append(raw["_id"])
        if len(citizen_ids) == BATCH_SIZE:
            yield await _devices_of(citizen_ids), citizen_ids[-1]
            citizen_ids = []
    if citizen_ids:
        yield await _devices_of(citizen_ids), citizen_ids[-1]


async def _devices_of(citizen_ids: list[Any]) -> list[dict[str, Any]]:
    found = Device.get_pymongo_collection().find({"citizen_id": {"$in": citizen_ids}}, DEVICE_FIELDS)
    return await found.to_list()


async def _batch_devices(raw_devices: list[dict[str, Any]]) -> tuple[list[BatchDevice], int]:
    """The chunk's devices with their citizens' quiet hours; those who muted announcements out."""
    citizen_ids = list({d["citizen_id"] for d in raw_devices})
    preferences = {
        p.citizen_id: p
        for p in await NotificationPreferences.find({"citizen_id": {"$in": citizen_ids}}).to_list()
        if citizen_ids
    }
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
    collection = AnnouncementBatch.get_pymongo_collection()
    busy = await collection.count_documents(
        {"announcement_id": announcement_id, "state": "pending", "queued_at": {"$ne": None}, "first_pass_at": None}
    )
    queued = 0
    for _ in range(max(in_flight - busy, 0)):
        now = utcnow()
        # Claimed atomically: two top-ups never queue the same batch as "new".
        claimed = await collection.find_one_and_update(
            {"announcement_id": announcement_id, "state": "pending", "queued_at": None},
            {"$set": {"queued_at": now, "next_attempt_at": now}},
            sort=[("seq", 1)],
            projection={"_id": 1},
            return_document=ReturnDocument.AFTER,
        )
        if claimed is None:
            break
        await enqueue_announcement_batch(pool, str(claimed["_id"]))
        queued += 1
    return queued


async def maybe_finish(announcement_id: PydanticObjectId) -> bool:
    """Mark the announcement done once planned and every batch is done."""
    announcement = await Announcement.get(announcement_id)
    if announcement is None or announcement.planned_at is None or announcement.state == "done":
        return False
    if await AnnouncementBatch.find_one({"announcement_id": announcement_id, "state": "pending"}) is not None:
        return False
    result = await Announcement.get_pymongo_collection().update_one(
        {"_id": announcement_id, "state": {"$ne": "done"}}, {"$set": {"state": "done", "finished_at": utcnow()}}
    )
    return result.modified_count == 1


async def plan_announcement(pool: ArqRedis, announcement_id: str, *, in_flight: int, round_seconds: float) -> str:
    """Write the next batches of an announcement, for at most `round_seconds`; queue another
    round when there is more to plan."""
    try:
        announcement = await Announcement.get(PydanticObjectId(announcement_id))
    except InvalidId:
        return "missing"
    if announcement is None or announcement.planned_at is not None:
        return "planned"
    assert announcement.id is not None
    collection = AnnouncementBatch.get_pymongo_collection()
    last = await collection.find_one({"announcement_id": announcement.id}, {"seq": 1, "cursor": 1}, sort=[("seq", -1)])
    seq = last["seq"] + 1 if last else 0
    deadline = time.monotonic() + round_seconds
    finished = True
    touched = 0.0
    async for raw_devices, cursor in _chunks(announcement.segment.province, last["cursor"] if last else None):
        devices, muted = await _batch_devices(raw_devices)
        batch_id = PydanticObjectId()
        if devices:
            await BatchDevices(id=batch_id, devices=devices).insert()
        batch = AnnouncementBatch(
            id=batch_id,
            announcement_id=announcement.id,
            seq=seq,
            cursor=cursor,
            muted=muted,
            state="pending" if devices else "done",
            counts={"pending": len(devices)},
        )
        try:
            # The summary is the batch's commit: until it exists, planning has not passed here.
            await batch.insert()
        except DuplicateKeyError:
            # Another planning run is ahead of this one (the sweeper restarted a stalled one).
            await BatchDevices.get_pymongo_collection().delete_one({"_id": batch_id})
            return "superseded"
        seq += 1
        # The first batches start at once; later ones are queued by the batches before them,
        # and only checked here now and then (each check is a count and an update).
        if seq <= in_flight or seq % in_flight == 0:
            await top_up(pool, announcement.id, in_flight)
        if time.monotonic() - touched > 1.0:
            touched = time.monotonic()
            await _planned_so_far(announcement.id, seq)
        if time.monotonic() > deadline:
            finished = False
            break
    await _planned_so_far(announcement.id, seq)
    if not finished:
        await top_up(pool, announcement.id, in_flight)
        await enqueue_announcement_plan(pool, announcement_id, seq)
        return "planning"
    await Announcement.get_pymongo_collection().update_one(
        {"_id": announcement.id, "planned_at": None}, {"$set": {"planned_at": utcnow(), "updated_at": utcnow()}}
    )
    await top_up(pool, announcement.id, in_flight)
    log.info("announcement_planned", announcement_id=announcement_id, batches=seq)
    await maybe_finish(announcement.id)
    return "planned"


async def _planned_so_far(announcement_id: PydanticObjectId, batches: int) -> None:
    """Record planning progress: the batch count, and a sign of life for the sweeper."""
    await Announcement.get_pymongo_collection().update_one(
        {"_id": announcement_id},
        {"$max": {"batches": batches}, "$set": {"updated_at": utcnow()}},
    )
    if batches:
        await Announcement.get_pymongo_collection().update_one(
            {"_id": announcement_id, "state": "planning"}, {"$set": {"state": "sending"}}
        )


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
    sender: FcmSender, pool: ArqRedis, batch_id: str, *, max_attempts: int, in_flight: int, tally: Tally
) -> str:
    """One pass over a batch: send to its due devices and record each result. Raises
    RetryLater while some devices wait for a retry or the end of their quiet hours."""
    try:
        batch = await AnnouncementBatch.get(PydanticObjectId(batch_id))
    except InvalidId:
        return "missing"
    if batch is None or batch.state == "done":
        return "done" if batch else "missing"
    announcement = await Announcement.get(batch.announcement_id)
    planned = await BatchDevices.get(batch.id)
    if announcement is None:
        return "missing"
    devices = planned.devices if planned is not None else []
    now = utcnow()
    due = _due(devices, now, tally)
    outcomes = await sender.send([_push(announcement, d) for d in due]) if due else []
    retry_after: float | None = None
    for device, outcome in zip(due, outcomes, strict=True):
        device.attempts += 1
        device.error_code = outcome.error_code
        device.state = state_after(outcome, final_attempt=device.attempts >= max_attempts)
        tally.outcome(device.state, outcome.error_code)
        if device.state == "dropped":
            await drop_device(device.device_id, device.token)
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
    # Devices first, summary second: a crash in between leaves a batch whose next run finds
    # nothing left to send and only writes the summary.
    if due or counts["held"]:
        await BatchDevices.get_pymongo_collection().update_one(
            {"_id": batch.id}, {"$set": {"devices": [d.model_dump() for d in devices]}}
        )
    await AnnouncementBatch.get_pymongo_collection().update_one(
        {"_id": batch.id},
        {
            "$set": {
                "counts": dict(counts),
                "state": "pending" if waits else "done",
                "next_attempt_at": now + timedelta(seconds=defer),
                "first_pass_at": batch.first_pass_at or now,
                "updated_at": now,
            }
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
    lost = AnnouncementBatch.get_pymongo_collection().find(
        {"state": "pending", "queued_at": {"$ne": None}, "next_attempt_at": {"$lt": cutoff}}, {"_id": 1}
    )
    async for raw in lost.limit(500):
        if await enqueue_announcement_batch(pool, str(raw["_id"])):
            counts["batches"] += 1
    active = Announcement.find({"state": {"$in": ["planning", "sending"]}})
    async for announcement in active:
        assert announcement.id is not None
        stalled = announcement.planned_at is None and announcement.updated_at < cutoff
        if stalled and await enqueue_announcement_plan(pool, str(announcement.id), announcement.batches):
            counts["plans"] += 1
        counts["batches"] += await top_up(pool, announcement.id, in_flight)
        await maybe_finish(announcement.id)
    return counts
