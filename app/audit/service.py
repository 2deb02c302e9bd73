"""Recording, sealing and verifying the audit trail; the citizen's view of it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import msgspec
import structlog
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.pagination import Page, cursor_filter, next_cursor
from models.audit import GENESIS_HASH, AccessRecord, ActorKind, AuditChainHead, record_hash

log = structlog.get_logger(__name__)
HEAD_ID = "audit-chain"


async def record(
    citizen_id: PydanticObjectId,
    actor_kind: ActorKind,
    actor_id: str,
    action: str,
    target: str,
    *,
    reason: str | None = None,
    client: str | None = None,
    result: str = "ok",
    changed_fields: Iterable[str] = (),
) -> None:
    await AccessRecord(
        citizen_id=citizen_id,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
        target=target,
        reason=reason,
        client=client,
        result=result,
        changed_fields=sorted(set(changed_fields)),
    ).insert()


async def _head() -> tuple[int, str]:
    collection = AuditChainHead.get_pymongo_collection()
    raw = await collection.find_one({"_id": HEAD_ID})
    if raw is None:
        with contextlib.suppress(DuplicateKeyError):  # another sealer made it first
            await collection.insert_one({"_id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH})
        return 0, GENESIS_HASH
    seq, digest = int(raw["seq"]), str(raw["hash"])
    # A sealer that died between sealing a record and moving the head left the head behind:
    # catch up from the records themselves.
    records = AccessRecord.get_pymongo_collection()
    while (ahead := await records.find_one({"seq": seq + 1})) is not None:
        seq, digest = seq + 1, str(ahead["hash"])
    return seq, digest


async def seal(batch: int = 1000) -> int:
    """Chain up to `batch` unsealed records, oldest first. Returns how many were sealed.

    Safe to run concurrently: the head moves by compare-and-set, so a second sealer stops at
    its first conflict instead of forking the chain.
    """
    records = AccessRecord.get_pymongo_collection()
    heads = AuditChainHead.get_pymongo_collection()
    seq, digest = await _head()
    sealed = 0
    async for raw in records.find({"seq": None}).sort("_id", 1).limit(batch):
        next_seq = seq + 1
        next_hash = record_hash(raw, next_seq, digest)
        claimed = await records.update_one(
            {"_id": raw["_id"], "seq": None}, {"$set": {"seq": next_seq, "prev_hash": digest, "hash": next_hash}}
        )
        if claimed.modified_count == 0:
            break
        moved = await heads.update_one({"_id": HEAD_ID, "seq": seq}, {"$set": {"seq": next_seq, "hash": next_hash}})
        if moved.modified_count == 0:
            # Another sealer moved the head: undo our claim and leave the rest to it.
            await records.update_one({"_id": raw["_id"], "seq": next_seq}, {"$set": {"seq": None}})
            break
        seq, digest = next_seq, next_hash
        sealed += 1
    return sealed


class VerifyResult(msgspec.Struct):
    ok: bool
    checked: int
    unsealed: int
    first_broken_seq: int | None = None
    first_broken_id: str | None = None
    problem: str | None = None


async def verify() -> VerifyResult:
    """Walk the chain from the start; name the first record whose hash or link does not hold."""
    records = AccessRecord.get_pymongo_collection()
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    async for raw in records.find({"seq": {"$ne": None}}).sort("seq", 1):
        problem = None
        if raw["seq"] != expected_seq:
            problem = f"missing record(s): expected seq {expected_seq}, found {raw['seq']}"
        elif raw.get("prev_hash") != expected_prev:
            problem = "link to the previous record does not match"
        elif raw.get("hash") != record_hash(raw, raw["seq"], expected_prev):
            problem = "content does not match its hash (edited)"
        if problem:
            return VerifyResult(
                ok=False,
                checked=checked,
                unsealed=await records.count_documents({"seq": None}),
                first_broken_seq=int(raw["seq"]),
                first_broken_id=str(raw["_id"]),
                problem=problem,
            )
        expected_prev, expected_seq, checked = raw["hash"], expected_seq + 1, checked + 1
    head = await AuditChainHead.get_pymongo_collection().find_one({"_id": HEAD_ID})
    if head is not None and int(head["seq"]) > checked:
        return VerifyResult(
            ok=False,
            checked=checked,
            unsealed=await records.count_documents({"seq": None}),
            first_broken_seq=checked + 1,
            problem="records at the end of the chain were deleted",
        )
    return VerifyResult(ok=True, checked=checked, unsealed=await records.count_documents({"seq": None}))


class AccessLogEntry(msgspec.Struct):
    id: str
    at: Any
    actor_kind: str
    actor: str
    action: str
    target: str
    reason: str | None
    client: str | None
    result: str


async def access_log(citizen_id: PydanticObjectId, cursor: str | None, limit: int) -> Page[AccessLogEntry]:
    """What others did with the citizen's data (their own actions are not shown back to them)."""
    query = {"citizen_id": citizen_id, "actor_kind": {"$ne": "citizen"}, **cursor_filter(cursor, descending=True)}
    found = await AccessRecord.find(query).sort("-_id").limit(limit).to_list()
    return Page(
        items=[
            AccessLogEntry(
                id=str(r.id),
                at=r.at,
                actor_kind=r.actor_kind,
                actor=r.actor_id,
                action=r.action,
                target=r.target,
                reason=r.reason,
                client=r.client,
                result=r.result,
            )
            for r in found
        ],
        next_cursor=next_cursor([r.id for r in found], limit),
    )
