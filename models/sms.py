"""The SMS log: each text sent (or tried) to a citizen, for the escalation of unread notices."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.retention import DAY, SMS_LOG_DAYS

SmsState = Literal["sent", "failed"]


class SmsAttempt(BaseModel):
    at: datetime
    ok: bool
    error: str | None = None


class SmsMessage(Document):
    citizen_id: PydanticObjectId
    notification_id: PydanticObjectId
    # The last three digits only: the number itself stays on the citizen's record.
    phone_tail: str
    text: str
    state: SmsState
    provider_id: str | None = None
    attempts: list[SmsAttempt] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "sms_messages"
        indexes = [
            # The per-citizen rate limit counts a day of sent texts.
            IndexModel([("citizen_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]),
            IndexModel([("notification_id", pymongo.ASCENDING)], unique=True),
            IndexModel([("created_at", pymongo.ASCENDING)], name="sms_log_ttl", expireAfterSeconds=SMS_LOG_DAYS * DAY),
        ]
