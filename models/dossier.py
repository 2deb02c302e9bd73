"""Dossiers: a citizen's application for one public service."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.dossier_status import DossierStatus


class Delivery(BaseModel):
    method: Literal["online", "postal"]
    address: str | None = None


class HistoryEntry(BaseModel):
    status: DossierStatus
    at: datetime
    note: str | None = None
    # The agency event that made this move; None for the submission and citizen moves.
    event_id: str | None = None
    actor: str


class OutboxEntry(BaseModel):
    """A notification owed to the citizen, written in the same atomic update as the change.

    It stays here until the notification document exists, so a crash between the update and
    the notification loses nothing: the sweeper finds the entry and finishes the job.
    """

    key: str
    kind: str
    status: DossierStatus | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Dossier(Document):
    code: str
    citizen_id: PydanticObjectId
    service_code: str
    agency_code: str
    status: DossierStatus = DossierStatus.SUBMITTED
    form: dict[str, Any] = Field(default_factory=dict)
    delivery: Delivery
    submitted_at: datetime = Field(default_factory=utcnow)
    due_at: datetime
    history: list[HistoryEntry] = Field(default_factory=list)
    result_document_id: PydanticObjectId | None = None
    # Every agency event id applied, so a repeated event is recognised in the same atomic
    # filter that applies it.
    event_ids: list[str] = Field(default_factory=list)
    outbox: list[OutboxEntry] = Field(default_factory=list)
    idempotency_key: str | None = None
    request_fingerprint: str | None = None

    class Settings:
        name = "dossiers"
        indexes = [
            IndexModel([("code", pymongo.ASCENDING)], unique=True),
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            IndexModel([("agency_code", pymongo.ASCENDING), ("status", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
            IndexModel([("agency_code", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
            # One dossier per (citizen, Idempotency-Key): a retried submission finds the first.
            IndexModel(
                [("citizen_id", pymongo.ASCENDING), ("idempotency_key", pymongo.ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
            ),
            IndexModel([("outbox.created_at", pymongo.ASCENDING)], sparse=True),
        ]
