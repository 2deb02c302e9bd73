"""The platform's signing keys: documents and presentations are signed with the active one,
and every key that ever signed stays published so what it signed stays verifiable."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow

KeyState = Literal["active", "retired"]


class SigningKey(Document):
    kid: str
    alg: Literal["EdDSA"] = "EdDSA"
    crv: Literal["Ed25519"] = "Ed25519"
    # The raw 32-byte public key, base64url (a JWK's "x").
    public_key: str
    # The raw private key sealed with AES-256-GCM under a key derived from the server secret
    # (app/wallet/keys.py). Never returned, never logged, left out of repr.
    private_key_sealed: str = Field(repr=False)
    # Which wrapping key sealed it, so a changed secret is recognised instead of failing opaquely.
    wrap_key_id: str
    # `active`: signs (the newest active one). `retired`: verifies only, stays published.
    state: KeyState = "active"
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None

    class Settings:
        name = "signing_keys"
        indexes = [
            IndexModel([("kid", pymongo.ASCENDING)], unique=True),
            IndexModel([("state", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]),
        ]
