"""Official documents held in a citizen's wallet, and the rules of their status."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.dossier import OutboxEntry

StoredStatus = Literal["valid", "revoked", "suspended", "superseded"]
ShownStatus = Literal["valid", "expired", "revoked", "suspended", "superseded"]

# The moves an agency may make with a status event, as a table. `superseded` is reached only
# by a renewal, and `revoked` and `superseded` are final.
STATUS_MOVES: dict[StoredStatus, tuple[StoredStatus, ...]] = {
    "valid": ("suspended", "revoked"),
    "suspended": ("valid", "revoked"),
    "revoked": (),
    "superseded": (),
}
# Vietnam keeps one offset all year: a document is valid through its last day there.
VIETNAM = timezone(timedelta(hours=7), "ICT")


def today_in_vietnam(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(VIETNAM).date()


def shown_status(status: StoredStatus, valid_until: str | None, today: date) -> ShownStatus:
    """The status a reader sees: a valid document past its last day is `expired`."""
    if status != "valid":
        return status
    if valid_until is not None and valid_until < today.isoformat():
        return "expired"
    return "valid"


class Holder(BaseModel):
    """Who the document belongs to, as it was when issued: part of what is signed."""

    national_id: str
    full_name: str
    date_of_birth: str


class DocumentProof(BaseModel):
    """The platform's signature over the document's canonical form (app/wallet/signing.py)."""

    kid: str
    alg: Literal["EdDSA"] = "EdDSA"
    signature: str  # base64url, no padding
    signed_at: datetime = Field(default_factory=utcnow)


class StatusEvent(BaseModel):
    event_id: str
    status: StoredStatus
    reason: str | None = None
    actor: str
    at: datetime = Field(default_factory=utcnow)
    # For `superseded`: the version that replaced this one.
    superseded_by: PydanticObjectId | None = None


class WalletDocument(Document):
    citizen_id: PydanticObjectId
    type: str
    number: str
    issuer: str
    issued_at: datetime = Field(default_factory=utcnow)
    valid_from: str
    valid_until: str | None = None
    # Only what an agency decided is stored; `expired` is derived at read time (shown_status).
    status: StoredStatus = "valid"
    fields: dict[str, Any] = Field(default_factory=dict)
    # (issuer, issue_event_id) is unique: an agency retrying an issue gets the first document.
    issue_event_id: str
    dossier_code: str | None = None
    outbox: list[OutboxEntry] = Field(default_factory=list)

    holder: Holder | None = None
    # None only for documents issued before signing existed; signed on first use or by
    # `cwallet keys sign-unsigned`.
    proof: DocumentProof | None = None
    # Renewals: every version of one document shares `lineage_id` (the first version's id).
    version: int = 1
    lineage_id: PydanticObjectId | None = None
    supersedes: PydanticObjectId | None = None
    superseded_by: PydanticObjectId | None = None
    # A new version not yet linked from the one it replaces: hidden until it is (lifecycle.py).
    renewal_pending: bool = False
    # The last status event's reason, shown to the citizen; every event is kept in `history`.
    status_reason: str | None = None
    status_changed_at: datetime | None = None
    history: list[StatusEvent] = Field(default_factory=list)
    # Status event ids applied, so a repeat is recognised in the same atomic filter.
    event_ids: list[str] = Field(default_factory=list)
    # Expiry reminders already owed (30, 7 days ahead): one per document and threshold.
    reminders_sent: list[int] = Field(default_factory=list)

    def shown_status(self, today: date) -> ShownStatus:
        return shown_status(self.status, self.valid_until, today)

    @property
    def lineage(self) -> PydanticObjectId | None:
        return self.lineage_id or self.id

    class Settings:
        name = "documents"
        indexes = [
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            IndexModel([("issuer", pymongo.ASCENDING), ("issue_event_id", pymongo.ASCENDING)], unique=True),
            IndexModel([("outbox.created_at", pymongo.ASCENDING)], sparse=True),
            # Expiry reminders scan the valid documents that end within the next 30 days.
            IndexModel([("status", pymongo.ASCENDING), ("valid_until", pymongo.ASCENDING)]),
            IndexModel([("lineage_id", pymongo.ASCENDING), ("version", pymongo.DESCENDING)]),
            # Which documents a key signed (key listing) and which are not signed yet.
            IndexModel([("proof.kid", pymongo.ASCENDING)]),
            IndexModel([("renewal_pending", pymongo.ASCENDING)], partialFilterExpression={"renewal_pending": True}),
        ]
