"""Machine clients (agencies) and support staff."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow

StaffRole = Literal["support", "admin"]
# A clerk handles the agency's dossiers; a head also sees the agency's performance.
ClerkRole = Literal["clerk", "head"]
# Powers beyond handling dossiers and issuing documents, granted one by one.
AgencyScope = Literal["verify_identity"]
AGENCY_SCOPES: tuple[AgencyScope, ...] = ("verify_identity",)


class Agency(Document):
    code: str
    name: str
    client_id: str
    client_secret_hash: str
    # The procedures whose dossiers this agency handles; it sees nothing else.
    service_codes: list[str] = Field(default_factory=list)
    # Where it takes new dossiers of those procedures: province codes (models/provinces.py);
    # empty: every province no other agency serves. Among agencies of one procedure and
    # place, the one registered last receives them (app/catalogue/routing.py).
    provinces: list[str] = Field(default_factory=list)
    # Document types it may issue into wallets.
    document_types: list[str] = Field(default_factory=list)
    # e.g. "verify_identity": may raise a citizen to e-ID level 2 and unlock a locked account.
    scopes: list[AgencyScope] = Field(default_factory=list)
    # After a rotation the old secret keeps working until this moment, so the agency can
    # roll the new one out to all its servers without an outage.
    previous_secret_hash: str | None = None
    previous_secret_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "agencies"
        indexes = [
            IndexModel([("code", pymongo.ASCENDING)], unique=True),
            IndexModel([("client_id", pymongo.ASCENDING)], unique=True),
            # Who serves a procedure, read at every submission.
            IndexModel([("service_codes", pymongo.ASCENDING)]),
        ]


class Staff(Document):
    username: str
    password_hash: str
    role: StaffRole
    # Base32 TOTP secret (RFC 6238), sealed under SECRETS_KEY (app/sealing.py): no token
    # without the current code. None: not enrolled, so no token at all until an admin
    # re-creates the account.
    totp_secret_sealed: str | None = None
    # The same secret in clear, as records made before sealing kept it; the first sign-in
    # seals it and removes this.
    totp_secret: str | None = None
    # The last 30-second step a code was accepted for: a code is good for one sign-in only.
    totp_last_step: int = 0
    # Where they work (e.g. "Bưu điện Trung tâm 3, Hà Nội"): shown to citizens they look up.
    office: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "staff"
        indexes = [IndexModel([("username", pymongo.ASCENDING)], unique=True)]


class Clerk(Document):
    """A person who handles an agency's dossiers in the console (decision 0027): an account of
    its own under the agency, apart from the agency's machine client, so the audit trail names
    the person."""

    agency_code: str
    username: str
    password_hash: str
    role: ClerkRole
    # Sealed like a staff member's (app/auth/totp.py), with "clerk:<username>" as the context.
    totp_secret_sealed: str
    totp_last_step: int = 0
    # A disabled clerk signs in no more, and their console session ends at its next request.
    disabled_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "clerks"
        indexes = [IndexModel([("username", pymongo.ASCENDING)], unique=True)]
