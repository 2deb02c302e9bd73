"""The arithmetic under the statistics, case by case: processing time in working days across
Tết, nearest-rank percentiles of a histogram, and the citizen's expected date by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.dossiers.expected import estimate
from app.statistics.facts import elapsed_working_days, facts_of, quantile
from models.dossier import Clock, Delivery, Dossier
from models.dossier_status import DossierStatus
from models.working_days import VIETNAM


def vn(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM).astimezone(UTC)


def dossier(**fields: Any) -> Dossier:
    base: dict[str, Any] = {
        "code": "HS-1",
        "citizen_id": "0" * 24,
        "service_code": "X",
        "agency_code": "A",
        "status": DossierStatus.PROCESSING,
        "submitted_at": vn(2026, 2, 11),
        "delivery": Delivery(method="online"),
        "due_at": vn(2026, 2, 24),
        "clock": Clock(state="running", received_at=vn(2026, 2, 11)),
        "late_after": None,
        "apologies": [],
    }
    return Dossier.model_construct(**{**base, **fields})


def test_processing_days_skip_tet_and_weekends() -> None:
    # Thursday 12 Feb 2026 → Tuesday 24 Feb: Friday 13, (14–22 weekend and Tết), Monday 23, Tuesday 24.
    assert elapsed_working_days(vn(2026, 2, 12), vn(2026, 2, 24, 15)) == 3
    # The same day is 0; received on a Saturday and settled on Monday is 0, on Tuesday 1.
    assert elapsed_working_days(vn(2026, 3, 2), vn(2026, 3, 2, 16)) == 0
    assert elapsed_working_days(vn(2026, 3, 7), vn(2026, 3, 9)) == 0
    assert elapsed_working_days(vn(2026, 3, 7), vn(2026, 3, 10)) == 1


def test_facts_count_on_vietnamese_dates_and_exclude_waiting() -> None:
    raw = {
        "agency_code": "A",
        "service_code": "X",
        # 00:30 on Sunday 1 February in Hà Nội is still 31 January in UTC.
        "submitted_at": vn(2026, 2, 1, 0, 30),
        "clock": {"state": "stopped", "received_at": vn(2026, 2, 2, 8), "paused_working_days": 2},
        "history": [
            {"status": "submitted", "at": vn(2026, 2, 1, 0, 30)},
            {"status": "received", "at": vn(2026, 2, 2, 8)},
            {"status": "supplement_required", "at": vn(2026, 2, 3)},
            {"status": "processing", "at": vn(2026, 2, 5)},
            {"status": "rejected", "at": vn(2026, 2, 10, 14)},
        ],
        "due_at": vn(2026, 2, 9, 17),
    }
    facts = facts_of(raw)
    assert facts["received_day"] == "2026-02-01"
    assert facts["resolved_day"] == "2026-02-10"
    # 3, 4, 5, 6, 9, 10 February less the two days waited.
    assert facts["processing_days"] == 4
    assert facts["outcome"] == "rejected" and facts["supplement"] is True and facts["on_time"] is False
    assert facts["days"] == ["2026-02-01", "2026-02-10"]


def test_nearest_rank_quantiles_of_a_histogram() -> None:
    histogram = {"0": 4, "1": 2, "2": 3, "3": 3, "5": 2}
    values = sorted(int(d) for d, n in histogram.items() for _ in range(n))
    assert quantile(histogram, 0.5) == values[7 - 1]  # rank ceil(0.5 × 14) = 7
    assert quantile(histogram, 0.9) == values[13 - 1]  # rank ceil(0.9 × 14) = 13
    # Only the values at or beyond 1 day: 1,1,2,2,2,3,3,3,5,5.
    assert quantile(histogram, 0.5, at_least=1) == 2
    assert quantile(histogram, 0.9, at_least=1) == 5
    assert quantile({}, 0.9) is None


HISTORY = {"0": 4, "1": 2, "2": 3, "3": 3, "5": 2}


def test_expected_dates_by_hand_across_tet() -> None:
    # Received Wednesday 11 Feb 09:00; now Thursday 12 Feb: one working day spent. Past
    # dossiers that took 1 day or more: 1,1,2,2,2,3,3,3,5,5 → p50 2 days, p90 5 days.
    # 2 working days after 11 Feb: Thursday 12, Friday 13. 5: 12, 13, (Tết) 23, 24, 25.
    expected = estimate(dossier(), HISTORY, vn(2026, 2, 12, 10))
    assert expected is not None
    assert (expected.basis, expected.sample_size) == ("history", 10)
    assert expected.p50 == vn(2026, 2, 13)
    assert expected.p90 == vn(2026, 2, 25)


def test_days_waiting_for_the_citizen_move_the_expected_dates() -> None:
    # The same dossier waited one working day for a supplement: both dates one working day later.
    waited = dossier(clock=Clock(state="running", received_at=vn(2026, 2, 11), paused_working_days=1))
    expected = estimate(waited, HISTORY, vn(2026, 2, 13, 10))
    assert expected is not None
    assert expected.p50 == vn(2026, 2, 23) and expected.p90 == vn(2026, 2, 26)
    # Waiting now (paused on Friday 13, now Tuesday 24: 23 and 24 waited) moves them as the days pass.
    paused = dossier(
        status=DossierStatus.SUPPLEMENT_REQUIRED,
        clock=Clock(state="paused", received_at=vn(2026, 2, 11), paused_at=vn(2026, 2, 13), waiting_for=["supplement"]),
    )
    later = estimate(paused, HISTORY, vn(2026, 2, 24, 10))
    assert later is not None
    # Spent: 12 and 13 (2 days; 23 and 24 were waited) → past dossiers of 2 or more: 2,2,2,3,3,3,5,5.
    # p50 rank 4 → 3 days, p90 rank 8 → 5 days; plus the 2 days waited: 5 and 7 working days after 11 Feb.
    assert later.sample_size == 8
    assert later.p50 == vn(2026, 2, 25) and later.p90 == vn(2026, 2, 27)


def test_without_enough_history_the_legal_due_date_is_given_and_said_so() -> None:
    for histogram in (None, {}, {"3": 2, "4": 2}):
        expected = estimate(dossier(), histogram, vn(2026, 2, 12, 10))
        assert expected is not None
        assert expected.basis == "legal_due_date"
        assert expected.p50 == expected.p90 == vn(2026, 2, 24)
    settled = dossier(status=DossierStatus.COMPLETED, clock=Clock(state="stopped"))
    assert estimate(settled, HISTORY, vn(2026, 3, 1)) is None
