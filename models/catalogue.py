"""The public-service catalogue: procedures a citizen can apply for.

The catalogue is data (``models/data/services.json``, versioned), loaded into the store by
``cwallet seed-demo`` and ``cwallet catalogue load``; this module holds its shape and the
reader. Each procedure carries the text the citizen sees at every status and whether a move
to that status is pushed to the phone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pymongo
from beanie import Document
from pydantic import BaseModel, Field, model_validator
from pymongo import IndexModel

from models.dossier_status import DEFAULT_TABLE, Actor, DossierStatus, StatusTable, table_problems
from models.escalation import CriticalRule, default_critical

CATALOGUE_FILE = Path(__file__).parent / "data" / "services.json"
# The shape of the file this code reads; a file of another format is refused before loading.
CATALOGUE_FORMAT = 2

FieldType = Literal["string", "date", "integer", "boolean"]
DeliveryMethod = Literal["online", "postal"]
# When the fee must be paid: before the agency starts processing, or before it closes the dossier.
PaymentTiming = Literal["before_processing", "before_completion"]


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
    # The only values accepted, when the procedure has a fixed list (e.g. licence classes).
    choices: list[str] | None = None
    # Where the wallet already knows the value: "profile.full_name", "profile.date_of_birth",
    # "wallet:driver_licence.number", "wallet:driver_licence.fields.classes", ...
    prefill: str | None = None


class AttachmentSpec(BaseModel):
    """A paper the procedure needs: uploaded (PDF/JPEG/PNG) or referenced from the wallet."""

    name: str
    label: LocalizedText
    required: bool = True
    # Wallet document types that stand in for this paper; empty: upload only.
    wallet_types: list[str] = Field(default_factory=list)
    upload: bool = True


class Step(BaseModel):
    """What the citizen reads when the dossier reaches a status, and whether it is pushed."""

    text: LocalizedText
    notify: bool = True


def _online_only() -> list[DeliveryMethod]:
    return ["online"]


# A status table as data: actor → from → allowed next (see models/dossier_status.py).
TableData = dict[Actor, dict[DossierStatus, list[DossierStatus]]]


def table_data(table: StatusTable) -> TableData:
    return {actor: {s: sorted(t) for s, t in moves.items()} for actor, moves in table.items()}


def as_table(data: TableData) -> StatusTable:
    return {actor: {s: frozenset(t) for s, t in moves.items()} for actor, moves in data.items()}


def _default_table() -> TableData:
    return table_data(DEFAULT_TABLE)


class ServiceData(BaseModel):
    """A procedure's content; `Service` stores it. Kept apart so the file can be checked without a store."""

    code: str
    name: LocalizedText
    agency_code: str
    agency_name: LocalizedText | None = None
    # Other words citizens search by ("bằng lái" for a driver's licence), in either language.
    keywords: list[str] = Field(default_factory=list)
    fee_vnd: int = 0
    payment_timing: PaymentTiming = "before_processing"
    # Postage for the result sent by public post, paid with the fee.
    postage_fee_vnd: int = 0
    processing_days: int
    result_document_type: str | None = None
    # The form field that holds the number of the wallet document this procedure renews (e.g.
    # DL_RENEWAL's `current_licence_number`): its result supersedes that document.
    renews_field: str | None = None
    required_eid_level: int = 1
    form_fields: list[FormField] = Field(default_factory=list)
    attachments: list[AttachmentSpec] = Field(default_factory=list)
    delivery_methods: list[DeliveryMethod] = Field(default_factory=_online_only)
    steps: dict[str, Step] = Field(default_factory=dict)
    # Who may move a dossier of this procedure from which status to which; a procedure stored
    # without one follows the contract's table.
    status_table: TableData = Field(default_factory=_default_table)
    # Notices that must not be missed, and when an unread one goes by SMS, then by letter.
    critical_notices: dict[str, CriticalRule] = Field(default_factory=default_critical)
    catalogue_version: str = ""
    # A procedure dropped from the catalogue file stays (its dossiers refer to it) but is closed.
    active: bool = True

    def step(self, status: DossierStatus | str) -> Step | None:
        return self.steps.get(str(status))

    def notifies(self, status: DossierStatus | str) -> bool:
        step = self.step(status)
        return True if step is None else step.notify

    def table(self) -> StatusTable:
        return as_table(self.status_table)

    def statuses(self) -> list[DossierStatus]:
        """The statuses a dossier of this procedure can be in, in the enum's order."""
        seen = {DossierStatus.SUBMITTED}
        for moves in self.status_table.values():
            for source, targets in moves.items():
                seen |= {source, *targets}
        return [s for s in DossierStatus if s in seen]

    def fee_for(self, delivery_method: str) -> int:
        """What the citizen pays in total: the fee, plus postage when the result comes by post."""
        return self.fee_vnd + (self.postage_fee_vnd if delivery_method == "postal" else 0)


class Service(Document, ServiceData):
    class Settings:
        name = "services"
        indexes = [IndexModel([("code", pymongo.ASCENDING)], unique=True)]


class StepOverride(BaseModel):
    text: LocalizedText | None = None
    notify: bool | None = None


class ServiceEntry(BaseModel):
    """One procedure as written in the file (steps only where they differ from the defaults)."""

    model_config = {"extra": "forbid"}

    code: str
    name: LocalizedText
    keywords: list[str] = Field(default_factory=list)
    agency_code: str
    fee_vnd: int = Field(ge=0)
    payment_timing: PaymentTiming = "before_processing"
    postage_fee_vnd: int | None = Field(default=None, ge=0)
    processing_days: int = Field(ge=1)
    result_document_type: str | None = None
    renews_field: str | None = None
    required_eid_level: int = Field(default=1, ge=1, le=2)
    form_fields: list[FormField] = Field(default_factory=list)
    attachments: list[AttachmentSpec] = Field(default_factory=list)
    delivery_methods: list[DeliveryMethod]
    steps: dict[DossierStatus, StepOverride] = Field(default_factory=dict)
    # The name of one of the file's `status_tables`; none: the contract's table.
    status_table: str | None = None
    # Replaces the default critical notices (models/escalation.py) for this procedure.
    critical_notices: dict[str, CriticalRule] | None = None

    @model_validator(mode="after")
    def _names_are_unique(self) -> ServiceEntry:
        names = [f.name for f in self.form_fields] + [a.name for a in self.attachments]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.code}: form field and attachment names must be unique")
        if not self.delivery_methods:
            raise ValueError(f"{self.code}: at least one delivery method")
        if self.renews_field is not None and (
            self.result_document_type is None or self.renews_field not in {f.name for f in self.form_fields}
        ):
            raise ValueError(f"{self.code}: renews_field must name a form field of a procedure with a result type")
        return self


class CatalogueFile(BaseModel):
    model_config = {"extra": "forbid"}

    format: int
    version: str
    about: str = ""
    default_postage_fee_vnd: int = Field(ge=0)
    agencies: dict[str, LocalizedText]
    default_steps: dict[DossierStatus, Step]
    # Status tables of procedures whose steps differ from the contract's, by name.
    status_tables: dict[str, TableData] = Field(default_factory=dict)
    services: list[ServiceEntry]

    @model_validator(mode="after")
    def _consistent(self) -> CatalogueFile:
        if self.format != CATALOGUE_FORMAT:
            raise ValueError(f"catalogue format {self.format}; this code reads format {CATALOGUE_FORMAT}")
        missing = set(DossierStatus) - set(self.default_steps)
        if missing:
            raise ValueError(f"default_steps lacks {sorted(missing)}")
        codes = [s.code for s in self.services]
        if len(codes) != len(set(codes)):
            raise ValueError("service codes must be unique")
        unknown = sorted({s.agency_code for s in self.services} - set(self.agencies))
        if unknown:
            raise ValueError(f"agencies without a name: {unknown}")
        for name, table in self.status_tables.items():
            problems = table_problems(as_table(table))
            if problems:
                raise ValueError(f"status table '{name}': {'; '.join(problems)}")
        unknown_tables = sorted({s.status_table for s in self.services if s.status_table} - set(self.status_tables))
        if unknown_tables:
            raise ValueError(f"unknown status tables: {unknown_tables}")
        return self


def _merged_steps(defaults: dict[DossierStatus, Step], overrides: dict[DossierStatus, StepOverride]) -> dict[str, Step]:
    steps: dict[str, Step] = {}
    for status, default in defaults.items():
        override = overrides.get(status)
        steps[status.value] = Step(
            text=override.text if override and override.text else default.text,
            notify=override.notify if override and override.notify is not None else default.notify,
        )
    return steps


def parse_catalogue(raw: object) -> tuple[str, list[ServiceData]]:
    """Validate a catalogue (the file's JSON) and build its procedures; returns (version, services)."""
    catalogue = CatalogueFile.model_validate(raw)
    services = [
        ServiceData.model_validate(
            dict(
                code=entry.code,
                name=entry.name,
                keywords=entry.keywords,
                agency_code=entry.agency_code,
                agency_name=catalogue.agencies[entry.agency_code],
                fee_vnd=entry.fee_vnd,
                payment_timing=entry.payment_timing,
                postage_fee_vnd=(
                    entry.postage_fee_vnd if entry.postage_fee_vnd is not None else catalogue.default_postage_fee_vnd
                )
                if "postal" in entry.delivery_methods
                else 0,
                processing_days=entry.processing_days,
                result_document_type=entry.result_document_type,
                renews_field=entry.renews_field,
                required_eid_level=entry.required_eid_level,
                form_fields=entry.form_fields,
                attachments=entry.attachments,
                delivery_methods=entry.delivery_methods,
                steps=_merged_steps(catalogue.default_steps, entry.steps),
                status_table=catalogue.status_tables[entry.status_table] if entry.status_table else _default_table(),
                critical_notices=entry.critical_notices if entry.critical_notices is not None else default_critical(),
                catalogue_version=catalogue.version,
            )
        )
        for entry in catalogue.services
    ]
    return catalogue.version, services


def read_catalogue_file(path: Path = CATALOGUE_FILE) -> tuple[str, list[ServiceData]]:
    """Parse and validate the catalogue file; a bad file fails loudly before anything is stored."""
    return parse_catalogue(json.loads(path.read_text(encoding="utf-8")))


def read_catalogue(path: Path = CATALOGUE_FILE) -> list[ServiceData]:
    return read_catalogue_file(path)[1]
