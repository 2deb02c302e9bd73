"""The public postal operator: a machine client of its own that carries results to citizens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.retention import DAY, LETTER_DAYS


class PostalOperator(Document):
    code: str
    name: str
    client_id: str
    client_secret_hash: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "postal_operators"
        indexes = [
            IndexModel([("code", pymongo.ASCENDING)], unique=True),
            IndexModel([("client_id", pymongo.ASCENDING)], unique=True),
        ]


LetterStatus = Literal["awaiting_pickup", "accepted", "in_transit", "delivered", "returned"]


class LetterUpdate(BaseModel):
    event_id: str
    status: LetterStatus
    at: datetime
    location: str | None = None


class PostalLetter(Document):
    """A legal notice the citizen did not read in the app, sent by registered letter: the post
    prints and carries it (issue 16; escalation step after the SMS)."""

    # One letter per notification, however often the cron runs.
    notification_id: PydanticObjectId
    citizen_id: PydanticObjectId
    recipient_name: str
    # The dossier's delivery address when it has one; None: the post takes the permanent
    # residence from the national population register by the citizen's ID.
    address: str | None = None
    # What the letter is about, as the app shows it: the notice and the dossier code.
    notice: str
    dossier_code: str | None = None
    status: LetterStatus = "awaiting_pickup"
    updates: list[LetterUpdate] = Field(default_factory=list)
    # The operator's event ids applied: the same update again changes nothing.
    event_ids: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "postal_letters"
        indexes = [
            IndexModel([("notification_id", pymongo.ASCENDING)], unique=True),
            IndexModel([("status", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
            IndexModel([("created_at", pymongo.ASCENDING)], name="letter_ttl", expireAfterSeconds=LETTER_DAYS * DAY),
        ]
