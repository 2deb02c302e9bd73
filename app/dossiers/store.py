"""The dossiers area's one module that touches the store (decision 0024: one per area).

Changing a dossier: one atomic update, conditional on the revision that was read.

Every change (an agency event, a payment, a supplement answer, a postal update, the overdue
sweeper) reads the dossier, decides, and writes with a filter on the revision it read. Two
changes that race cannot overwrite each other: the loser finds nothing to update, reads
again and decides again (a repeated event then sees its own id and changes nothing).

The status is not among what `write` may change: a move goes through
`app/dossiers/transitions.py`, which checks the procedure's table and calls `write_move`.
An update that leaves an outbox entry is noted for the after-request flush (app/inbox/flushing.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import InsertOne

from app import grouped_writes
from app.errors import AppError, Text
from app.in_lists import pieces
from app.inbox import flushing
from models.agency import Agency
from models.catalogue import Service
from models.citizen import Citizen
from models.common import utcnow
from models.dossier import Dossier
from models.notification import Notification
from models.payment import Payment
from models.statistics import ExpectedLateNotice, RecentProcessing
from models.wallet import WalletDocument
from models.webhook import AGENCY_EVENT

RACE_RETRIES = 5

CONCURRENT_UPDATE = AppError(
    409,
    "concurrent-update",
    Text("Hồ sơ vừa được cập nhật", "Dossier changed meanwhile"),
    Text(
        "Hồ sơ vừa được cập nhật bởi một thao tác khác. Hãy đọc lại hồ sơ rồi gửi lại.",
        "Another change reached the dossier meanwhile. Read it again and resend.",
    ),
)


def revision_filter(dossier: Dossier) -> dict[str, Any]:
    # Documents written before revisions existed have no `rev`: they are revision 0.
    return {"rev": dossier.rev} if dossier.rev else {"rev": {"$in": [0, None]}}


async def write(dossier: Dossier, update: dict[str, Any], extra_filter: dict[str, Any] | None = None) -> Dossier | None:
    """Apply `update` if the dossier is still at the revision read; None if it moved on."""
    if "status" in update.get("$set", {}):
        raise ValueError("a dossier's status changes only through app.dossiers.transitions.apply")
    return await _write(dossier, update, extra_filter)


async def write_move(dossier: Dossier, update: dict[str, Any], condition: dict[str, Any]) -> Dossier | None:
    """`write` for a status move; only app/dossiers/transitions.py calls it."""
    return await _write(dossier, update, condition)


def _stamped(update: dict[str, Any]) -> dict[str, Any]:
    """`update` that also sets `changed_at`: every write of a dossier goes through here, so the
    statistics rollup finds every change by that one field (decision 26)."""
    return {**update, "$set": {**update.get("$set", {}), "changed_at": utcnow()}}


def _with_revision(entries: list[dict[str, Any]], revision: int) -> list[dict[str, Any]]:
    """Agency events carry the dossier's revision after their change: webhook deliveries can
    arrive out of order (retries, replays), and a receiver keeps the higher revision."""
    return [
        {**e, "params": {**e.get("params", {}), "revision": str(revision)}} if e.get("kind") == AGENCY_EVENT else e
        for e in entries
    ]


def _revised(update: dict[str, Any], revision: int) -> dict[str, Any]:
    entries = flushing.pushed_entries(update)
    if not entries:
        return update
    pushed = update["$push"]["outbox"]
    stamped = _with_revision(entries, revision)
    outbox = {**pushed, "$each": stamped} if "$each" in pushed else stamped[0]
    return {**update, "$push": {**update["$push"], "outbox": outbox}}


async def _write(dossier: Dossier, update: dict[str, Any], extra_filter: dict[str, Any] | None) -> Dossier | None:
    update = _revised(update, dossier.rev + 1)
    update = _stamped({**update, "$inc": {**update.get("$inc", {}), "rev": 1}})
    collection = Dossier.get_pymongo_collection()
    # The conditional update is the atomic part. Not findAndModify: the embedded store runs it
    # as a collection scan (decision 0017).
    condition = {"_id": dossier.id, **revision_filter(dossier), **(extra_filter or {})}
    result = await collection.update_one(condition, update)
    if result.matched_count == 0:
        return None
    owes = flushing.pushed_keys(update)
    if owes:
        flushing.owed(Dossier, dossier.id, owes)
    # The update applied only to the revision read, so the dossier now is that read with the
    # update applied: no read back, unless the update uses an operator applied() does not know.
    raw = applied(dossier, update)
    if raw is None:
        raw = await collection.find_one({"_id": dossier.id})
    if owes and raw is not None:
        # The flush after the request works from this instead of reading the dossier again.
        flushing.owed(Dossier, dossier.id, owes, document=raw)
    return Dossier.model_validate(raw) if raw is not None else None


def _as_stored(value: Any) -> Any:
    """A value as the store gives it back: datetimes to the millisecond, in UTC (BSON keeps
    no more), so an answer built from memory is the answer a later read gives."""
    if isinstance(value, datetime):
        at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return at.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_stored(v) for v in value]
    return value


def applied(dossier: Dossier, update: dict[str, Any]) -> dict[str, Any] | None:
    """The stored dossier after `update`, computed from the dossier as read; None for an
    operator or path this does not apply (the caller reads the dossier instead)."""
    raw: dict[str, Any] = dossier.model_dump(by_alias=True)
    for op, fields in update.items():
        for path, value in fields.items():
            parent, _, name = path.rpartition(".")
            target: Any = raw
            for part in parent.split(".") if parent else []:
                target = target.get(part) if isinstance(target, dict) else None
            if not isinstance(target, dict):
                return None
            if op == "$set":
                target[name] = value
            elif op == "$inc" and isinstance(target.get(name, 0), int | float | None):
                target[name] = (target.get(name) or 0) + value
            elif op == "$push" and isinstance(target.get(name, []), list | None):
                each = value["$each"] if isinstance(value, dict) and set(value) == {"$each"} else [value]
                target[name] = [*(target.get(name) or []), *each]
            else:
                return None
    stored: dict[str, Any] = _as_stored(raw)
    return stored


async def mark_assisted(dossier_id: PydanticObjectId | None, by: str) -> None:
    """Note who submitted a dossier on the citizen's behalf (an assisted session)."""
    await Dossier.get_pymongo_collection().update_one({"_id": dossier_id}, _stamped({"$set": {"assisted_by": by}}))


async def by_payment_reference(reference: str) -> Dossier | None:
    return await Dossier.find_one({"payment.reference": reference})


async def retrying(
    load: Callable[[], Awaitable[Dossier]], attempt: Callable[[Dossier], Awaitable[Any]], first: Dossier | None = None
) -> Any:
    """Run `attempt` on a fresh read until it returns something other than None (it returns
    None when its conditional write lost a race). A caller that has just read the dossier
    passes it as `first`: the first attempt uses it, and only a lost race reads again (the
    write is conditional on the revision read, so an old read cannot overwrite anything)."""
    for n in range(RACE_RETRIES):
        outcome = await attempt(first if n == 0 and first is not None else await load())
        if outcome is not None:
            return outcome
    raise CONCURRENT_UPDATE


# --- reading dossiers ---------------------------------------------------------------------


async def insert(dossier: Dossier) -> dict[str, Any]:
    """Insert a new dossier; the document as stored, for the outbox flush. DuplicateKeyError
    when the citizen's idempotency key (or the code) is taken. The model's own dump stores
    what Beanie's `insert()` does, at a thirtieth of its encoding work (decision 0016)."""
    if dossier.id is None:
        dossier.id = PydanticObjectId()
    dossier.changed_at = utcnow()
    raw = dossier.model_dump(by_alias=True)
    raw["outbox"] = _with_revision(raw.get("outbox") or [], dossier.rev)
    await grouped_writes.of(Dossier).write(InsertOne(raw))
    stored: dict[str, Any] = _as_stored(raw)
    return stored


async def raw(dossier_id: PydanticObjectId | None) -> dict[str, Any] | None:
    """The dossier as stored (what the outbox flush reads)."""
    return await Dossier.get_pymongo_collection().find_one({"_id": dossier_id})


async def by_idempotency_key(citizen_id: PydanticObjectId, key: str) -> Dossier | None:
    """Both fields, always: the embedded store answers the key alone with nothing (models/dossier.py)."""
    return await Dossier.find_one({"citizen_id": citizen_id, "idempotency_key": key})


async def citizens_dossier(citizen_id: PydanticObjectId, code: str) -> Dossier | None:
    """The owner is in the query: another citizen's code answers exactly like an unknown one."""
    return await Dossier.find_one({"code": code, "citizen_id": citizen_id})


async def agency_dossier(code: str, agency_code: str | None) -> dict[str, Any] | None:
    """By its unique code, with the agency (the dossiers' shard key, app/sharding.py) so a
    sharded cluster reads one shard. No hint: the unique index on `code` is the only one that
    fits, and the embedded store answers a hinted query by decoding the whole index."""
    return await Dossier.get_pymongo_collection().find_one({"code": code, "agency_code": agency_code})


async def by_code(code: str) -> Dossier | None:
    return await Dossier.find_one({"code": code})


async def tracking_secret_hash(code: str) -> str | None:
    """The hash of the tracking secret of the dossier with this code; None for no dossier, or
    one without a secret (the caller answers both alike)."""
    found = await Dossier.get_pymongo_collection().find_one({"code": code}, {"tracking_secret_hash": 1})
    stored: str | None = found.get("tracking_secret_hash") if found is not None else None
    return stored


async def newest(query: dict[str, Any], limit: int) -> list[Dossier]:
    return await Dossier.find(query).sort("-_id").limit(limit).to_list()


async def worklist_pages(queries: list[dict[str, Any]], order: Any, limit: int) -> list[list[dict[str, Any]]]:
    """One page per query, asked at once."""
    collection = Dossier.get_pymongo_collection()
    pages: list[list[dict[str, Any]]] = await asyncio.gather(
        *(collection.find(q, sort=order, limit=limit).to_list() for q in queries)
    )
    return pages


async def overdue(now: datetime, batch: int) -> AsyncIterator[dict[str, Any]]:
    """Running dossiers past their date (the overdue index)."""
    cursor = (
        Dossier.get_pymongo_collection()
        .find({"clock.state": "running", "late_after": {"$lt": now}})
        .hint("overdue")
        .limit(batch)
    )
    async for found in cursor:
        yield found


async def running_not_late(now: datetime) -> AsyncIterator[dict[str, Any]]:
    """Running dossiers not yet past their date."""
    async for found in Dossier.get_pymongo_collection().find({"clock.state": "running", "late_after": {"$gt": now}}):
        yield found


# --- what a dossier is shown with ---------------------------------------------------------


async def service(code: str) -> Service | None:
    return await Service.find_one(Service.code == code)


async def submitter(citizen_id: PydanticObjectId) -> dict[str, Any] | None:
    """What a submission needs of its citizen: the e-ID level, and the guardians a child's
    notices are copied to (passed on to the outbox flush, which then need not read them)."""
    found: dict[str, Any] | None = await Citizen.get_pymongo_collection().find_one(
        {"_id": citizen_id}, {"eid_level": 1, "guardian_ids": 1}
    )
    return found


async def applicants(citizen_ids: set[PydanticObjectId]) -> dict[Any, dict[str, Any]]:
    """Who filed a page of dossiers (at most a page: 100): each citizen's name and ID number,
    all a page shows of them, as the driver decodes them (not whole accounts through Beanie)."""
    found = Citizen.get_pymongo_collection().find(
        {"_id": {"$in": list(citizen_ids)}}, {"national_id": 1, "full_name": 1}
    )
    return {raw["_id"]: raw async for raw in found}


async def citizen_id_by_national_id(national_id: str) -> ObjectId | None:
    found = await Citizen.get_pymongo_collection().find_one({"national_id": national_id}, {"_id": 1})
    return found["_id"] if found else None


async def timeline_sources(
    citizen_id: PydanticObjectId, cap: int
) -> tuple[list[Dossier], list[Payment], list[WalletDocument]]:
    """The citizen's newest dossiers, payments and documents, `cap` of each."""
    dossiers = await Dossier.find({"citizen_id": citizen_id}).sort("-_id").limit(cap).to_list()
    payments = await Payment.find({"citizen_id": citizen_id}).sort("-_id").limit(cap).to_list()
    documents = await WalletDocument.find({"citizen_id": citizen_id}).sort("-_id").limit(cap).to_list()
    return dossiers, payments, documents


async def agency(code: str) -> Agency | None:
    return await Agency.find_one(Agency.code == code)


async def escalated_notices(citizen_id: PydanticObjectId, cap: int) -> AsyncIterator[dict[str, Any]]:
    """The citizen's notices that escalated (SMS, letter), `cap` at most: their data and steps."""
    found = Notification.get_pymongo_collection().find(
        {"citizen_id": citizen_id, "escalation.steps.0": {"$exists": True}}, {"data": 1, "escalation": 1}
    )
    async for raw in found.limit(cap):
        yield raw


async def dossier_notices(dossier: Dossier) -> AsyncIterator[dict[str, Any]]:
    """The owner's notices about the dossier, oldest first (a parent's copy of a child's notice
    carries `child_id` and is not among them)."""
    found = Notification.get_pymongo_collection().find(
        {"citizen_id": dossier.citizen_id, "data.dossier_code": dossier.code, "data.child_id": {"$exists": False}}
    )
    async for raw in found.sort("_id", 1):
        yield raw


async def citizens_wallet_document(
    citizen_id: PydanticObjectId, document_id: PydanticObjectId
) -> WalletDocument | None:
    return await WalletDocument.find_one({"_id": document_id, "citizen_id": citizen_id})


# --- expected dates -----------------------------------------------------------------------


async def recent_histogram(agency_code: str, service_code: str) -> dict[str, int] | None:
    found = await RecentProcessing.get_pymongo_collection().find_one(
        {"agency_code": agency_code, "service_code": service_code}, {"processing_histogram": 1}
    )
    return dict(found["processing_histogram"]) if found else None


async def note_expected_late(dossier_code: str, at: datetime) -> None:
    await ExpectedLateNotice.get_pymongo_collection().update_one(
        {"dossier_code": dossier_code}, {"$setOnInsert": {"dossier_code": dossier_code, "at": at}}, upsert=True
    )


async def told_expected_late(codes: list[str]) -> set[str]:
    """Which of these dossiers were warned already (app/in_lists.py: 100 codes a read)."""
    collection = ExpectedLateNotice.get_pymongo_collection()
    return {
        found["dossier_code"]
        for piece in pieces(codes)
        async for found in collection.find({"dossier_code": {"$in": list(piece)}}, {"dossier_code": 1})
    }
