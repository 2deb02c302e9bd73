from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
ConsentScope = Literal["view_wallet", "submit_dossier"]


class LookupIn(msgspec.Struct):
    national_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: Reason


class MaskedCitizen(msgspec.Struct):
    national_id: str
    full_name: str
    birth_year: int
    phone: str
    eid_level: int


class MaskedDocument(msgspec.Struct):
    type: str
    number: str
    issuer: str
    status: str
    valid_until: date | None


class LookupOut(msgspec.Struct):
    id: str
    citizen: MaskedCitizen
    documents: list[MaskedDocument]


class ConsentCodeIn(msgspec.Struct):
    scopes: Annotated[list[ConsentScope], msgspec.Meta(min_length=1, max_length=2)]


class ConsentCodeOut(msgspec.Struct):
    code: str
    scopes: list[str]
    expires_at: datetime


class AssistedSessionIn(msgspec.Struct):
    national_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    code: Annotated[str, msgspec.Meta(min_length=6, max_length=6, pattern=r"^\d{6}$")]
    reason: Reason


class AssistedSessionOut(msgspec.Struct):
    id: str
    scopes: list[str]
    expires_at: datetime
