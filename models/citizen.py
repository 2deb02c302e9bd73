"""Citizens, their signed-in sessions and their phones."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow

Platform = Literal["android", "ios", "web"]
Locale = Literal["vi", "en"]


class Citizen(Document):
    national_id: str
    full_name: str
    # ISO date (YYYY-MM-DD): BSON has no date-only type and ISO strings sort correctly.
    date_of_birth: str
    phone: str
    password_hash: str
    eid_level: int = 1
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "citizens"
        indexes = [
            IndexModel([("national_id", pymongo.ASCENDING)], unique=True),
            IndexModel([("phone", pymongo.ASCENDING)], unique=True),
        ]


class AuthSession(Document):
    """One signed-in device: the refresh token (hashed) rotates, the session id stays."""

    citizen_id: PydanticObjectId
    refresh_token_hash: str
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    user_agent: str | None = None

    class Settings:
        name = "auth_sessions"
        indexes = [
            IndexModel([("refresh_token_hash", pymongo.ASCENDING)], unique=True),
            IndexModel([("citizen_id", pymongo.ASCENDING)]),
            # Sessions past their end are of no use to anyone: let the store drop them.
            IndexModel([("expires_at", pymongo.ASCENDING)], expireAfterSeconds=0),
        ]


class Device(Document):
    """A phone registered for push. The FCM token is unique: it belongs to one citizen."""

    citizen_id: PydanticObjectId
    token: str
    platform: Platform
    locale: Locale = "vi"
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "devices"
        indexes = [
            IndexModel([("token", pymongo.ASCENDING)], unique=True),
            IndexModel([("citizen_id", pymongo.ASCENDING)]),
        ]
