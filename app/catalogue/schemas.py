from __future__ import annotations

import msgspec


class FormFieldOut(msgspec.Struct):
    name: str
    type: str
    required: bool
    label: str
    max_length: int | None = None


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
