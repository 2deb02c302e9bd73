"""The citizen's consents to processing, per purpose, with the version of the terms."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow

# Purposes the citizen can grant or withdraw. Each one's enforcement is named beside it.
Purpose = Literal[
    "support_desk",  # support staff may look the citizen up (app/support)
    "push_notifications",  # pushes to the phone; the inbox keeps everything regardless
]
PURPOSES: tuple[Purpose, ...] = ("support_desk", "push_notifications")
CURRENT_TERMS_VERSION = "2026-11"


class Consent(Document):
    citizen_id: PydanticObjectId
    purpose: Purpose
    terms_version: str
    granted: bool
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "consents"
        indexes = [
            IndexModel([("citizen_id", pymongo.ASCENDING), ("purpose", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)])
        ]


async def consent_given(citizen_id: PydanticObjectId, purpose: Purpose) -> bool:
    """The latest decision for the purpose; with none recorded, the purpose is allowed (the
    services of the public portal rest on the law, not on consent, until the citizen objects)."""
    latest = await Consent.find({"citizen_id": citizen_id, "purpose": purpose}).sort("-_id").limit(1).to_list()
    return latest[0].granted if latest else True
