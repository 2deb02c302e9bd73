"""The legal processing time of a dossier, and what happens when it is missed.

The clock starts when the agency receives the dossier and counts Vietnamese working days
(models/working_days.py). It pauses while the dossier waits for the citizen (a supplement,
or a fee due before processing) and the deadline moves later by the working days it waited.
It stops when the agency has a result or a refusal. A dossier whose deadline (or the new
date of an apology) has passed gets an apology with a new expected date, and the citizen is
told; the sweeper cron does this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import structlog
from arq import ArqRedis

from app.dossiers import store
from app.inbox.outbox import flush
from models.catalogue import Service
from models.common import utcnow
from models.dossier import Apology, Clock, Dossier, OutboxEntry, Pause, PauseReason
from models.working_days import add_working_days, horizon_problem, local, working_days_between

log = structlog.get_logger(__name__)

DeadlineState = Literal["on_track", "at_risk", "overdue"]
# A running dossier due within this many working days is at risk.
AT_RISK_WORKING_DAYS = 1


@dataclass
class ClockChange:
    """New values for the clock fields, to $set (and pauses to $push) in the same update."""

    clock: Clock
    due_at: datetime
    late_after: datetime | None
    pauses: list[Pause] = field(default_factory=list)

    def update(self) -> dict[str, Any]:
        update: dict[str, Any] = {
            "$set": {"clock": self.clock.model_dump(), "due_at": self.due_at, "late_after": self.late_after}
        }
        if self.pauses:
            update["$push"] = {"pauses": {"$each": [p.model_dump() for p in self.pauses]}}
        return update


def check_calendar(now: datetime | None = None) -> str | None:
    """Log an error when the holiday calendar runs out this year or (from October) next year."""
    problem = horizon_problem(local(now or utcnow()).date())
    if problem is not None:
        log.error("calendar.horizon", problem=problem)
    return problem


def _current(dossier: Dossier) -> ClockChange:
    return ClockChange(clock=dossier.clock.model_copy(deep=True), due_at=dossier.due_at, late_after=dossier.late_after)


def start(dossier: Dossier, service: Service, now: datetime, waiting_for: list[PauseReason]) -> ClockChange:
    """Receipt: the deadline is `processing_days` working days from now."""
    due = add_working_days(now, service.processing_days)
    clock = Clock(state="paused" if waiting_for else "running", received_at=now, waiting_for=list(waiting_for))
    if waiting_for:
        clock.paused_at = now
    return ClockChange(clock=clock, due_at=due, late_after=due)


def pause(dossier: Dossier, reason: PauseReason, now: datetime) -> ClockChange:
    change = _current(dossier)
    clock = change.clock
    if clock.state not in ("running", "paused") or reason in clock.waiting_for:
        return change
    if not clock.waiting_for:
        clock.state = "paused"
        clock.paused_at = now
    clock.waiting_for.append(reason)
    return change


def resume(dossier: Dossier, reason: PauseReason, now: datetime) -> ClockChange:
    """The citizen did what the dossier waited for; when nothing else is awaited the clock
    runs again and the deadline moves by the working days it waited."""
    change = _current(dossier)
    clock = change.clock
    if reason not in clock.waiting_for:
        return change
    clock.waiting_for.remove(reason)
    if clock.waiting_for or clock.state != "paused" or clock.paused_at is None:
        return change
    waited = working_days_between(clock.paused_at, now)
    change.pauses.append(Pause(reasons=[reason], start=clock.paused_at, end=now, working_days=waited))
    clock.state = "running"
    clock.paused_working_days += waited
    clock.paused_at = None
    change.due_at = add_working_days(change.due_at, waited)
    if change.late_after is not None:
        change.late_after = add_working_days(change.late_after, waited)
    return change


def stop(dossier: Dossier, now: datetime) -> ClockChange:
    change = _current(dossier)
    if change.clock.state in ("running", "paused"):
        if change.clock.state == "paused" and change.clock.paused_at is not None:
            waited = working_days_between(change.clock.paused_at, now)
            change.pauses.append(
                Pause(
                    reasons=list(change.clock.waiting_for), start=change.clock.paused_at, end=now, working_days=waited
                )
            )
            change.clock.paused_working_days += waited
            change.due_at = add_working_days(change.due_at, waited)
        change.clock.state = "stopped"
        change.clock.stopped_at = now
        change.clock.paused_at = None
        change.clock.waiting_for = []
    elif change.clock.state == "not_started":
        change.clock.state = "stopped"
        change.clock.stopped_at = now
    return change


def effective_due(dossier: Dossier, now: datetime) -> datetime:
    """The deadline as it stands now: a paused clock keeps moving it as the days pass."""
    clock = dossier.clock
    if clock.state == "paused" and clock.paused_at is not None:
        return add_working_days(dossier.due_at, working_days_between(clock.paused_at, now))
    return dossier.due_at


def deadline_state(dossier: Dossier, now: datetime | None = None) -> DeadlineState:
    now = now or utcnow()
    clock = dossier.clock
    if clock.state == "stopped":
        if clock.received_at is None:
            return "on_track"
        return "overdue" if (clock.stopped_at or now) > dossier.due_at else "on_track"
    due = effective_due(dossier, now)
    if now > due:
        return "overdue"
    if due <= add_working_days(now, AT_RISK_WORKING_DAYS):
        return "at_risk"
    return "on_track"


def deadline_query(state: str, now: datetime) -> dict[str, Any]:
    """The worklist filter for a deadline state, over dossiers whose clock runs; `paused`
    lists those waiting for the citizen."""
    if state == "paused":
        return {"clock.state": "paused"}
    edge = add_working_days(now, AT_RISK_WORKING_DAYS)
    due: dict[str, Any] = {
        "overdue": {"$lt": now},
        "at_risk": {"$gte": now, "$lte": edge},
        "on_track": {"$gt": edge},
    }[state]
    return {"clock.state": "running", "due_at": due}


# --- apologies ----------------------------------------------------------------------------


def new_expected_date(service: Service, now: datetime) -> datetime:
    """What the agency commits to after missing a deadline: half the procedure's time again
    (at least one working day), counted from now."""
    return add_working_days(now, max(1, math.ceil(service.processing_days / 2)))


def apology_key(code: str, number: int) -> str:
    """The outbox entry (and notification) of a dossier's apology `number`."""
    return f"dossier:{code}:apology:{number}"


async def apologise(dossier: Dossier, service: Service, now: datetime) -> Dossier | None:
    """Record one apology for a missed date; None when another change got there first."""
    if dossier.clock.state != "running" or dossier.late_after is None or dossier.late_after >= now:
        return dossier
    number = len(dossier.apologies) + 1
    apology = Apology(
        number=number, at=now, missed_due_at=dossier.late_after, new_expected_at=new_expected_date(service, now)
    )
    notice = OutboxEntry(
        key=apology_key(dossier.code, number),
        kind="dossier_overdue",
        status=dossier.status,
        params={"new_date": f"{local(apology.new_expected_at):%d/%m/%Y}"},
    )
    return await store.write(
        dossier,
        {
            "$set": {"late_after": apology.new_expected_at},
            "$push": {"apologies": apology.model_dump(), "outbox": notice.model_dump()},
        },
        {"clock.state": "running", "late_after": dossier.late_after},
    )


async def sweep_overdue(pool: ArqRedis, *, now: datetime | None = None, batch: int = 200) -> int:
    """Apologise for every running dossier past its date. Safe to run twice or concurrently:
    each apology is conditional on the date it replaces."""
    now = now or utcnow()
    services: dict[str, Service] = {}
    done = 0
    async for raw in store.overdue(now, batch):
        dossier = Dossier.model_validate(raw)
        service = services.get(dossier.service_code) or await store.service(dossier.service_code)
        if service is None:
            continue
        services[service.code] = service
        written = await apologise(dossier, service, now)
        if written is not None and written is not dossier:
            done += 1
            fresh = await store.raw(dossier.id)
            if fresh is not None:
                await flush(Dossier, fresh, pool, keys=[apology_key(dossier.code, written.apologies[-1].number)])
    if done:
        log.info("overdue_apologies", count=done)
    return done


async def overdue_job(ctx: dict[str, Any]) -> int:
    """The arq cron entry (workers/settings.py)."""
    return await sweep_overdue(ctx["redis"])
