"""Official documents held in a citizen's wallet."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow
from models.dossier import OutboxEntry

StoredStatus = Literal["valid", "revoked", "suspended"]
ShownStatus = Literal["valid", "expired", "revoked", "suspended"]


class WalletDocument(Document):
    citizen_id: PydanticObjectId
    type: str
    number: str
    issuer: str
    issued_at: datetime = Field(default_factory=utcnow)
    valid_from: str
    valid_until: str | None = None
    # Only what an agency decided is stored; `expired` is derived at read time (shown_status).
    status: StoredStatus = "valid"
    fields: dict[str, Any] = Field(default_factory=dict)
    # (issuer, issue_event_id) is unique: an agency retrying an issue gets the first document.
    issue_event_id: str
    dossier_code: str | None = None
    outbox: list[OutboxEntry] = Field(default_factory=list)

    def shown_status(self, today: date) -> ShownStatus:
        if self.status != "valid":
            return self.status
        if self.valid_until is not None and self.valid_until < today.isoformat():
            return "expired"
        return "valid"

    class Settings:
        name = "documents"
        indexes = [
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            IndexModel([("issuer", pymongo.ASCENDING), ("issue_event_id", pymongo.ASCENDING)], unique=True),
            IndexModel([("outbox.created_at", pymongo.ASCENDING)], sparse=True),
        ]
