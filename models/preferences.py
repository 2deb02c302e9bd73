"""What each citizen wants pushed to their phones, and when not."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow

# Quiet hours are wall-clock times in Vietnam (UTC+7 all year, no daylight saving).
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def parse_clock(value: str) -> time:
    """'22:30' → time(22, 30); ValueError for anything else."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError("expected HH:MM")
    return time(int(hours), int(minutes))


class QuietHours(BaseModel):
    """A daily window, in Vietnam time, in which pushes wait; it may span midnight."""

    start: str  # "HH:MM"
    end: str  # "HH:MM"; equal to start is refused by the API (a 24-hour silence is "mute")

    def held_until(self, now: datetime) -> datetime | None:
        """When `now` falls inside the window, the (aware, UTC) moment the window ends; else None."""
        local = now.astimezone(VIETNAM)
        start, end = parse_clock(self.start), parse_clock(self.end)
        today = local.date()
        for day in (today - timedelta(days=1), today):
            opens = datetime.combine(day, start, VIETNAM)
            closes = datetime.combine(day if end > start else day + timedelta(days=1), end, VIETNAM)
            if opens <= local < closes:
                return closes.astimezone(now.tzinfo)
        return None


class NotificationPreferences(Document):
    """One per citizen who changed the defaults (everything on, no quiet hours)."""

    citizen_id: PydanticObjectId
    # Categories the citizen turned off (notifications/templates.py names them); the inbox
    # still gets those notifications, the phone does not.
    muted: list[str] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "notification_preferences"
        indexes = [IndexModel([("citizen_id", pymongo.ASCENDING)], unique=True)]
