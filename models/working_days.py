"""Deadlines counted in Vietnamese working days (Monday to Friday)."""

from __future__ import annotations

from datetime import datetime, timedelta

WEEKEND = frozenset({5, 6})  # Saturday, Sunday


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days after `start`, skipping weekends.

    A start on a weekend counts from the next Monday, as a counter would.
    """
    current = start
    while current.weekday() in WEEKEND:
        current = (current + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() not in WEEKEND:
            remaining -= 1
    return current
