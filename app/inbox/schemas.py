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
