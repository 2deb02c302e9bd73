"""Changing a dossier: one atomic update, conditional on the revision that was read.

Every change (an agency event, a payment, a supplement answer, a postal update, the overdue
sweeper) reads the dossier, decides, and writes with a filter on the revision it read. Two
changes that race cannot overwrite each other: the loser finds nothing to update, reads
again and decides again (a repeated event then sees its own id and changes nothing).

The status is not among what `write` may change: a move goes through
`app/dossiers/transitions.py`, which checks the procedure's table and calls `write_move`.
An update that leaves an outbox entry is noted for the after-request flush (app/inbox/flushing.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from beanie import PydanticObjectId

from app.errors import AppError, Text
from app.inbox import flushing
from models.dossier import Dossier

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


async def _write(dossier: Dossier, update: dict[str, Any], extra_filter: dict[str, Any] | None) -> Dossier | None:
    update = {**update, "$inc": {**update.get("$inc", {}), "rev": 1}}
    collection = Dossier.get_pymongo_collection()
    # The conditional update is the atomic part; the read after it only shows the result, and
    # may show a later change too, as any read would. Not findAndModify: the embedded store
    # runs it as a collection scan (decision 0017).
    condition = {"_id": dossier.id, **revision_filter(dossier), **(extra_filter or {})}
    result = await collection.update_one(condition, update)
    if result.matched_count == 0:
        return None
    if "outbox" in update.get("$push", {}):
        flushing.owed(Dossier, dossier.id)
    raw = await collection.find_one({"_id": dossier.id})
    return Dossier.model_validate(raw) if raw is not None else None


async def mark_assisted(dossier_id: PydanticObjectId | None, by: str) -> None:
    """Note who submitted a dossier on the citizen's behalf (an assisted session)."""
    await Dossier.get_pymongo_collection().update_one({"_id": dossier_id}, {"$set": {"assisted_by": by}})


async def by_payment_reference(reference: str) -> Dossier | None:
    return await Dossier.find_one({"payment.reference": reference})


async def retrying(load: Callable[[], Awaitable[Dossier]], attempt: Callable[[Dossier], Awaitable[Any]]) -> Any:
    """Run `attempt` on a fresh read until it returns something other than None (it returns
    None when its conditional write lost a race)."""
    for _ in range(RACE_RETRIES):
        outcome = await attempt(await load())
        if outcome is not None:
            return outcome
    raise CONCURRENT_UPDATE
