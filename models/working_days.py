"""Deadlines counted in Vietnamese working days.

A working day is a Monday to Friday that is not a public holiday, its compensatory day or a
swapped day off, plus the Saturdays worked in exchange. The calendar is data
(``models/data/holidays_vn.json``). Dates are Vietnamese dates (UTC+7, no daylight saving):
a dossier received at 23:30 UTC on a Sunday was received on Monday in Hà Nội.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path

HOLIDAY_FILE = Path(__file__).parent / "data" / "holidays_vn.json"
VIETNAM = timezone(timedelta(hours=7), "ICT")
WEEKEND = frozenset({5, 6})  # Saturday, Sunday
# When a count starts on a day without office hours, it starts at the next opening.
OFFICE_OPENS = time(8, 0)


@dataclass(frozen=True)
class HolidayCalendar:
    version: str
    days_off: frozenset[date]
    working_saturdays: frozenset[date]
    years: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        if day in self.working_saturdays:
            return True
        return day.weekday() not in WEEKEND and day not in self.days_off


def read_calendar(path: Path = HOLIDAY_FILE) -> HolidayCalendar:
    raw = json.loads(path.read_text(encoding="utf-8"))
    days_off: set[date] = set()
    saturdays: set[date] = set()
    for year in raw["years"].values():
        days_off.update(date.fromisoformat(entry["date"]) for entry in year["day_off"])
        saturdays.update(date.fromisoformat(entry["date"]) for entry in year.get("working_saturday", []))
    return HolidayCalendar(
        version=str(raw["version"]),
        days_off=frozenset(days_off),
        working_saturdays=frozenset(saturdays),
        years=frozenset(int(y) for y in raw["years"]),
    )


@lru_cache(maxsize=1)
def calendar() -> HolidayCalendar:
    return read_calendar()


def local(moment: datetime) -> datetime:
    """The same instant on a Vietnamese clock (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM)


def is_working_day(day: date, cal: HolidayCalendar | None = None) -> bool:
    return (cal or calendar()).is_working_day(day)


def add_working_days(start: datetime, days: int, cal: HolidayCalendar | None = None) -> datetime:
    """The moment `days` working days after `start`, at the same time of day.

    A start on a day without office hours counts from the next working day's opening, as a
    counter would. The answer is in UTC.
    """
    cal = cal or calendar()
    current = local(start)
    while not cal.is_working_day(current.date()):
        current = datetime.combine(current.date() + timedelta(days=1), OFFICE_OPENS, VIETNAM)
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if cal.is_working_day(current.date()):
            remaining -= 1
    return current.astimezone(UTC)


def working_days_between(start: datetime, end: datetime, cal: HolidayCalendar | None = None) -> int:
    """Working days after `start`'s date up to and including `end`'s date (Vietnamese dates).

    Used for the time a dossier waited for the citizen: paused on Monday and resumed on
    Wednesday gives the agency back Tuesday and Wednesday; paused and resumed the same day,
    nothing.
    """
    cal = cal or calendar()
    first, last = local(start).date(), local(end).date()
    count = 0
    day = first + timedelta(days=1)
    while day <= last:
        if cal.is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count
