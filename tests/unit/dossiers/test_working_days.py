"""Working days: weekends, public holidays from the calendar file, swapped days, Vietnamese dates."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from models.working_days import (
    UNCOVERED,
    VIETNAM,
    add_working_days,
    calendar,
    horizon_problem,
    is_working_day,
    working_days_between,
)


def vn(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on a Vietnamese clock."""
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


def test_the_calendar_covers_three_years_with_tet() -> None:
    cal = calendar()
    assert {2025, 2026, 2027} <= cal.years
    # Tết Bính Ngọ: lunar new year's day is Tuesday 17 February 2026.
    for day in range(16, 21):
        assert not is_working_day(date(2026, 2, day))
    assert is_working_day(date(2026, 2, 23))
    # 2025: Saturday 26 April was worked in exchange for Friday 2 May.
    assert is_working_day(date(2025, 4, 26)) and not is_working_day(date(2025, 5, 2))
    # Hung Kings' day 2026 falls on Sunday 26 April: Monday 27 April is off instead.
    assert not is_working_day(date(2026, 4, 27))


def test_across_a_weekend() -> None:
    # Received Thursday 10:00, 3 working days: Friday, Monday, Tuesday.
    assert add_working_days(vn(2026, 11, 19), 3) == vn(2026, 11, 24).astimezone(UTC)


def test_across_a_public_holiday() -> None:
    # Received Friday 13 February 2026, 5 working days: the Tết week does not count.
    due = add_working_days(vn(2026, 2, 13, 9, 30), 5)
    assert due == vn(2026, 2, 27, 9, 30).astimezone(UTC)
    # National Day 2025 (1-2 September) and the weekend before it.
    assert add_working_days(vn(2025, 8, 29, 14), 1) == vn(2025, 9, 3, 14).astimezone(UTC)


def test_a_start_on_a_day_off_counts_from_the_next_opening() -> None:
    # Submitted on Sunday night: the count starts Monday 08:00.
    assert add_working_days(vn(2026, 11, 22, 21), 1) == vn(2026, 11, 24, 8).astimezone(UTC)
    assert add_working_days(vn(2026, 2, 17, 11), 0) == vn(2026, 2, 23, 8).astimezone(UTC)


def test_dates_are_vietnamese_dates() -> None:
    # 23:30 UTC on Sunday is 06:30 on Monday in Hà Nội: a working day already.
    sunday_night_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert add_working_days(sunday_night_utc, 1) == vn(2026, 11, 24, 6, 30).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (vn(2026, 11, 23), vn(2026, 11, 23, 16), 0),  # same day
        (vn(2026, 11, 23), vn(2026, 11, 25), 2),  # Monday → Wednesday: Tuesday, Wednesday
        (vn(2026, 11, 20), vn(2026, 11, 23), 1),  # Friday → Monday: the weekend does not count
        (vn(2026, 2, 13), vn(2026, 2, 23), 1),  # across Tết: only Monday 23
    ],
)
def test_working_days_between(start: datetime, end: datetime, expected: int) -> None:
    assert working_days_between(start, end) == expected


def test_adding_is_monotonic_over_a_year() -> None:
    start = vn(2026, 1, 1, 9)
    previous = start
    for n in range(1, 260):
        due = add_working_days(start, n)
        assert due > previous
        assert is_working_day(due.astimezone(VIETNAM).date())
        previous = due
    assert previous - start > timedelta(days=360)


def test_the_calendar_reaches_next_year_from_october() -> None:
    """Red from 1 October while next year's public holidays are not in the file (and all year
    long when this year's are missing): deadlines would count Tết as working days."""
    today = datetime.now(VIETNAM).date()
    assert horizon_problem(today) is None, horizon_problem(today)


def test_the_horizon_names_the_missing_year() -> None:
    last = max(calendar().years)
    assert horizon_problem(date(last, 9, 30)) is None
    problem = horizon_problem(date(last, 10, 1))
    assert problem is not None and str(last + 1) in problem
    assert horizon_problem(date(last + 1, 3, 1)) is not None


def test_a_day_beyond_the_calendar_is_counted_but_alerts(caplog: pytest.LogCaptureFixture) -> None:
    cal = calendar()
    beyond = max(cal.years) + 1
    before = UNCOVERED[beyond]
    with caplog.at_level(logging.ERROR, logger="models.working_days"):
        # Still an answer (the citizen is served): a weekday counts, a weekend does not.
        assert is_working_day(date(beyond, 1, 3)) == (date(beyond, 1, 3).weekday() < 5)
        is_working_day(date(beyond, 1, 4))
    assert UNCOVERED[beyond] == before + 2
    if before == 0:  # logged once per year and process, not at every lookup
        assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
        assert str(beyond) in caplog.records[0].getMessage()
    assert min(cal.years) not in UNCOVERED
