"""Quiet hours are Vietnam wall-clock times; a push inside them waits for their end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.preferences import VIETNAM, QuietHours, parse_clock


def at_vietnam(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=VIETNAM).astimezone(UTC)


def test_a_window_over_midnight_holds_until_the_morning() -> None:
    quiet = QuietHours(start="22:00", end="06:30")
    assert quiet.held_until(at_vietnam(23, 15)) == at_vietnam(6, 30, day=11)
    assert quiet.held_until(at_vietnam(2, 0)) == at_vietnam(6, 30)
    assert quiet.held_until(at_vietnam(22, 0)) == at_vietnam(6, 30, day=11)
    assert quiet.held_until(at_vietnam(6, 30)) is None
    assert quiet.held_until(at_vietnam(12, 0)) is None


def test_a_window_within_one_day() -> None:
    quiet = QuietHours(start="12:00", end="13:30")
    assert quiet.held_until(at_vietnam(12, 45)) == at_vietnam(13, 30)
    assert quiet.held_until(at_vietnam(11, 59)) is None
    assert quiet.held_until(at_vietnam(13, 30)) is None


def test_the_answer_is_in_utc_even_for_a_vietnam_clock_time() -> None:
    # 22:30 in Hà Nội is 15:30 UTC; the window ends at 06:00 Hà Nội, 23:00 UTC the same day.
    until = QuietHours(start="22:00", end="06:00").held_until(datetime(2026, 3, 10, 15, 30, tzinfo=UTC))
    assert until == datetime(2026, 3, 10, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["24:00", "7:00", "07:60", "0700", "07:00:00", "ab:cd", ""])
def test_clock_times_must_be_hh_mm(value: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(value)


clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))


@given(start=clock, end=clock, now=instants)
def test_held_exactly_inside_the_window_and_until_its_end(start: str, end: str, now: datetime) -> None:
    if start == end:
        return
    until = QuietHours(start=start, end=end).held_until(now)
    local = now.astimezone(VIETNAM).time().replace(second=0, microsecond=0)
    opens, closes = parse_clock(start), parse_clock(end)
    now_minute = time(local.hour, local.minute)
    exact = now.astimezone(VIETNAM).time()
    inside = (opens <= exact < closes) if opens < closes else (exact >= opens or exact < closes)
    assert (until is not None) == inside, (start, end, now_minute)
    if until is not None:
        assert now < until <= now + timedelta(hours=24)
        assert until.astimezone(VIETNAM).time() == closes
