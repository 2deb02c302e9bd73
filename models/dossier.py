"""Dossiers: a citizen's application for one public service.

Everything that happens to a dossier lives inside it (status history, the deadline clock,
the supplement checklist, the payment summary, the postal shipment, apologies, the rating),
so every change is one atomic single-document update that can carry its own outbox entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.dossier_status import DossierStatus

ClockState = Literal["not_started", "running", "paused", "stopped"]
PauseReason = Literal["supplement", "payment"]
PaymentState = Literal["pending", "paid", "cancelled", "refund_due"]
ShipmentStatus = Literal["awaiting_pickup", "accepted", "in_transit", "delivered", "returned"]
ChecklistKind = Literal["attachment", "wallet_document", "field", "other"]
# Letters of dossier codes and receipt secrets: no 0/O or 1/I, they are read aloud at
# counters and typed from paper.
READABLE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Delivery(BaseModel):
    method: Literal["online", "postal"]
    address: str | None = None
    postage_fee_vnd: int = 0


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
    # Extra template parameters of kinds other than a status change (amounts, dates, ...).
    params: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)


class Clock(BaseModel):
    """The legal processing time: it runs from receipt in working days and pauses while the
    dossier waits for the citizen (a supplement, a payment due before processing)."""

    state: ClockState = "not_started"
    received_at: datetime | None = None
    paused_at: datetime | None = None
    # What the dossier waits for; the clock runs again when nothing is left.
    waiting_for: list[PauseReason] = Field(default_factory=list)
    paused_working_days: int = 0
    stopped_at: datetime | None = None


class Pause(BaseModel):
    reasons: list[PauseReason]
    start: datetime
    end: datetime
    working_days: int


class AttachmentRef(BaseModel):
    """A paper attached to the dossier: an upload (GridFS) or a document of the wallet."""

    name: str
    source: Literal["upload", "wallet"]
    upload_id: PydanticObjectId | None = None
    document_id: PydanticObjectId | None = None
    content_type: str | None = None
    size: int | None = None
    document_type: str | None = None
    added_at: datetime = Field(default_factory=utcnow)
    # The supplement round that brought it; None for the submission.
    supplement_round: int | None = None


class SupplementAnswer(BaseModel):
    upload_id: PydanticObjectId | None = None
    document_id: PydanticObjectId | None = None
    value: Any = None
    text: str | None = None


class ChecklistItem(BaseModel):
    id: str
    kind: ChecklistKind
    # The attachment name, wallet document type or form field the item is about.
    target: str | None = None
    reason: str
    action: str
    answered_at: datetime | None = None
    answer: SupplementAnswer | None = None


class Supplement(BaseModel):
    round: int
    requested_at: datetime
    event_id: str | None = None
    items: list[ChecklistItem]
    completed_at: datetime | None = None


class PaymentSummary(BaseModel):
    """The dossier's side of its payment request (the ledger is models/payment.py)."""

    reference: str
    state: PaymentState = "pending"
    amount_vnd: int
    fee_vnd: int
    postage_vnd: int = 0
    timing: Literal["before_processing", "before_completion"]
    requested_at: datetime
    paid_at: datetime | None = None


class TrackingUpdate(BaseModel):
    event_id: str
    status: ShipmentStatus
    at: datetime
    location: str | None = None
    note: str | None = None


class Shipment(BaseModel):
    status: ShipmentStatus = "awaiting_pickup"
    created_at: datetime
    operator: str | None = None
    tracking_number: str | None = None
    updates: list[TrackingUpdate] = Field(default_factory=list)


class Apology(BaseModel):
    """The agency's apology for a missed deadline, with the new date it commits to."""

    number: int
    at: datetime
    missed_due_at: datetime
    new_expected_at: datetime


class Rating(BaseModel):
    score: int
    comment: str | None = None
    at: datetime


class Dossier(Document):
    code: str
    citizen_id: PydanticObjectId
    # Whether the citizen had guardians (a child under 14) when the dossier was made. A
    # citizen never gains guardians later (models/citizen.py), so False spares the outbox's
    # read of them at every notice; True (or None, made before this field) reads them, since
    # the child may have taken the account over since (decision 0016, 2026-12-02 ops8).
    had_guardians: bool | None = None
    service_code: str
    # Chosen at submission by the procedure's routing (app/catalogue/routing.py).
    agency_code: str
    # The province the citizen filed it in, when they chose one.
    province_code: str | None = None
    status: DossierStatus = DossierStatus.SUBMITTED
    form: dict[str, Any] = Field(default_factory=dict)
    delivery: Delivery
    submitted_at: datetime = Field(default_factory=utcnow)
    # An estimate until the agency receives the dossier; from then on the legal deadline,
    # moved later by the working days the dossier waited for the citizen.
    due_at: datetime
    clock: Clock = Field(default_factory=Clock)
    pauses: list[Pause] = Field(default_factory=list)
    # When the sweeper next owes the citizen an apology: due_at, then each new expected date.
    late_after: datetime | None = None
    apologies: list[Apology] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    attachments: list[AttachmentRef] = Field(default_factory=list)
    supplement: Supplement | None = None
    payment: PaymentSummary | None = None
    shipment: Shipment | None = None
    rating: Rating | None = None
    result_document_id: PydanticObjectId | None = None
    # Every agency / postal event id applied, so a repeated event is recognised in the same
    # atomic filter that applies it.
    event_ids: list[str] = Field(default_factory=list)
    outbox: list[OutboxEntry] = Field(default_factory=list)
    idempotency_key: str | None = None
    request_fingerprint: str | None = None
    # The receipt's tracking secret, as an HMAC only (app/dossiers/public_tracking.py,
    # decision 29): anyone holding the code and the secret sees the masked status. None for
    # dossiers filed before it existed, until the owner issues one.
    tracking_secret_hash: str | None = None
    tracking_secret_issued_at: datetime | None = None
    # Bumped by every change; each change is conditional on the revision it read, so two
    # changes racing on the same dossier never overwrite each other (the loser re-reads).
    rev: int = 0
    # When the dossier last changed: set by every write (app/dossiers/store.py), so the
    # statistics rollup finds what changed since its last run with one index (decision 26).
    changed_at: datetime | None = None

    class Settings:
        name = "dossiers"
        indexes = [
            IndexModel([("code", pymongo.ASCENDING)], unique=True),
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            # The agency worklist, sorted by deadline, one procedure at a time: with a status
            # filter, with a deadline filter (the clock state), or neither. Each worklist query
            # is the equality prefix and one range on due_at (app/dossiers/worklist.py).
            IndexModel(
                [
                    ("agency_code", pymongo.ASCENDING),
                    ("status", pymongo.ASCENDING),
                    ("service_code", pymongo.ASCENDING),
                    ("due_at", pymongo.ASCENDING),
                    ("_id", pymongo.ASCENDING),
                ],
                name="worklist_status_service_due",
            ),
            IndexModel(
                [
                    ("agency_code", pymongo.ASCENDING),
                    ("clock.state", pymongo.ASCENDING),
                    ("service_code", pymongo.ASCENDING),
                    ("due_at", pymongo.ASCENDING),
                    ("_id", pymongo.ASCENDING),
                ],
                name="worklist_clock_service_due",
            ),
            IndexModel(
                [
                    ("agency_code", pymongo.ASCENDING),
                    ("service_code", pymongo.ASCENDING),
                    ("due_at", pymongo.ASCENDING),
                    ("_id", pymongo.ASCENDING),
                ],
                name="worklist_service_due",
            ),
            # One dossier per (citizen, Idempotency-Key): a retried submission finds the first.
            # Partial on `$gt: ""` (every key is a non-empty string), not `$type`: the embedded
            # store cannot tell that `{idempotency_key: "k"}` implies `$type`, and answered the
            # lookup with a collection scan; both stores prove `$gt` (decision 0016, 2026-12-02).
            # Named: a store that still holds the `$type` one (citizen_id_1_idempotency_key_1)
            # keeps it beside this one until an operator drops it (`cwallet indexes retire`).
            # Query the key only with its citizen: the embedded store (0.7.0b3) answers
            # `{idempotency_key: k}` alone from this index with nothing.
            IndexModel(
                [("citizen_id", pymongo.ASCENDING), ("idempotency_key", pymongo.ASCENDING)],
                name="idempotency",
                unique=True,
                partialFilterExpression={"idempotency_key": {"$gt": ""}},
            ),
            IndexModel([("outbox.created_at", pymongo.ASCENDING)], sparse=True),
            # The overdue sweeper: running clocks whose (new) date has passed.
            IndexModel([("clock.state", pymongo.ASCENDING), ("late_after", pymongo.ASCENDING)], name="overdue"),
            # The payment callback finds the dossier by its payment reference.
            IndexModel([("payment.reference", pymongo.ASCENDING)], sparse=True),
            # The postal operator's list of parcels to carry. Partial: only postal dossiers have a
            # shipment, so an online one's writes cost no entry here (the embedded store rewrites
            # every index entry of a document at each update). `$gt: ""`, which both stores
            # prove from the list's `{shipment.status: s}` (see `idempotency`). Named anew: a
            # store that still holds the full `shipments` index keeps it until an operator
            # drops it (`cwallet indexes retire`; decision 0016, "what a dossier write costs").
            IndexModel(
                [("shipment.status", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)],
                name="parcels",
                partialFilterExpression={"shipment.status": {"$gt": ""}},
            ),
            # What the statistics rollup reads to find dossiers changed since its last run
            # (decision 26). Not sparse: every dossier written since has it.
            IndexModel([("changed_at", pymongo.ASCENDING)], name="changed_at"),
        ]
