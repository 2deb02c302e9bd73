"""The public-service catalogue: procedures a citizen can apply for.

The catalogue is data (``models/data/services.json``), loaded into the store by
``cwallet seed-demo``; this module holds its shape and the loader.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pymongo
from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel

CATALOGUE_FILE = Path(__file__).parent / "data" / "services.json"

FieldType = Literal["string", "date", "integer", "boolean"]
DeliveryMethod = Literal["online", "postal"]


class LocalizedText(BaseModel):
    vi: str
    en: str

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.vi


class FormField(BaseModel):
    name: str
    type: FieldType = "string"
    required: bool = True
    label: LocalizedText
    max_length: int | None = None


def _online_only() -> list[DeliveryMethod]:
    return ["online"]


class Service(Document):
    code: str
    name: LocalizedText
    agency_code: str
    fee_vnd: int = 0
    processing_days: int
    result_document_type: str | None = None
    required_eid_level: int = 1
    form_fields: list[FormField] = Field(default_factory=list)
    delivery_methods: list[DeliveryMethod] = Field(default_factory=_online_only)
    catalogue_version: str = ""

    class Settings:
        name = "services"
        indexes = [IndexModel([("code", pymongo.ASCENDING)], unique=True)]


class CatalogueFile(BaseModel):
    version: str
    services: list[dict[str, object]]


def read_catalogue(path: Path = CATALOGUE_FILE) -> list[Service]:
    """Parse and validate the catalogue file; a bad file fails loudly before anything is stored."""
    raw = CatalogueFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    return [Service.model_validate({**entry, "catalogue_version": raw.version}) for entry in raw.services]
