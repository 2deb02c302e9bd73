from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from app.wallet.schemas import DocumentIn


class DeliveryIn(msgspec.Struct):
    method: Literal["online", "postal"]
    address: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class DossierIn(msgspec.Struct):
    service_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    delivery: DeliveryIn
    form: dict[str, Any] = {}


class HistoryOut(msgspec.Struct):
    status: str
    at: datetime
    note: str | None = None


class DeliveryOut(msgspec.Struct):
    method: str
    address: str | None = None


class DossierOut(msgspec.Struct):
    code: str
    service_code: str
    status: str
    submitted_at: datetime
    due_at: datetime
    delivery: DeliveryOut
    history: list[HistoryOut]
    form: dict[str, Any]
    result_document_id: str | None = None


class ApplicantOut(msgspec.Struct):
    national_id: str
    full_name: str


class AgencyDossierOut(msgspec.Struct):
    """What the handling agency sees: the dossier and who applied."""

    code: str
    service_code: str
    status: str
    submitted_at: datetime
    due_at: datetime
    delivery: DeliveryOut
    history: list[HistoryOut]
    form: dict[str, Any]
    applicant: ApplicantOut
    result_document_id: str | None = None


class ResultIn(msgspec.Struct):
    document: DocumentIn


class EventIn(msgspec.Struct):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    status: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    note: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    result: ResultIn | None = None
