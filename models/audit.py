"""Who looked at or changed a citizen's data, other than the citizen."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow

ActorKind = Literal["agency", "staff", "verifier", "admin", "system"]


class AccessRecord(Document):
    citizen_id: PydanticObjectId
    actor_kind: ActorKind
    actor_id: str
    action: str  # e.g. "dossier.read", "document.issue"
    target: str  # what was read or changed, e.g. a dossier code
    reason: str | None = None
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "access_records"
        indexes = [IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)])]
