"""The one writer of a dossier's status.

Every move (an agency event, a citizen withdrawing or finishing a supplement, the post
delivering the result) comes here. `apply` checks the move against the procedure's own
status table (`Service.status_table`, data in the catalogue), then writes the new status,
the history entry, the event id and the notices owed to the citizen in ONE conditional
single-document update: it applies only while the dossier is still in the status (and
revision) that was checked and has not seen the event, so a retried or racing copy of the
same move has no second effect. What a move changes besides the status (the deadline clock,
the checklist, the result, the parcel) the caller passes in as `update`.

No other module sets `status`: `store.write` refuses an update that does, and
tests/unit/dossiers/test_one_status_writer.py reads the code for any other writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.dossiers import store
from app.errors import AppError, Text
from app.inbox import flushing
from models.catalogue import ServiceData
from models.common import utcnow
from models.dossier import Dossier, HistoryEntry, OutboxEntry
from models.dossier_status import DEFAULT_TABLE, Actor, DossierStatus, StatusTable, allowed_next


@dataclass(frozen=True)
class Move:
    actor: Actor
    target: DossierStatus
    # Who, as the history shows it: "citizen", "agency:<code>", "postal:<id>".
    by: str
    note: str | None = None
    # The agency's or the post's event id: kept with the dossier, so the same event again
    # matches nothing in the conditional update. None for the citizen's own moves.
    event_key: str | None = None
    # Makes the status notice's key unique per move when there is no event id.
    notice_key: str | None = None


def table_of(service: ServiceData | None) -> StatusTable:
    return service.table() if service is not None else DEFAULT_TABLE


def allowed(service: ServiceData | None, actor: Actor, current: DossierStatus) -> list[str]:
    """The moves this procedure's table lets `actor` make from `current`, sorted."""
    return sorted(s.value for s in allowed_next(actor, current, table_of(service)))


def allows(service: ServiceData | None, actor: Actor, current: DossierStatus, target: DossierStatus) -> bool:
    return target in allowed_next(actor, current, table_of(service))


def move_not_allowed(
    service: ServiceData | None, actor: Actor, current: DossierStatus, target: DossierStatus
) -> AppError:
    """The 409 that names the moves this procedure allows from where the dossier is."""
    moves = allowed(service, actor, current)
    return AppError(
        409,
        "status-move-not-allowed",
        Text("Không thể chuyển trạng thái", "Status move not allowed"),
        Text(
            "Hồ sơ đang ở trạng thái '{current}', không thể chuyển sang '{target}'. Các trạng thái tiếp theo được "
            "phép: {allowed}.",
            "The dossier is '{current}' and cannot move to '{target}'. Allowed next statuses: {allowed}.",
        ),
        params={"current": current.value, "target": target.value, "allowed": ", ".join(moves) or "-"},
        extra={"allowed_next": moves},
    )


def status_notice(
    dossier: Dossier, service: ServiceData | None, status: DossierStatus, event_key: str
) -> list[OutboxEntry]:
    """The push owed for a move, if the procedure tells the citizen about this status."""
    if service is not None and not service.notifies(status):
        return []
    return [OutboxEntry(key=f"dossier:{dossier.code}:{event_key}", kind="dossier_status", status=status)]


def check(service: ServiceData | None, dossier: Dossier, move: Move) -> None:
    if not allows(service, move.actor, dossier.status, move.target):
        raise move_not_allowed(service, move.actor, dossier.status, move.target)


async def apply(
    dossier: Dossier,
    service: ServiceData | None,
    move: Move,
    *,
    update: dict[str, Any] | None = None,
    outbox: list[OutboxEntry] | None = None,
    condition: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Dossier | None:
    """Move `dossier` (as read) to `move.target` with the caller's other changes; the dossier as
    written, or None when it changed meanwhile (the caller reads again and decides again)."""
    check(service, dossier, move)
    now = now or utcnow()
    changes: dict[str, Any] = {op: dict(fields) for op, fields in (update or {}).items()}
    changes.setdefault("$set", {})["status"] = move.target.value
    entry = HistoryEntry(status=move.target, at=now, note=move.note, event_id=move.event_key, actor=move.by)
    push = changes.setdefault("$push", {})
    push["history"] = entry.model_dump()
    if move.event_key is not None:
        push["event_ids"] = move.event_key
    notice_key = move.notice_key or move.event_key or move.target.value
    notices = [*(outbox or []), *status_notice(dossier, service, move.target, notice_key)]
    if notices:
        push["outbox"] = {"$each": [n.model_dump() for n in notices]}
    guard: dict[str, Any] = {"status": dossier.status.value, **(condition or {})}
    if move.event_key is not None:
        guard["event_ids"] = {"$ne": move.event_key}
    written = await store.write_move(dossier, changes, guard)
    if written is not None and notices and service is not None:
        # The flush after the request reuses the procedure instead of reading it again.
        flushing.owed(Dossier, written.id, [n.key for n in notices], service)
    return written
