"""Writes from concurrent requests go to the store in one command (app/grouped_writes.py),
and each caller still meets exactly what its own write met: a duplicate key refuses only
that write, a malformed update only that one, and the rest are stored."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import InsertOne, UpdateOne
from pymongo.errors import DuplicateKeyError, OperationFailure

from app import grouped_writes
from models.notification import Notification
from tests.integration.command_log import Command


def _notice(key: str) -> dict[str, Any]:
    return {"_id": ObjectId(), "key": key, "citizen_id": ObjectId(), "kind": "test", "state": "read"}


async def test_thirty_writes_at_once_take_one_command_each_and_fail_alone(
    api: httpx.AsyncClient, store_commands: list[Command]
) -> None:
    del api  # started for the store's connection
    prefix = f"grouped:{uuid.uuid4().hex}"
    existing = _notice(f"{prefix}:taken")
    collection = Notification.get_pymongo_collection()
    await collection.insert_one(existing)
    store_commands.clear()
    keys = [f"{prefix}:{n}" for n in range(20)]
    # 0-19 twenty new keys, 20-24 five of them again, 25 a key already taken, 26 an update,
    # 27 a malformed update (`$inc` of a string).
    operations: list[Any] = [InsertOne(_notice(k)) for k in keys]
    operations += [InsertOne(_notice(k)) for k in keys[:5]]
    operations.append(InsertOne(_notice(f"{prefix}:taken")))
    operations.append(UpdateOne({"_id": existing["_id"]}, {"$set": {"state": "pending"}}))
    operations.append(UpdateOne({"_id": existing["_id"]}, {"$inc": {"state": 1}}))

    outcomes = await asyncio.gather(
        *(grouped_writes.of(Notification).write(op) for op in operations), return_exceptions=True
    )
    try:
        refused = {i: type(o) for i, o in enumerate(outcomes) if o is not None}
        # Of each duplicated key one write is stored and the other refused: which one is up to the store.
        duplicates = [i for i, kind in refused.items() if kind is DuplicateKeyError]
        assert len(duplicates) == 6 and 25 in duplicates, refused
        assert refused.pop(27) is OperationFailure, refused
        assert set(refused) == set(duplicates)
        stored = {raw["key"] async for raw in collection.find({"key": {"$regex": f"^{prefix}"}}, {"key": 1})}
        assert stored == {*keys, f"{prefix}:taken"}
        assert (await collection.find_one({"_id": existing["_id"]}))["state"] == "pending"
        # Queued before the first went out: one insert command and one update command in all.
        writes = [c.name for c in store_commands if c.collection == collection.name and c.name in ("insert", "update")]
        assert sorted(writes) == ["insert", "update"], writes
    finally:
        await collection.delete_many({"key": {"$regex": f"^{prefix}"}})


async def test_a_write_alone_goes_at_once_and_raises_its_own_error(api: httpx.AsyncClient) -> None:
    del api
    notice = _notice(f"grouped:{uuid.uuid4().hex}")
    group = grouped_writes.of(Notification)
    await group.write(InsertOne(notice))
    with pytest.raises(DuplicateKeyError):
        await group.write(InsertOne({**notice, "_id": ObjectId()}))
    await Notification.get_pymongo_collection().delete_one({"_id": notice["_id"]})


async def test_a_caller_that_goes_away_leaves_its_neighbours_and_its_own_write_stored(api: httpx.AsyncClient) -> None:
    del api
    prefix = f"grouped:{uuid.uuid4().hex}"
    group = grouped_writes.of(Notification)
    writers = [asyncio.create_task(group.write(InsertOne(_notice(f"{prefix}:{n}")))) for n in range(10)]
    await asyncio.sleep(0)  # each has handed its write over
    writers[3].cancel()
    outcomes = await asyncio.gather(*writers, return_exceptions=True)
    assert [type(o).__name__ for o in outcomes] == ["NoneType"] * 3 + ["CancelledError"] + ["NoneType"] * 6
    collection = Notification.get_pymongo_collection()
    # The cancelled caller's write was in the command already, as an insert_one's would be on the wire.
    assert await collection.count_documents({"key": {"$regex": f"^{prefix}"}}) == 10
    await collection.delete_many({"key": {"$regex": f"^{prefix}"}})
