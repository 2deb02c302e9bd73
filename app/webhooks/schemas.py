from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2000)]
EventTypes = Annotated[list[str], msgspec.Meta(min_length=1, max_length=20)]
Description = Annotated[str, msgspec.Meta(max_length=200)]


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    # https in production; never a private, loopback or link-local address (decision 0028).
    url: Url
    event_types: EventTypes
    description: Description | None = None


class SubscriptionPatch(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    # false disables it; true enables it again (after a 410 answer, once the receiver is fixed).
    enabled: bool | None = None


class SubscriptionOut(msgspec.Struct):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    # Why it is disabled: "gone" (the receiver answered 410) or "agency".
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    # Until when the secret before the last rotation still signs (a second signature).
    previous_secret_valid_until: datetime | None = None


class CreatedSubscriptionOut(SubscriptionOut, kw_only=True):
    # Shown once: keep it now. `whsec_` + base64; the HMAC key is the decoded bytes.
    secret: str


class RotatedWebhookSecretOut(msgspec.Struct):
    secret: str
    previous_secret_valid_until: datetime


class AttemptOut(msgspec.Struct):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(msgspec.Struct):
    id: str
    event_id: str
    event_type: str
    state: str
    attempt_count: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    parked_reason: str | None
    replays: int
    # The last attempts (up to 20), oldest first.
    attempts: list[AttemptOut]
    # The exact body sent (signed as it stands).
    body: str
