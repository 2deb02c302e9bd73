"""The citizens area's one module that touches the store (decision 0024: one per area):
citizens' accounts and their phones (devices)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

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


async def device_chunks(
    segment_province: str | None,
    after: PydanticObjectId | None,
    size: int,
    fields: dict[str, int],
    read_size: int | None = None,
) -> AsyncIterator[tuple[list[dict[str, Any]], PydanticObjectId]]:
    """(devices, cursor) in `_id` order, starting after `after`: every device (no province), or
    the devices of the province's citizens, `size` citizens at a time (the cursor is then a
    citizen's `_id`). An announcement's planning walks them (workers/announcements.py), fetching
    `read_size` documents per round trip (default `size`) so that no single read is long."""
    after_filter: dict[str, Any] = {"_id": {"$gt": after}} if after is not None else {}
    if segment_province is None:
        chunk: list[dict[str, Any]] = []
        cursor = Device.get_pymongo_collection().find(after_filter, fields).sort("_id", 1)
        async for raw in cursor.batch_size(read_size or size):
            chunk.append(raw)
            if len(chunk) == size:
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
    async for raw in citizens.batch_size(read_size or size):
        citizen_ids.append(raw["_id"])
        if len(citizen_ids) == size:
            yield await _devices_of(citizen_ids, fields), citizen_ids[-1]
            citizen_ids = []
    if citizen_ids:
        yield await _devices_of(citizen_ids, fields), citizen_ids[-1]


async def _devices_of(citizen_ids: list[Any], fields: dict[str, int]) -> list[dict[str, Any]]:
    found = Device.get_pymongo_collection().find({"citizen_id": {"$in": citizen_ids}}, fields)
    return await found.to_list()
