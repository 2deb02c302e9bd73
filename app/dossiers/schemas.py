from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import UploadFile

from app.statistics.schemas import ExpectedOut
from app.wallet.schemas import DocumentIn

ObjectIdText = Annotated[str, msgspec.Meta(min_length=24, max_length=24, pattern="^[0-9a-fA-F]{24}$")]


class DeliveryIn(msgspec.Struct):
    method: Literal["online", "postal"]
    address: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class AttachmentIn(msgspec.Struct):
    """A paper for the procedure: an upload (POST /api/v1/me/attachments) or a wallet document."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    upload_id: ObjectIdText | None = None
    document_id: ObjectIdText | None = None


class DossierIn(msgspec.Struct):
    service_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    delivery: DeliveryIn
    form: dict[str, Any] = {}
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=20)] = []
    # Where to file it, for a procedure each province's agency handles (GET /api/v1/services/
    # {code} → served_by): a two-digit province code. Unset: the postal address's province,
    # else the procedure's nationwide agency.
    province_code: Annotated[str, msgspec.Meta(max_length=8)] | None = None


class HistoryOut(msgspec.Struct):
    status: str
    at: datetime
    note: str | None = None
    # What this step means for the citizen, from the procedure (in the reader's language).
    text: str | None = None


class DeliveryOut(msgspec.Struct):
    method: str
    address: str | None = None
    postage_fee_vnd: int = 0


class DeadlineOut(msgspec.Struct):
    state: str
    due_at: datetime
    clock: str
    received_at: datetime | None = None
    waiting_for: list[str] = []
    paused_working_days: int = 0
    # After a missed deadline: the new date the agency committed to in its apology.
    expected_at: datetime | None = None


class PaymentOut(msgspec.Struct):
    reference: str
    state: str
    amount_vnd: int
    fee_vnd: int
    postage_vnd: int
    timing: str
    requested_at: datetime
    paid_at: datetime | None = None
    # Where the citizen pays (the provider's page); only while the payment is pending.
    pay_url: str | None = None


class SupplementAnswerOut(msgspec.Struct):
    upload_id: str | None = None
    document_id: str | None = None
    value: Any = None
    text: str | None = None


class ChecklistItemOut(msgspec.Struct):
    id: str
    kind: str
    reason: str
    action: str
    target: str | None = None
    answered_at: datetime | None = None
    answer: SupplementAnswerOut | None = None


class SupplementOut(msgspec.Struct):
    round: int
    requested_at: datetime
    items: list[ChecklistItemOut]
    completed_at: datetime | None = None


class AttachmentOut(msgspec.Struct):
    name: str
    source: str
    added_at: datetime
    upload_id: str | None = None
    document_id: str | None = None
    content_type: str | None = None
    size: int | None = None
    document_type: str | None = None


class TrackingOut(msgspec.Struct):
    status: str
    at: datetime
    location: str | None = None
    note: str | None = None


class ShipmentOut(msgspec.Struct):
    status: str
    updates: list[TrackingOut]
    tracking_number: str | None = None
    operator: str | None = None


class ApologyOut(msgspec.Struct):
    number: int
    at: datetime
    missed_due_at: datetime
    new_expected_at: datetime
    text: str


class RatingOut(msgspec.Struct):
    score: int
    at: datetime
    comment: str | None = None


class DossierOut(msgspec.Struct, kw_only=True):
    code: str
    service_code: str
    status: str
    submitted_at: datetime
    due_at: datetime
    delivery: DeliveryOut
    history: list[HistoryOut]
    form: dict[str, Any]
    result_document_id: str | None = None
    service_name: str | None = None
    # The procedure's text for the current status: what it means and what happens next.
    step: str | None = None
    deadline: DeadlineOut | None = None
    # When the result should come, from recent history (decision 26); open dossiers only.
    expected: ExpectedOut | None = None
    payment: PaymentOut | None = None
    supplement: SupplementOut | None = None
    attachments: list[AttachmentOut] = []
    shipment: ShipmentOut | None = None
    apologies: list[ApologyOut] = []
    rating: RatingOut | None = None
    # What the citizen can do now: "pay", "answer_supplement", "withdraw", "rate".
    actions: list[str] = []
    # The agency handling it, chosen at submission, and the province the citizen filed it in.
    agency_code: str | None = None
    province_code: str | None = None
    # The receipt's secret for tracking without signing in (POST /api/v1/public/tracking):
    # only in the answer that issued it (the submission, or POST .../tracking-secret), never
    # again; the store keeps only its HMAC (decision 0029).
    tracking_secret: str | None = None
    # When the secret in force was issued; None for a dossier filed before tracking secrets
    # existed (its owner issues one with POST /api/v1/me/dossiers/{code}/tracking-secret).
    tracking_secret_issued_at: datetime | None = None


class ApplicantOut(msgspec.Struct):
    national_id: str
    full_name: str


class AgencyDossierOut(DossierOut, kw_only=True):
    """What the handling agency sees: the dossier and who applied."""

    applicant: ApplicantOut


class ResultIn(msgspec.Struct):
    document: DocumentIn


class ChecklistItemIn(msgspec.Struct):
    """One thing missing from the dossier: what, why, and what the citizen should do."""

    kind: Literal["attachment", "wallet_document", "field", "other"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    action: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    target: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class EventIn(msgspec.Struct):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    status: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    note: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    result: ResultIn | None = None
    # With `supplement_required`: the checklist the citizen answers item by item.
    checklist: Annotated[list[ChecklistItemIn], msgspec.Meta(max_length=20)] | None = None


class SupplementAnswerIn(msgspec.Struct):
    """The citizen's answer to one checklist item: an upload, a wallet document, a corrected
    field value, or (for an item of kind `other`) a short text and/or an upload."""

    item_id: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    upload_id: ObjectIdText | None = None
    document_id: ObjectIdText | None = None
    value: Any = None
    text: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class WithdrawIn(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class RatingIn(msgspec.Struct):
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


@dataclass
class UploadForm:
    """The multipart form of an upload: the file in the field `data`."""

    data: UploadFile


class UploadOut(msgspec.Struct):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class TimelineItemOut(msgspec.Struct):
    at: datetime
    # dossier_status, payment_requested, payment_confirmed, payment_failed, delivery_update,
    # dossier_overdue, document_issued, document_status, notice_sms, notice_letter
    kind: str
    title: str
    dossier_code: str | None = None
    status: str | None = None
    document_id: str | None = None
    detail: str | None = None


# Receipt codes are `HS-YYYYMMDD-XXXXXX`; the demo and older data use other short codes.
TrackingCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern="^[A-Za-z0-9][A-Za-z0-9-]*$")]
TrackingSecretText = Annotated[str, msgspec.Meta(min_length=1, max_length=24, pattern="^[A-Za-z0-9 -]+$")]


class PublicTrackingIn(msgspec.Struct, forbid_unknown_fields=True):
    """The dossier's code and the secret printed on its receipt (case, spaces and dashes do not matter)."""

    code: TrackingCode
    secret: TrackingSecretText


class PublicTrackingOut(msgspec.Struct, kw_only=True):
    """What anyone holding the receipt may see: no name, no ID number, no form, no papers."""

    code: str
    status: str
    # The procedure's text for the status, in the reader's language.
    step: str | None = None
    service_code: str
    service_name: str | None = None
    agency_code: str
    agency_name: str | None = None
    submitted_at: datetime
    received_at: datetime | None = None
    # The legal deadline in force (moved by the days the dossier waited for the citizen).
    due_at: datetime
    # From recent history, open dossiers only (decision 26).
    expected: ExpectedOut | None = None
    # When the status last changed.
    updated_at: datetime


class TrackingSecretOut(msgspec.Struct, kw_only=True):
    code: str
    # Shown once: print it or write it down; a new one replaces it.
    tracking_secret: str
    tracking_secret_issued_at: datetime
