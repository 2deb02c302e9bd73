from __future__ import annotations

from datetime import datetime

import msgspec


class NotificationOut(msgspec.Struct):
    id: str
    title: str
    body: str
    data: dict[str, str]
    created_at: datetime
    read_at: datetime | None
    # The preference category (dossier_updates, documents, document_expiry, ...).
    category: str = "general"


class UnreadCount(msgspec.Struct):
    unread: int


class ReadChange(msgspec.Struct, forbid_unknown_fields=True):
    read: bool


class MarkedRead(msgspec.Struct):
    marked: int


class QuietHoursIO(msgspec.Struct, forbid_unknown_fields=True):
    # Vietnam time (Asia/Ho_Chi_Minh), "HH:MM"; the window may span midnight.
    start: str
    end: str


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True):
    # Category → pushed or not; a category left out is pushed. The inbox gets everything.
    categories: dict[str, bool] = msgspec.field(default_factory=dict)
    quiet_hours: QuietHoursIO | None = None


class PreferencesOut(msgspec.Struct):
    categories: dict[str, bool]
    quiet_hours: QuietHoursIO | None
    timezone: str
    # Always pushed at once, whatever the preferences (e.g. a revoked document).
    always_on: list[str]
