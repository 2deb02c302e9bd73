"""Presentations: a short-lived, signed showing of one wallet document to a verifier."""

from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow
from models.retention import DAY, PRESENTATION_DAYS_AFTER_EXPIRY


class Presentation(Document):
    # The token's `jti`: random, so it says nothing about the citizen or the document.
    jti: str
    citizen_id: PydanticObjectId
    document_id: PydanticObjectId
    # Names of the disclosed claims only; their values live in the token and nowhere else.
    disclosed: list[str] = Field(default_factory=list)
    kid: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    single_use: bool = False
    used_at: datetime | None = None

    class Settings:
        name = "presentations"
        indexes = [
            IndexModel([("jti", pymongo.ASCENDING)], unique=True),
            # Purged once expired: the token's own `exp` refuses it from then on anyway.
            IndexModel([("expires_at", pymongo.ASCENDING)], expireAfterSeconds=PRESENTATION_DAYS_AFTER_EXPIRY * DAY),
        ]
