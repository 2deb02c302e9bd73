"""Notifications owed to citizens, and what happened to each device's push."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.escalation import Escalation

DeliveryState = Literal["pending", "sent", "failed", "dropped", "muted"]
NotificationState = Literal["pending", "sent", "failed"]


class DeviceDelivery(BaseModel):
    device_id: PydanticObjectId
    # `muted`: the citizen turned this category off; the inbox has it, the phone does not.
    state: DeliveryState = "pending"
    attempts: int = 0
    message_name: str | None = None
    error_code: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class Notification(Document):
    citizen_id: PydanticObjectId
    # Dedupe key from the event that caused it (e.g. "dossier:HS-…:evt-1"): one event, one
    # notification, however often the outbox is replayed.
    key: str
    kind: str
    # The preference category of the kind (notifications/templates.py), fixed when made.
    category: str = "general"
    # About a sensitive matter (health, criminal record): neutral text on the lock screen,
    # the detail only in the inbox, behind login.
    sensitive: bool = False
    # Template parameters; title and body are rendered per device locale / reader language.
    params: dict[str, str] = Field(default_factory=dict)
    data: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    state: NotificationState = "pending"
    deliveries: list[DeviceDelivery] = Field(default_factory=list)
    attempts: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
    # When the next send attempt is due; a pending notification well past it has lost its
    # job (Redis restarted, worker killed) and the sweeper queues it again.
    next_attempt_at: datetime = Field(default_factory=utcnow)
    # Set while the push waits for the end of the citizen's quiet hours.
    held_until: datetime | None = None
    # A critical notice's way on if unread: SMS, then a letter (models/escalation.py).
    escalation: Escalation | None = None

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("key", pymongo.ASCENDING)], unique=True),
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            # The unread count and "mark all read".
            IndexModel([("citizen_id", pymongo.ASCENDING), ("read_at", pymongo.ASCENDING)]),
            IndexModel([("state", pymongo.ASCENDING), ("next_attempt_at", pymongo.ASCENDING)]),
            # The oldest pending notification (an operator figure) and the retention purge.
            IndexModel([("state", pymongo.ASCENDING), ("created_at", pymongo.ASCENDING)]),
            IndexModel([("created_at", pymongo.ASCENDING)]),
            # The escalation cron: unread critical notices whose next step is due.
            IndexModel(
                [("escalation.next_at", pymongo.ASCENDING)],
                name="escalation_due",
                partialFilterExpression={"escalation.next_at": {"$type": "date"}},
            ),
        ]


class OutboxSweepMark(Document):
    """How far the outbox sweeper has looked (app/inbox/outbox_sweep.py): every outbox entry
    made before `until` has been checked for its notification. One document, `_id` "outbox"."""

    id: str  # type: ignore[assignment]
    until: datetime

    class Settings:
        name = "outbox_sweep_marks"
