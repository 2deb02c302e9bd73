"""Notifications owed to citizens, and what happened to each device's push."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow

DeliveryState = Literal["pending", "sent", "failed", "dropped"]
NotificationState = Literal["pending", "sent", "failed"]


class DeviceDelivery(BaseModel):
    device_id: PydanticObjectId
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

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("key", pymongo.ASCENDING)], unique=True),
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            IndexModel([("state", pymongo.ASCENDING), ("next_attempt_at", pymongo.ASCENDING)]),
        ]
