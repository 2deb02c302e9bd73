"""The citizens area's one module that touches the store (decision 0024: one per area).

The area's other modules still hold their own calls, listed in tests/unit/test_store_access.py
until they move here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from beanie import PydanticObjectId

from models.citizen import Citizen, Device


async def devices_of(citizen_id: PydanticObjectId) -> list[Device]:
    return await Device.find(Device.citizen_id == citizen_id).to_list()


async def drop_device(device_id: PydanticObjectId, token: str) -> None:
    # Only this token: if the phone re-registered meanwhile under a new one, the device stays.
    await Device.get_pymongo_collection().delete_one({"_id": device_id, "token": token})


async def device_chunks(
    segment_province: str | None, after: PydanticObjectId | None, size: int, fields: dict[str, int]
) -> AsyncIterator[tuple[list[dict[str, Any]], PydanticObjectId]]:
    """(devices, cursor) in `_id` order, starting after `after`: every device (no province), or
    the devices of the province's citizens, `size` citizens at a time (the cursor is then a
    citizen's `_id`). An announcement's planning walks them (workers/announcements.py)."""
    after_filter: dict[str, Any] = {"_id": {"$gt": after}} if after is not None else {}
    if segment_province is None:
        chunk: list[dict[str, Any]] = []
        cursor = Device.get_pymongo_collection().find(after_filter, fields).sort("_id", 1)
        async for raw in cursor.batch_size(size):
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
    async for raw in citizens.batch_size(size):
        citizen_ids.append(raw["_id"])
        if len(citizen_ids) == size:
            yield await _devices_of(citizen_ids, fields), citizen_ids[-1]
            citizen_ids = []
    if citizen_ids:
        yield await _devices_of(citizen_ids, fields), citizen_ids[-1]


async def _devices_of(citizen_ids: list[Any], fields: dict[str, int]) -> list[dict[str, Any]]:
    found = Device.get_pymongo_collection().find({"citizen_id": {"$in": citizen_ids}}, fields)
    return await found.to_list()
