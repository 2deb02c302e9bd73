"""Recording, sealing and verifying the audit trail; the citizen's view of it."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

import msgspec
import structlog
from beanie import PydanticObjectId

from app.audit import store
from app.pagination import Page, cursor_filter, next_cursor
from models.audit import GENESIS_HASH, AccessRecord, ActorKind, record_hash

log = structlog.get_logger(__name__)


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
    await store.insert(
        AccessRecord(
            citizen_id=citizen_id,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action=action,
            target=target,
            reason=reason,
            client=client,
            result=result,
            changed_fields=sorted(set(changed_fields)),
        )
    )


async def _head() -> tuple[int, str]:
    raw = await store.head()
    if raw is None:
        await store.start_head()
        return 0, GENESIS_HASH
    seq, digest = int(raw["seq"]), str(raw["hash"])
    # A sealer that died between sealing a record and moving the head left the head behind:
    # catch up from the records themselves.
    while (ahead := await store.sealed_record(seq + 1)) is not None:
        seq, digest = seq + 1, str(ahead["hash"])
    return seq, digest


async def seal(batch: int = 1000) -> int:
    """Chain up to `batch` unsealed records, oldest first. Returns how many were sealed.

    Safe to run concurrently: each claim is conditional on the record being unsealed and the
    head moves by compare-and-set, so a second sealer that meets a conflict undoes its batch
    instead of forking the chain.
    """
    start_seq, start_digest = seq, digest = await _head()
    claims: list[store.Claim] = []
    async for raw in store.unsealed(batch):
        next_seq = seq + 1
        next_hash = record_hash(raw, next_seq, digest)
        claims.append((raw["_id"], next_seq, digest, next_hash))
        seq, digest = next_seq, next_hash
    # The whole batch in one claim and one move of the head, not two writes per record.
    run = secrets.token_hex(8)
    if not claims or not await store.claim(claims, run):
        return 0
    if not await store.move_head(start_seq, start_digest, seq, digest):
        # Another sealer moved the head: undo our claims and leave the rest to it.
        await store.unclaim(claims, run)
        return 0
    return len(claims)


class VerifyResult(msgspec.Struct):
    ok: bool
    checked: int
    unsealed: int
    first_broken_seq: int | None = None
    first_broken_id: str | None = None
    problem: str | None = None


async def verify() -> VerifyResult:
    """Walk the chain from the start; name the first record whose hash or link does not hold."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    async for raw in store.sealed_in_order():
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
                unsealed=await store.count_unsealed(),
                first_broken_seq=int(raw["seq"]),
                first_broken_id=str(raw["_id"]),
                problem=problem,
            )
        expected_prev, expected_seq, checked = raw["hash"], expected_seq + 1, checked + 1
    head = await store.head()
    if head is not None and int(head["seq"]) > checked:
        return VerifyResult(
            ok=False,
            checked=checked,
            unsealed=await store.count_unsealed(),
            first_broken_seq=checked + 1,
            problem="records at the end of the chain were deleted",
        )
    return VerifyResult(ok=True, checked=checked, unsealed=await store.count_unsealed())


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
    found = await store.records_of(citizen_id, cursor_filter(cursor, descending=True), limit)
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
