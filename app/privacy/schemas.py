from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Purpose = Literal["support_desk", "push_notifications"]


class ConsentIn(msgspec.Struct):
    purpose: Purpose
    granted: bool
    terms_version: str | None = None


class ConsentOut(msgspec.Struct):
    purpose: str
    granted: bool
    terms_version: str | None
    at: datetime | None


class KeptRecord(msgspec.Struct):
    what: str
    why: str


class DeletionIn(msgspec.Struct):
    password: str


class DeletionOut(msgspec.Struct):
    deleted: dict[str, int]
    kept: list[KeptRecord]


Export = dict[str, Any]
