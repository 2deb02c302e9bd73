"""Deadlines counted in Vietnamese working days.

A working day is a Monday to Friday that is not a public holiday, its compensatory day or a
swapped day off, plus the Saturdays worked in exchange. The calendar is data
(``models/data/holidays_vn.json``). Dates are Vietnamese dates (UTC+7, no daylight saving):
a dossier received at 23:30 UTC on a Sunday was received on Monday in Hà Nội.

The file covers a few years. A date beyond them is still counted (weekends only, so the
citizen is served), but loudly: each uncovered year is logged as an error once per process
and counted (`UNCOVERED`, exported as the `cwallet_calendar_uncovered_lookups` metric), and
`horizon_problem` names the missing year from 1 October of the year before, which a unit
test and the API's start-up both check (decision 0024).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path

HOLIDAY_FILE = Path(__file__).parent / "data" / "holidays_vn.json"
VIETNAM = timezone(timedelta(hours=7), "ICT")
WEEKEND = frozenset({5, 6})  # Saturday, Sunday
# When a count starts on a day without office hours, it starts at the next opening.
OFFICE_OPENS = time(8, 0)
# From this day of a year on, next year's holidays must be in the file (they are published
# by the government in the autumn; agencies plan the new year's deadlines from October).
NEXT_YEAR_NEEDED_FROM = (10, 1)

log = logging.getLogger(__name__)
# Lookups of days in years the calendar does not cover, by year, since the process started.
UNCOVERED: Counter[int] = Counter()


@dataclass(frozen=True)
class HolidayCalendar:
    version: str
    days_off: frozenset[date]
    working_saturdays: frozenset[date]
    years: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        if day.year not in self.years:
            _uncovered(day.year, self)
        if day in self.working_saturdays:
            return True
        return day.weekday() not in WEEKEND and day not in self.days_off


def _uncovered(year: int, cal: HolidayCalendar) -> None:
    if UNCOVERED[year] == 0:
        log.error(
            "calendar.year_not_covered: %s is not in the holiday calendar (%s covers %s); public holidays of %s "
            "count as working days until models/data/holidays_vn.json lists them",
            year,
            cal.version,
            sorted(cal.years),
            year,
        )
    UNCOVERED[year] += 1


def horizon_problem(today: date, cal: HolidayCalendar | None = None) -> str | None:
    """What the calendar lacks on `today`: this year, or (from 1 October) next year."""
    cal = cal or calendar()
    needed = [today.year]
    if (today.month, today.day) >= NEXT_YEAR_NEEDED_FROM:
        needed.append(today.year + 1)
    missing = [year for year in needed if year not in cal.years]
    if not missing:
        return None
    return (
        f"the holiday calendar ({HOLIDAY_FILE.name} {cal.version}) covers {sorted(cal.years)} and lacks {missing}: "
        "add the public holidays and swapped days the government published"
    )


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
