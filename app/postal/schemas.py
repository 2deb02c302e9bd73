from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec


class PostalOperatorCredentialsIn(msgspec.Struct):
    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    client_secret: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class PostalTokenOut(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


class TrackingUpdateIn(msgspec.Struct):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    status: Literal["accepted", "in_transit", "delivered", "returned"]
    # The operator's parcel number, given when it accepts the parcel.
    tracking_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    location: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class TrackingOut(msgspec.Struct):
    status: str
    at: datetime
    location: str | None = None
    note: str | None = None


class ShipmentOut(msgspec.Struct):
    """What the post needs to carry the result: who, where, and the parcel's journey so far."""

    dossier_code: str
    status: str
    recipient_name: str
    address: str
    created_at: datetime
    updates: list[TrackingOut]
    tracking_number: str | None = None
    dossier_status: str | None = None
