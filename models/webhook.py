"""Webhooks to agencies: subscriptions, the events they take, and each delivery with its log.

An event that an agency may hear of is written as an outbox entry of kind `agency_event`
in the same atomic update as the change that causes it (like a citizen's notice, decision
0002); the outbox flush turns it into one `WebhookDelivery` per subscription that takes the
event type (app/webhooks/fanout.py), and the webhook lane of the worker sends it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.dossier import OutboxEntry
from models.retention import DAY, WEBHOOK_LOG_DAYS

# The outbox entry kind the inbox hands to the webhooks instead of making a notification.
AGENCY_EVENT = "agency_event"

DOSSIER_SUBMITTED = "dossier.submitted"
SUPPLEMENT_ANSWERED = "dossier.supplement_answered"
FEE_PAID = "dossier.fee_paid"
DOSSIER_WITHDRAWN = "dossier.withdrawn"
DOSSIER_RATED = "dossier.rated"
PRESENTATION_VERIFIED = "presentation.verified"
# What an agency may subscribe to (the contract's list: extend, never rename).
EVENT_TYPES = (
    DOSSIER_SUBMITTED,
    SUPPLEMENT_ANSWERED,
    FEE_PAID,
    DOSSIER_WITHDRAWN,
    DOSSIER_RATED,
    PRESENTATION_VERIFIED,
)
# Sent to one subscription on request, whatever it takes.
PING = "webhook.ping"

SubscriptionState = Literal["active", "disabled"]
DeliveryState = Literal["pending", "delivered", "parked"]
# How many attempts a delivery's log keeps (the count goes on).
ATTEMPTS_KEPT = 20


def event_id(key: str) -> str:
    """The `webhook-id` of an event: derived from its outbox key, so a flush repeated after a
    crash makes the same id and the receiver can drop the copy."""
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def agency_event(key: str, event_type: str, **data: str) -> OutboxEntry:
    """The outbox entry of an event for the dossier's agency. `data` goes into the payload:
    codes and statuses only, never the citizen's personal data (the agency reads the dossier
    through its API, which records the read)."""
    return OutboxEntry(key=f"agency:{key}", kind=AGENCY_EVENT, params={"event_type": event_type, **data})


class WebhookSubscription(Document):
    agency_code: str
    url: str
    event_types: list[str]
    description: str | None = None
    # whsec_… sealed with SECRETS_KEY (app/sealing.py): the platform must read it to sign.
    secret_sealed: str
    # The secret before the last rotation: deliveries carry a signature by each until then.
    previous_secret_sealed: str | None = None
    previous_secret_expires_at: datetime | None = None
    state: SubscriptionState = "active"
    # Why it was disabled: "gone" (the receiver answered 410) or "agency".
    disabled_reason: str | None = None
    # Which of the agency's WEBHOOK_SUBSCRIPTIONS_PER_AGENCY places it holds: unique per
    # agency, so the cap holds however many creations race (a count first would not).
    slot: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "webhook_subscriptions"
        indexes = [
            IndexModel([("agency_code", pymongo.ASCENDING), ("state", pymongo.ASCENDING)]),
            IndexModel([("agency_code", pymongo.ASCENDING), ("slot", pymongo.ASCENDING)], unique=True),
        ]


class DeliveryAttempt(BaseModel):
    at: datetime
    # None when no answer came (timeout, refused connection, address refused).
    status_code: int | None = None
    error: str | None = None
    duration_ms: int


class WebhookDelivery(Document):
    subscription_id: PydanticObjectId
    agency_code: str
    event_id: str
    event_type: str
    # The exact body sent, so every attempt and every replay signs and sends the same bytes.
    body: str
    state: DeliveryState = "pending"
    attempt_count: int = 0
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    # Retries stop (the delivery is parked) after this; a replay starts a new window.
    retry_until: datetime
    replays: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None
    parked_reason: str | None = None

    class Settings:
        name = "webhook_deliveries"
        indexes = [
            # One delivery per event and subscription: a repeated fan-out makes nothing new.
            IndexModel([("subscription_id", pymongo.ASCENDING), ("event_id", pymongo.ASCENDING)], unique=True),
            # The delivery log, newest first.
            IndexModel([("subscription_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            # The webhook sweeper: pending deliveries whose job went missing.
            IndexModel([("state", pymongo.ASCENDING), ("next_attempt_at", pymongo.ASCENDING)]),
            # Retention (models/retention.py).
            IndexModel(
                [("created_at", pymongo.ASCENDING)], name="webhook_log_ttl", expireAfterSeconds=WEBHOOK_LOG_DAYS * DAY
            ),
        ]
