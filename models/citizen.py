"""Citizens, their signed-in sessions and their phones."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow
from models.retention import DAY, SESSION_DAYS_AFTER_EXPIRY

Platform = Literal["android", "ios", "web"]
Locale = Literal["vi", "en"]


def closed_phone(citizen_id: object) -> str:
    """What a closed account holds in place of its phone number: unique, so the index stays
    happy and the number is free for a new account, and no number anyone can text."""
    return f"closed:{citizen_id}"


def is_closed(raw: Mapping[str, Any] | None) -> bool:
    """Whether a citizen's record (as stored; None: gone) is of an account closed by its citizen."""
    return raw is None or raw.get("closed_at") is not None


class Citizen(Document):
    national_id: str
    full_name: str
    # ISO date (YYYY-MM-DD): BSON has no date-only type and ISO strings sort correctly.
    date_of_birth: str
    # Canonical `+84…`; "" while the person has no account of their own (a child under 14
    # managed by a guardian), which the partial unique index below leaves out.
    phone: str = ""
    # None: no account of its own, so nobody can sign in as this person.
    password_hash: str | None = None
    eid_level: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    # Self-lock (lost phone): while set, every session is revoked and sign-in is refused,
    # until an identity-verifying agency unlocks the account.
    locked_at: datetime | None = None
    # The parents managing a child with no account of its own; emptied when the child,
    # from 14, claims the account. Set only when the child's record is made, never added to
    # an existing citizen: a dossier relies on it (Dossier.had_guardians).
    guardian_ids: list[PydanticObjectId] = Field(default_factory=list)
    # One-time code (SHA-256) with which a child of 14 or more takes over the account.
    claim_code_hash: str | None = None
    claim_code_expires_at: datetime | None = None
    claimed_at: datetime | None = None
    # Closed by its citizen (app/privacy): the record stays for the kept dossiers and the audit
    # trail, with no phone (a placeholder keeps the unique index) and no password.
    closed_at: datetime | None = None

    @property
    def has_own_account(self) -> bool:
        return self.password_hash is not None

    class Settings:
        name = "citizens"
        indexes = [
            IndexModel([("national_id", pymongo.ASCENDING)], unique=True),
            IndexModel(
                [("phone", pymongo.ASCENDING)],
                unique=True,
                name="phone_unique_when_set",
                partialFilterExpression={"phone": {"$gt": ""}},
            ),
            IndexModel([("guardian_ids", pymongo.ASCENDING)]),
        ]


class AuthSession(Document):
    """One signed-in device: the refresh token (hashed) rotates, the session id stays."""

    citizen_id: PydanticObjectId
    refresh_token_hash: str
    # Hashes of the refresh tokens this session already rotated away (the newest last, a
    # bounded number): one of them coming back means a copy was stolen, and the whole
    # session (the token family) is revoked.
    rotated_token_hashes: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None  # logout, signed-out-remotely, refresh-reuse, self-lock
    user_agent: str | None = None

    class Settings:
        name = "auth_sessions"
        indexes = [
            IndexModel([("refresh_token_hash", pymongo.ASCENDING)], unique=True),
            IndexModel([("rotated_token_hashes", pymongo.ASCENDING)]),
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            # Sessions past their end are of no use to anyone: let the store drop them.
            IndexModel([("expires_at", pymongo.ASCENDING)], expireAfterSeconds=SESSION_DAYS_AFTER_EXPIRY * DAY),
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
