"""The citizens area's one module that touches the store (decision 0024: one per area):
citizens' accounts and their phones (devices)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app import id_windows
from app.in_lists import pieces
from models.citizen import Citizen, Device

# --- accounts -----------------------------------------------------------------------------


async def insert(citizen: Citizen) -> None:
    """Raises DuplicateKeyError when the ID number or phone is taken."""
    await citizen.insert()


async def citizen(citizen_id: PydanticObjectId) -> Citizen | None:
    return await Citizen.get(citizen_id)


async def by_national_id(national_id: str) -> Citizen | None:
    return await Citizen.find_one(Citizen.national_id == national_id)


async def matching(query: dict[str, Any]) -> Citizen | None:
    return await Citizen.find_one(query)


async def children_of(parent_id: PydanticObjectId) -> list[Citizen]:
    """The children a parent manages who have not taken their account over."""
    return await Citizen.find({"guardian_ids": parent_id, "password_hash": None}).sort("+_id").to_list()


async def child_of(parent_id: PydanticObjectId, child_id: PydanticObjectId) -> Citizen | None:
    return await Citizen.find_one({"_id": child_id, "guardian_ids": parent_id, "password_hash": None})


async def mark_locked(citizen_id: PydanticObjectId, now: datetime) -> None:
    await Citizen.get_pymongo_collection().update_one(
        {"_id": citizen_id, "locked_at": None}, {"$set": {"locked_at": now}}
    )


async def set_fields(query: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any] | None:
    """Set `fields` on the citizen matching `query`; the citizen after it, or None."""
    return await Citizen.get_pymongo_collection().find_one_and_update(
        query, {"$set": fields}, return_document=ReturnDocument.AFTER
    )


async def set_claim_code(child_id: PydanticObjectId | None, code_hash: str, expires_at: datetime) -> None:
    """Only while the child has no password of its own."""
    await Citizen.get_pymongo_collection().update_one(
        {"_id": child_id, "password_hash": None},
        {"$set": {"claim_code_hash": code_hash, "claim_code_expires_at": expires_at}},
    )


# --- devices ------------------------------------------------------------------------------


async def upsert_device(token: str, fields: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """One upsert keyed by the FCM token; the device after it."""
    return await Device.get_pymongo_collection().find_one_and_update(
        {"token": token},
        {"$set": {**fields, "updated_at": now}, "$setOnInsert": {"created_at": now}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )


async def drop_devices_beyond(citizen_id: PydanticObjectId, keep: int) -> None:
    """Keep the `keep` devices seen most recently (apps register their token at every start).

    Every registration trims after its own upsert, so the last trim to read sees every device
    registered before it: however many arrive at once, at most `keep` remain. A device seen
    again after this read (its `updated_at` moved) is not deleted."""
    collection = Device.get_pymongo_collection()
    beyond = collection.find({"citizen_id": citizen_id}, {"_id": 1, "updated_at": 1})
    stale = await beyond.sort([("updated_at", -1), ("_id", -1)]).skip(keep).to_list()
    if stale:
        await collection.delete_many(
            {"citizen_id": citizen_id, "$or": [{"_id": d["_id"], "updated_at": d["updated_at"]} for d in stale]}
        )


async def devices_newest_first(citizen_id: PydanticObjectId) -> list[Device]:
    return await Device.find(Device.citizen_id == citizen_id).sort("-_id").to_list()


async def remove_device(citizen_id: PydanticObjectId, device_id: PydanticObjectId) -> bool:
    """False if the citizen has no such device."""
    result = await Device.get_pymongo_collection().delete_one({"_id": device_id, "citizen_id": citizen_id})
    return result.deleted_count != 0


async def devices_of(citizen_id: PydanticObjectId) -> list[Device]:
    return await Device.find(Device.citizen_id == citizen_id).to_list()


async def drop_device(device_id: PydanticObjectId, token: str) -> None:
    # Only this token: if the phone re-registered meanwhile under a new one, the device stays.
    await Device.get_pymongo_collection().delete_one({"_id": device_id, "token": token})


# A province's citizens are walked in windows of the last nine digits of their ID numbers
# (after the province's three: a century-and-sex digit, the birth year's two, a six-digit
# serial), each an index range of `national_id` on both stores, sized by the density of the
# one before (app/id_windows.next_width). The first is one birth year of one century and sex.
ID_NUMBERS = 10**9
FIRST_ID_WINDOW = 10**6

# Where a walk stands after a chunk: the last citizen (or, legacy, device) it holds and, in a
# province's windowed walk, the [start, end) of the ID-number window that citizen is in.
Chunk = tuple[list[dict[str, Any]], PydanticObjectId, tuple[int, int] | None]


async def device_chunks(
    segment_province: str | None,
    cursor: PydanticObjectId | None,
    size: int,
    fields: dict[str, int],
    read_size: int | None = None,
    *,
    cursor_is_device: bool = False,
    window: tuple[int, int] | None = None,
) -> AsyncIterator[Chunk]:
    """The devices an announcement's planning walks (workers/announcements.py), chunk by chunk,
    each with where planning resumes after it: `cursor` (None with no `window`: from the
    start) and, in a province, the `window` the cursor is in. `read_size` (default `size`):
    the devices a read aims at (everyone), the citizens a window aims at (a province).

    Everyone (no province): the devices of every citizen, citizen by citizen in windows of
    their citizens' ids, newest first (`_everyones_devices`), the cursor the last citizen of
    the chunk; a chunk holds at most `size` devices and never part of a citizen's. A
    province: the devices of `size` of its citizens at a time, window by window of their ID
    numbers, each window's citizens in `_id` order (`_province_devices`); a province's
    planning begun before windows (a cursor, no window) finishes with its `_id` walk
    (`_legacy_province_devices`). `cursor_is_device`: everyone's devices in the order of
    their own `_id` after a device's cursor, for planning begun by the version before
    (`_legacy_devices_after_device`)."""
    walk: AsyncIterator[tuple[list[dict[str, Any]], PydanticObjectId]]
    if segment_province is not None and (cursor is None or window is not None):
        async for chunk in _province_devices(segment_province, cursor, window, size, fields, read_size or size):
            yield chunk
        return
    if segment_province is not None:
        walk = _legacy_province_devices(segment_province, cursor, size, fields, read_size or size)
    elif cursor_is_device:
        walk = _legacy_devices_after_device(cursor, size, fields, read_size or size)
    else:
        walk = _everyones_devices(cursor, size, fields, read_size or size)
    async for devices, last in walk:
        yield devices, last, None


async def _everyones_devices(
    below: PydanticObjectId | None, size: int, fields: dict[str, int], window_target: int
) -> AsyncIterator[tuple[list[dict[str, Any]], PydanticObjectId]]:
    """Every device whose citizen's id is below `below` (every device: None), read in windows
    of the citizens' ids' creation time through the `citizen_id` index (app/id_windows.py,
    aiming at `window_target` devices a read), then citizen by citizen, newest first, each
    citizen's devices in `_id` order.

    Not `find({}).sort(_id)` from the last device: the embedded store answers that with a
    collection scan and a sort of every device before its first batch, and answers a range
    of `_id` after a cursor the same way (2.2 s of the store at 40,000 devices, then 2.6 s
    each planning round; decision 25, addendum of 2026-12-02 evening). A range on the leading
    field of the `citizen_id` index is an index range on both stores.

    Chunks end between citizens, so a planning round that stops after any chunk (or dies)
    resumes below its cursor with nothing read twice and nothing left out; a citizen with
    more than `size` devices (more than the device cap allows) takes a chunk of its own."""
    collection = Device.get_pymongo_collection()
    wanted = {**fields, "_id": 1, "citizen_id": 1}

    async def read(query: dict[str, Any]) -> list[dict[str, Any]]:
        return [raw async for raw in collection.find(query, wanted)]

    chunk: list[dict[str, Any]] = []
    async for window in id_windows.newest_first(read, "citizen_id", window_target, below=below):
        # Newest citizen first; each citizen's devices together, in `_id` order.
        window.sort(key=itemgetter("_id"))
        window.sort(key=itemgetter("citizen_id"), reverse=True)
        for _, devices in groupby(window, key=itemgetter("citizen_id")):
            citizens_devices = list(devices)
            if chunk and len(chunk) + len(citizens_devices) > size:
                yield chunk, chunk[-1]["citizen_id"]
                chunk = []
            chunk += citizens_devices
            if len(chunk) >= size:
                yield chunk, chunk[-1]["citizen_id"]
                chunk = []
    if chunk:
        yield chunk, chunk[-1]["citizen_id"]


def _id_numbers(province: str, start: int, end: int) -> dict[str, Any]:
    """The province's citizens whose ID numbers' last nine digits are in [start, end)."""
    below = province + ":" if end >= ID_NUMBERS else f"{province}{end:09d}"  # ":" follows "9"
    return {"national_id": {"$gte": f"{province}{start:09d}", "$lt": below}}


async def _province_devices(
    province: str,
    after: PydanticObjectId | None,
    window: tuple[int, int] | None,
    size: int,
    fields: dict[str, int],
    window_target: int,
) -> AsyncIterator[Chunk]:
    """The devices of the province's citizens, `size` citizens at a time: window by window of
    their ID numbers (from `window`, after its citizen `after`; from the first), each window's
    citizens in `_id` order. A chunk's position is its last citizen and that citizen's window,
    so a round that stops after any chunk resumes with nothing read twice or left out, and
    no citizen's ID number is stored in the batch.

    Not the province's citizens by `_id` after a cursor: an ID-number range and an `_id`
    range together are a collection scan on the embedded store, and on MongoDB either a walk
    of every citizen's `_id` or a sort of the whole province in memory."""
    collection = Citizen.get_pymongo_collection()
    start, end = window or (0, FIRST_ID_WINDOW)
    citizens: list[Any] = []
    last_window = (start, end)
    while start < ID_NUMBERS:
        found = sorted([raw["_id"] async for raw in collection.find(_id_numbers(province, start, end), {"_id": 1})])
        width = id_windows.next_width(end - start, len(found), window_target)
        if after is not None:
            found, after = [citizen for citizen in found if citizen > after], None
        for citizen in found:
            citizens.append(citizen)
            last_window = (start, end)
            if len(citizens) == size:
                yield await _devices_of(citizens, fields), citizen, last_window
                citizens = []
        start, end = end, min(end + width, ID_NUMBERS)
    if citizens:
        yield await _devices_of(citizens, fields), citizens[-1], last_window


async def _legacy_province_devices(
    province: str, after: PydanticObjectId | None, size: int, fields: dict[str, int], read_size: int
) -> AsyncIterator[tuple[list[dict[str, Any]], PydanticObjectId]]:
    """Legacy: the province's citizens after `after`, in `_id` order, then the devices of each
    chunk of `size` of them: how the version before walked a province, kept only to finish
    the planning of one it began (its batches have no window). Remove once no planning begun
    before 2026-12-02 (night) can still be in flight."""
    query: dict[str, Any] = {"national_id": {"$gte": province, "$lt": province + ":"}}
    if after is not None:
        query["_id"] = {"$gt": after}
    citizen_ids: list[Any] = []
    citizens = Citizen.get_pymongo_collection().find(query, {"_id": 1}).sort("_id", 1)
    async for raw in citizens.batch_size(read_size):
        citizen_ids.append(raw["_id"])
        if len(citizen_ids) == size:
            yield await _devices_of(citizen_ids, fields), citizen_ids[-1]
            citizen_ids = []
    if citizen_ids:
        yield await _devices_of(citizen_ids, fields), citizen_ids[-1]


async def _legacy_devices_after_device(
    after: PydanticObjectId | None, size: int, fields: dict[str, int], read_size: int
) -> AsyncIterator[tuple[list[dict[str, Any]], PydanticObjectId]]:
    """Legacy: every device after the device `after`, in `_id` order, the cursor the last
    device of each chunk: how the version before walked an announcement to everyone, kept
    only to finish the planning of one it began (its batches' cursors are devices). A
    collection scan and a sort of every device on the embedded store. Remove once no
    planning begun before 2026-12-02 (evening) can still be in flight."""
    query: dict[str, Any] = {"_id": {"$gt": after}} if after is not None else {}
    chunk: list[dict[str, Any]] = []
    cursor = Device.get_pymongo_collection().find(query, fields).sort("_id", 1)
    async for raw in cursor.batch_size(read_size):
        chunk.append(raw)
        if len(chunk) == size:
            yield chunk, chunk[-1]["_id"]
            chunk = []
    if chunk:
        yield chunk, chunk[-1]["_id"]


async def _devices_of(citizen_ids: list[Any], fields: dict[str, int]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for piece in pieces(citizen_ids):  # app/in_lists.py
        found += await Device.get_pymongo_collection().find({"citizen_id": {"$in": list(piece)}}, fields).to_list()
    return found
