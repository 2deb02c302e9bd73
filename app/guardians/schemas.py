from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec


class ChildIn(msgspec.Struct):
    national_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    date_of_birth: date


class ChildOut(msgspec.Struct):
    id: str
    national_id: str
    full_name: str
    date_of_birth: date
    eid_level: int
    # From this day the child may take the account over (claim code, then own sign-in).
    can_take_over_from: date
    created_at: datetime
