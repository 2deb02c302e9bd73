"""The deadline clock: started at receipt, paused while the dossier waits for the citizen,
moved by the working days it waited, and the state each dossier reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.dossiers import deadlines
from models.catalogue import LocalizedText, ServiceData
from models.dossier import Clock, Delivery, Dossier
from models.working_days import VIETNAM

SERVICE: Any = ServiceData(code="X", name=LocalizedText(vi="x", en="x"), agency_code="A", processing_days=5)


def vn(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=VIETNAM).astimezone(UTC)


def dossier(**fields: Any) -> Dossier:
    base: dict[str, Any] = {
        "code": "HS-1",
        "citizen_id": "0" * 24,
        "service_code": "X",
        "agency_code": "A",
        "delivery": Delivery(method="online"),
        "due_at": vn(2026, 1, 1),
        "clock": Clock(),
        "late_after": None,
        "apologies": [],
    }
    return Dossier.model_construct(**{**base, **fields})


def applied(d: Dossier, change: deadlines.ClockChange) -> Dossier:
    return dossier(clock=change.clock, due_at=change.due_at, late_after=change.late_after)


def test_received_before_a_weekend_and_tet() -> None:
    # Received Thursday 12 February 2026: Friday 13, then Tết (16-20 February), then 23-26.
    started = deadlines.start(dossier(), SERVICE, vn(2026, 2, 12), [])
    assert started.clock.state == "running"
    assert started.due_at == vn(2026, 2, 26) == started.late_after


def test_a_pause_moves_the_deadline_by_the_working_days_waited() -> None:
    received = applied(dossier(), deadlines.start(dossier(), SERVICE, vn(2026, 11, 16), []))  # Monday
    assert received.due_at == vn(2026, 11, 23)
    paused = applied(received, deadlines.pause(received, "supplement", vn(2026, 11, 18)))  # Wednesday
    assert paused.clock.state == "paused" and paused.due_at == vn(2026, 11, 23)
    # While paused, the deadline shown keeps moving with the days: Thursday, Friday, Monday.
    assert deadlines.effective_due(paused, vn(2026, 11, 23, 9)) == vn(2026, 11, 26)
    # Resumed the next Monday: Thursday, Friday and Monday are given back.
    resumed = deadlines.resume(paused, "supplement", vn(2026, 11, 23, 15))
    assert resumed.clock.state == "running" and resumed.clock.paused_working_days == 3
    assert resumed.due_at == vn(2026, 11, 26) and resumed.late_after == vn(2026, 11, 26)
    assert [(p.reasons, p.working_days) for p in resumed.pauses] == [(["supplement"], 3)]


def test_two_reasons_to_wait_resume_only_when_both_are_done() -> None:
    received = applied(dossier(), deadlines.start(dossier(), SERVICE, vn(2026, 11, 16), ["payment"]))
    assert received.clock.state == "paused" and received.clock.waiting_for == ["payment"]
    both = applied(received, deadlines.pause(received, "supplement", vn(2026, 11, 17)))
    assert both.clock.waiting_for == ["payment", "supplement"]
    paid = applied(both, deadlines.resume(both, "payment", vn(2026, 11, 18)))
    assert paid.clock.state == "paused" and paid.due_at == vn(2026, 11, 23)
    answered = deadlines.resume(paid, "supplement", vn(2026, 11, 19))
    # Paused since Monday's receipt: Tuesday, Wednesday, Thursday given back.
    assert answered.clock.state == "running" and answered.due_at == vn(2026, 11, 26)


def test_stopping_a_paused_clock_counts_the_wait() -> None:
    received = applied(dossier(), deadlines.start(dossier(), SERVICE, vn(2026, 11, 16), []))
    paused = applied(received, deadlines.pause(received, "supplement", vn(2026, 11, 16)))
    stopped = deadlines.stop(paused, vn(2026, 11, 18))
    assert stopped.clock.state == "stopped" and stopped.due_at == vn(2026, 11, 25)


def test_states() -> None:
    running = dossier(clock=Clock(state="running", received_at=vn(2026, 11, 16)), due_at=vn(2026, 11, 23))
    assert deadlines.deadline_state(running, vn(2026, 11, 17)) == "on_track"
    # Due within one working day: Friday 10:00 for a Monday 10:00 deadline.
    assert deadlines.deadline_state(running, vn(2026, 11, 20, 11)) == "at_risk"
    assert deadlines.deadline_state(running, vn(2026, 11, 23, 11)) == "overdue"
    finished_late = dossier(
        clock=Clock(state="stopped", received_at=vn(2026, 11, 16), stopped_at=vn(2026, 11, 24)), due_at=vn(2026, 11, 23)
    )
    assert deadlines.deadline_state(finished_late, vn(2027, 1, 1)) == "overdue"
    on_time = dossier(
        clock=Clock(state="stopped", received_at=vn(2026, 11, 16), stopped_at=vn(2026, 11, 20)), due_at=vn(2026, 11, 23)
    )
    assert deadlines.deadline_state(on_time, vn(2027, 1, 1)) == "on_track"
    paused = dossier(
        clock=Clock(
            state="paused", received_at=vn(2026, 11, 16), paused_at=vn(2026, 11, 18), waiting_for=["supplement"]
        ),
        due_at=vn(2026, 11, 23),
    )
    # Waiting for the citizen a month later is not the agency's delay.
    assert deadlines.deadline_state(paused, vn(2026, 12, 18)) == "on_track"


def test_the_worklist_filters_match_the_states() -> None:
    now = vn(2026, 11, 18)
    overdue = deadlines.deadline_query("overdue", now)
    assert overdue == {"clock.state": "running", "due_at": {"$lt": now}}
    at_risk = deadlines.deadline_query("at_risk", now)["due_at"]
    assert at_risk["$gte"] == now and at_risk["$lte"] == vn(2026, 11, 19)
    assert deadlines.deadline_query("paused", now) == {"clock.state": "paused"}


def test_an_apology_promises_half_the_time_again() -> None:
    assert deadlines.new_expected_date(SERVICE, vn(2026, 11, 23)) == vn(2026, 11, 26)
    one_day: Any = SERVICE.model_copy(update={"processing_days": 1})
    assert deadlines.new_expected_date(one_day, vn(2026, 11, 20)) - vn(2026, 11, 20) == timedelta(days=3)
