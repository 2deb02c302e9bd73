from __future__ import annotations

from datetime import datetime

import msgspec


class StaffOut(msgspec.Struct):
    username: str
    role: str
    totp_enrolled: bool
    created_at: datetime
