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


class Agency(Document):
    code: str
    name: str
    client_id: str
    client_secret_hash: str
    # The procedures whose dossiers this agency handles; it sees nothing else.
    service_codes: list[str] = Field(default_factory=list)
    # Document types it may issue into wallets.
    document_types: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "agencies"
        indexes = [
            IndexModel([("code", pymongo.ASCENDING)], unique=True),
            IndexModel([("client_id", pymongo.ASCENDING)], unique=True),
        ]


class Staff(Document):
    username: str
    password_hash: str
    role: StaffRole
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "staff"
        indexes = [IndexModel([("username", pymongo.ASCENDING)], unique=True)]
