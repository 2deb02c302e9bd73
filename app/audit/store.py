"""The audit trail's one module that touches the store (decision 0024: one per area).

The records (`AccessRecord`) and the head of their hash chain (`AuditChainHead`); the rules
of sealing and verifying are in app/audit/service.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from beanie import PydanticObjectId
from pymongo import InsertOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from app import grouped_writes
from models.audit import GENESIS_HASH, AccessRecord, AuditChainHead

HEAD_ID = "audit-chain"


async def insert(record: AccessRecord) -> None:
    """Through PyMongo with the model's own dump: the same stored record as Beanie's
    `insert()`, without its encoding work (decision 0016, 2026-12-02)."""
    if record.id is None:
        record.id = PydanticObjectId()
    # Concurrent requests' records go to the store together (app/grouped_writes.py).
    await grouped_writes.of(AccessRecord).write(InsertOne(record.model_dump(by_alias=True)))


async def insert_records(records: list[AccessRecord]) -> None:
    await AccessRecord.insert_many(records)


async def head() -> dict[str, Any] | None:
    return await AuditChainHead.get_pymongo_collection().find_one({"_id": HEAD_ID})


async def start_head() -> None:
    with contextlib.suppress(DuplicateKeyError):  # another sealer made it first
        await AuditChainHead.get_pymongo_collection().insert_one({"_id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH})


async def move_head(seq: int, digest: str, next_seq: int, next_hash: str) -> bool:
    """Compare-and-set: False if the head is no longer at `seq` with `digest` (another sealer
    moved it meanwhile, or it is not where this sealer's read of the chain ends)."""
    moved = await AuditChainHead.get_pymongo_collection().update_one(
        {"_id": HEAD_ID, "seq": seq, "hash": digest}, {"$set": {"seq": next_seq, "hash": next_hash}}
    )
    return moved.modified_count != 0


async def sealed_record(seq: int) -> dict[str, Any] | None:
    return await AccessRecord.get_pymongo_collection().find_one({"seq": seq})


async def unsealed(batch: int) -> AsyncIterator[dict[str, Any]]:
    """Up to `batch` unsealed records, oldest first."""
    async for raw in AccessRecord.get_pymongo_collection().find({"seq": None}).sort("_id", 1).limit(batch):
        yield raw


# (record id, seq, previous hash, hash)
Claim = tuple[Any, int, str, str]


async def claim(claims: list[Claim], run: str) -> bool:
    """Seal every record of `claims` in one request, marked with the sealing `run`; False if
    another sealer sealed any of them first (then the claims of this run are undone)."""
    if not claims:
        return True
    result = await AccessRecord.get_pymongo_collection().bulk_write(
        [
            UpdateOne(
                {"_id": record_id, "seq": None},
                {"$set": {"seq": seq, "prev_hash": prev_hash, "hash": digest, "sealed_by": run}},
            )
            for record_id, seq, prev_hash, digest in claims
        ]
    )
    if result.modified_count == len(claims):
        return True
    await unclaim(claims, run)
    return False


async def unclaim(claims: list[Claim], run: str) -> None:
    """Undo the claims of one sealing run (another run's claims on the same records stay)."""
    await AccessRecord.get_pymongo_collection().update_many(
        {"_id": {"$in": [record_id for record_id, *_ in claims]}, "sealed_by": run},
        {"$set": {"seq": None, "prev_hash": None, "hash": None, "sealed_by": None}},
    )


async def sealed_in_order() -> AsyncIterator[dict[str, Any]]:
    async for raw in AccessRecord.get_pymongo_collection().find({"seq": {"$ne": None}}).sort("seq", 1):
        yield raw


async def count_unsealed() -> int:
    return await AccessRecord.get_pymongo_collection().count_documents({"seq": None})


async def records_of(citizen_id: PydanticObjectId, query: dict[str, Any], limit: int) -> list[AccessRecord]:
    """What others did with the citizen's data, newest first."""
    found = {"citizen_id": citizen_id, "actor_kind": {"$ne": "citizen"}, **query}
    return await AccessRecord.find(found).sort("-_id").limit(limit).to_list()
