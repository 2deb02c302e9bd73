from __future__ import annotations

from typing import Any

import msgspec


class FormFieldOut(msgspec.Struct):
    name: str
    type: str
    required: bool
    label: str
    max_length: int | None = None
    choices: list[str] | None = None
    # Where the wallet can fill it in from (see GET /api/v1/services/{code}/prefill).
    prefill: str | None = None


class AttachmentSpecOut(msgspec.Struct):
    name: str
    label: str
    required: bool
    upload: bool
    wallet_types: list[str]


class StepOut(msgspec.Struct):
    status: str
    text: str
    notify: bool


class ServedByOut(msgspec.Struct):
    """An agency that receives new dossiers of the procedure, and where from."""

    agency_code: str
    name: str
    # Two-digit province codes (01 Hà Nội … 96 Cà Mau; models/provinces.py).
    provinces: list[str]
    # True: it takes every province that has no agency of its own in this list.
    nationwide: bool


class ServiceOut(msgspec.Struct):
    code: str
    name: str
    agency_code: str
    fee_vnd: int
    processing_days: int
    result_document_type: str | None
    required_eid_level: int
    delivery_methods: list[str]
    form_fields: list[FormFieldOut]
    agency_name: str | None = None
    payment_timing: str = "before_processing"
    postage_fee_vnd: int = 0
    attachments: list[AttachmentSpecOut] = []
    steps: list[StepOut] = []
    # actor (agency, citizen, postal) → status → the statuses it may move a dossier to.
    status_table: dict[str, dict[str, list[str]]] = {}
    catalogue_version: str = ""
    # The form field naming the wallet document this procedure renews; its result supersedes it.
    renews_field: str | None = None
    # Who receives new dossiers where; a dossier names its place with `province_code`.
    served_by: list[ServedByOut] = []


class PrefilledAttachment(msgspec.Struct):
    name: str
    document_id: str
    document_type: str


class PrefillOut(msgspec.Struct):
    """What the wallet already knows for this procedure's form; the citizen checks it and submits."""

    service_code: str
    form: dict[str, Any]
    # field name → where the value came from ("profile" or "wallet:<type>")
    sources: dict[str, str]
    attachments: list[PrefilledAttachment]
    missing_required: list[str]
