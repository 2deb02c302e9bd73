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


class LockOut(msgspec.Struct):
    locked_at: datetime
    # What to do to unlock, in the caller's language.
    detail: str


class ClaimIn(msgspec.Struct):
    """A child of 14 or more takes over the account a parent managed."""

    national_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    claim_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class ClaimCodeOut(msgspec.Struct):
    # Shown once, to be handed to the child; only its hash is kept.
    claim_code: str
    expires_at: datetime


class IdentityCheckIn(msgspec.Struct):
    """An agency that checked a person's identity (chip ID card at the counter)."""

    national_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class EidLevelIn(IdentityCheckIn):
    level: Literal[1, 2] = 2


class IdentityStatusOut(msgspec.Struct):
    national_id: str
    eid_level: int
    locked: bool
