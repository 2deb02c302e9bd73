"""Support desk: staff lookups, the citizen's consent codes, and assisted sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow
from models.dossier import OutboxEntry
from models.retention import CONSENT_CODE_DAYS_AFTER_EXPIRY, DAY

ConsentScope = Literal["view_wallet", "submit_dossier"]


class SupportLookup(Document):
    """One look by a staff member at a citizen's (masked) data; the citizen is told."""

    citizen_id: PydanticObjectId
    staff_id: str
    staff_username: str
    office: str | None = None
    reason: str
    at: datetime = Field(default_factory=utcnow)
    outbox: list[OutboxEntry] = Field(default_factory=list)

    class Settings:
        name = "support_lookups"
        indexes = [
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            IndexModel([("outbox.created_at", pymongo.ASCENDING)], sparse=True),
        ]


class ConsentCode(Document):
    """A six-digit code the citizen makes in the app to let staff act for them, once."""

    citizen_id: PydanticObjectId
    code_hash: str
    scopes: list[ConsentScope]
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    failed_attempts: int = 0

    class Settings:
        name = "consent_codes"
        indexes = [
            IndexModel([("citizen_id", pymongo.ASCENDING), ("code_hash", pymongo.ASCENDING)]),
            # Codes live minutes; the store drops them a day after they lapse.
            IndexModel([("expires_at", pymongo.ASCENDING)], expireAfterSeconds=CONSENT_CODE_DAYS_AFTER_EXPIRY * DAY),
        ]


class AssistedSession(Document):
    """Staff acting for a citizen under a consent code: scoped, short, and ending by itself."""

    citizen_id: PydanticObjectId
    staff_id: str
    scopes: list[ConsentScope]
    started_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None
    # The reason given at opening: each later look at the citizen's data is pushed with it.
    reason: str | None = None

    class Settings:
        name = "assisted_sessions"
        indexes = [IndexModel([("staff_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)])]
