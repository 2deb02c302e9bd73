"""The public postal operator: a machine client of its own that carries results to citizens."""

from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow


class PostalOperator(Document):
    code: str
    name: str
    client_id: str
    client_secret_hash: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "postal_operators"
        indexes = [
            IndexModel([("code", pymongo.ASCENDING)], unique=True),
            IndexModel([("client_id", pymongo.ASCENDING)], unique=True),
        ]
