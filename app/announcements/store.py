"""The announcements area's one module that touches the store (decision 0024: one per area).

An announcement, its batches (each a summary, `AnnouncementBatch`; its fixed device list in
slices, `BatchSlice`; and what came of each slice's sends, `BatchOutcomes`, decision 0025's
addendum of 2026-12-02); the fan-out worker (workers/announcements.py) and the API read and write
them only through here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.announcement import Announcement, AnnouncementBatch, BatchDevices, BatchOutcomes, BatchSlice, DeviceOutcome
from models.common import utcnow

# --- announcements ------------------------------------------------------------------------


async def announcement(announcement_id: PydanticObjectId) -> Announcement | None:
    return await Announcement.get(announcement_id)


async def insert_once(announcement: Announcement, idempotency_key: str | None) -> tuple[Announcement, bool]:
    """Store a new announcement, or find the one this staff member made with the same key;
    returns it and whether it is new."""
    try:
        await announcement.insert()
        return announcement, True
    except DuplicateKeyError:
        existing = await Announcement.find_one(
            {"created_by": announcement.created_by, "idempotency_key": idempotency_key}
        )
        assert existing is not None
        return existing, False


async def newest(query: dict[str, Any], limit: int) -> list[Announcement]:
    return await Announcement.find(query).sort("-_id").limit(limit).to_list()


async def active() -> AsyncIterator[Announcement]:
    """Announcements still planning or sending."""
    async for found in Announcement.find({"state": {"$in": ["planning", "sending"]}}):
        yield found


async def mark_done(announcement_id: PydanticObjectId) -> bool:
    result = await Announcement.get_pymongo_collection().update_one(
        {"_id": announcement_id, "state": {"$ne": "done"}}, {"$set": {"state": "done", "finished_at": utcnow()}}
    )
    return result.modified_count == 1


async def mark_planned(announcement_id: PydanticObjectId) -> None:
    await Announcement.get_pymongo_collection().update_one(
        {"_id": announcement_id, "planned_at": None}, {"$set": {"planned_at": utcnow(), "updated_at": utcnow()}}
    )


async def planned_so_far(announcement_id: PydanticObjectId, batches: int) -> None:
    """Record planning progress: the batch count, and a sign of life for the sweeper."""
    await Announcement.get_pymongo_collection().update_one(
        {"_id": announcement_id},
        {"$max": {"batches": batches}, "$set": {"updated_at": utcnow()}},
    )
    if batches:
        await Announcement.get_pymongo_collection().update_one(
            {"_id": announcement_id, "state": "planning"}, {"$set": {"state": "sending"}}
        )


# --- batches ------------------------------------------------------------------------------


async def batch(batch_id: PydanticObjectId) -> AnnouncementBatch | None:
    return await AnnouncementBatch.get(batch_id)


async def legacy_batch_devices(batch_id: PydanticObjectId | None) -> BatchDevices | None:
    """The one device list of a batch planned before slices."""
    return await BatchDevices.get(batch_id)


def _slice_id(batch_id: PydanticObjectId, number: int) -> str:
    return f"{batch_id}:{number}"


async def _delete_slices(batch_id: PydanticObjectId, slices: int | None) -> None:
    """A batch's device slices, by exact `_id`s: a range over string ids is a collection scan
    on the embedded store."""
    ids = [_slice_id(batch_id, number) for number in range(slices or 0)]
    if ids:
        await BatchSlice.get_pymongo_collection().delete_many({"_id": {"$in": ids}})


async def batch_slice(batch_id: PydanticObjectId, number: int) -> BatchSlice | None:
    """One slice of a batch's devices, as planned: a read by `_id` of a small document."""
    return await BatchSlice.get(_slice_id(batch_id, number))


async def batch_outcomes(batch_id: PydanticObjectId) -> list[list[DeviceOutcome]]:
    """The batch's outcome records so far, in the order they were written (one indexed read;
    nothing found on a batch's first pass)."""
    found = BatchOutcomes.find({"batch_id": batch_id}).sort("n")
    return [record.outcomes async for record in found]


async def record_outcomes(batch_id: PydanticObjectId, number: int, outcomes: list[DeviceOutcome]) -> bool:
    """Insert the batch's record `number` (what one slice's sends did). False if that record
    exists: another run of the batch got there first."""
    # The document BatchOutcomes(...).insert() writes, without Beanie's per-field encoder: a
    # record per slice of every broadcast (decision 16, "Fan-out per core").
    record = {"batch_id": batch_id, "n": number, "outcomes": [outcome.model_dump() for outcome in outcomes]}
    try:
        await BatchOutcomes.get_pymongo_collection().insert_one(record)
    except DuplicateKeyError:
        return False
    return True


async def last_batch(announcement_id: PydanticObjectId) -> dict[str, Any] | None:
    """The seq and cursor (what the cursor is, and its window in a province, if stored) of
    the last batch planned, where planning resumes."""
    return await AnnouncementBatch.get_pymongo_collection().find_one(
        {"announcement_id": announcement_id},
        {"seq": 1, "cursor": 1, "cursor_of": 1, "window": 1},
        sort=[("seq", -1)],
    )


async def write_slice(batch_id: PydanticObjectId, number: int, devices: list[Any]) -> None:
    """One slice of a new batch's devices (its id is new to each planning run, so a run that
    died before the summary leaves slices no summary names, as it left a device list before)."""
    await BatchSlice.get_pymongo_collection().insert_one(
        {"_id": _slice_id(batch_id, number), "devices": [d.model_dump() for d in devices]}
    )


async def write_batch(batch: AnnouncementBatch) -> bool:
    """The summary, which is the batch's commit (its slices are written before it): until it
    exists, planning has not passed here. False if another planning run wrote this batch
    already (its slices, under this run's batch id, are then deleted)."""
    try:
        await batch.insert()
    except DuplicateKeyError:
        assert batch.id is not None
        await _delete_slices(batch.id, batch.slices)
        return False
    return True


async def has_pending_batch(announcement_id: PydanticObjectId) -> bool:
    return await AnnouncementBatch.find_one({"announcement_id": announcement_id, "state": "pending"}) is not None


async def batches_in_flight(announcement_id: PydanticObjectId) -> int:
    """Batches queued and still on their first pass."""
    return await AnnouncementBatch.get_pymongo_collection().count_documents(
        {"announcement_id": announcement_id, "state": "pending", "queued_at": {"$ne": None}, "first_pass_at": None}
    )


async def claim_next_batch(announcement_id: PydanticObjectId, now: datetime) -> PydanticObjectId | None:
    """The next batch not yet queued, marked queued; claimed atomically, so two top-ups never
    queue the same batch as new."""
    claimed = await AnnouncementBatch.get_pymongo_collection().find_one_and_update(
        {"announcement_id": announcement_id, "state": "pending", "queued_at": None},
        {"$set": {"queued_at": now, "next_attempt_at": now}},
        sort=[("seq", 1)],
        projection={"_id": 1},
        return_document=ReturnDocument.AFTER,
    )
    return claimed["_id"] if claimed is not None else None


async def record_pass(batch_id: PydanticObjectId | None, summary: dict[str, Any]) -> None:
    """The summary of a pass, after its outcome records: a crash in between leaves a batch whose
    next run finds nothing left to send and only writes the summary."""
    await AnnouncementBatch.get_pymongo_collection().update_one({"_id": batch_id}, {"$set": summary})


async def lost_batch_ids(cutoff: datetime, limit: int) -> list[PydanticObjectId]:
    """Batches queued whose job has not run since `cutoff` (lost while queued)."""
    lost = AnnouncementBatch.get_pymongo_collection().find(
        {"state": "pending", "queued_at": {"$ne": None}, "next_attempt_at": {"$lt": cutoff}}, {"_id": 1}
    )
    return [raw["_id"] async for raw in lost.limit(limit)]


async def progress_totals(announcement_id: PydanticObjectId, group: dict[str, Any]) -> dict[str, int]:
    """Sums of the batches' own counts: one small aggregation, however many devices."""
    cursor = await AnnouncementBatch.get_pymongo_collection().aggregate(
        [{"$match": {"announcement_id": announcement_id}}, {"$group": group}]
    )
    rows = await cursor.to_list()
    return {k: int(v) for k, v in rows[0].items() if k != "_id"} if rows else {}


async def purge_device_lists(finished_before: datetime, limit: int = 100) -> int:
    """Delete the device lists (push tokens) and per-device outcomes of up to `limit`
    announcements that finished sending before `finished_before`; their batches' counts stay.
    Each announcement is marked once its lists are gone, so a run that dies halfway is
    finished by the next, and two runs at once delete nothing twice. Returns how many."""
    done = Announcement.get_pymongo_collection().find(
        {"state": "done", "finished_at": {"$lt": finished_before}, "device_lists_purged_at": None}, {"_id": 1}
    )
    purged = 0
    async for announcement in done.limit(limit):
        batches = AnnouncementBatch.get_pymongo_collection().find(
            {"announcement_id": announcement["_id"]}, {"_id": 1, "slices": 1}
        )
        async for found in batches:
            await _delete_slices(found["_id"], found.get("slices"))
            await BatchOutcomes.get_pymongo_collection().delete_many({"batch_id": found["_id"]})
            await BatchDevices.get_pymongo_collection().delete_one({"_id": found["_id"]})
        marked = await Announcement.get_pymongo_collection().update_one(
            {"_id": announcement["_id"], "device_lists_purged_at": None}, {"$set": {"device_lists_purged_at": utcnow()}}
        )
        purged += marked.modified_count
    return purged
