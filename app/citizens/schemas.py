from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec


class CitizenIn(msgspec.Struct):
    national_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    date_of_birth: date
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class CitizenOut(msgspec.Struct):
    id: str
    national_id: str
    full_name: str
    eid_level: int


class ProfileOut(msgspec.Struct):
    id: str
    national_id: str
    full_name: str
    date_of_birth: date
    phone: str
    eid_level: int
    created_at: datetime


class DeviceIn(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    platform: Literal["android", "ios", "web"]
    locale: Literal["vi", "en"] = "vi"


class DeviceOut(msgspec.Struct):
    id: str
    platform: str
    locale: str
    created_at: datetime
    updated_at: datetime
