"""The document types a wallet can hold: their names in both languages and their own fields.

Each type is one `DocumentType` in REGISTRY: a pydantic model that validates (and normalises)
its `fields`, plus a few facts about the type. Adding a type is one model and one entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sex = Literal["male", "female"]


class TypeFields(BaseModel):
    """The base of every type's fields: unknown names are refused, not silently kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CitizenIdCardFields(TypeFields):
    sex: Sex
    nationality: Line = "Việt Nam"
    place_of_origin: Line  # quê quán
    place_of_residence: Line  # nơi thường trú
    identifying_features: Line | None = None  # đặc điểm nhận dạng


# Classes of the 2008 Road Traffic Law (still on licences in circulation) and of the 2024
# Road Traffic Order and Safety Law (licences issued from 2025).
LicenceClass = Literal[
    "A1", "A2", "A3", "A4", "B1", "B2", "C", "D", "E", "F", "FB2", "FC", "FD", "FE",
    "A", "B", "C1", "D1", "D2", "BE", "C1E", "CE", "D1E", "D2E", "DE",
]  # fmt: skip


class DriverLicenceFields(TypeFields):
    classes: list[LicenceClass] = Field(min_length=1, max_length=10)
    place_of_issue: Line | None = None

    @field_validator("classes")
    @classmethod
    def _each_class_once(cls, classes: list[str]) -> list[str]:
        if len(set(classes)) != len(classes):
            raise ValueError("each licence class may appear only once")
        return classes


class HealthInsuranceCardFields(TypeFields):
    registered_hospital: Line  # nơi đăng ký khám chữa bệnh ban đầu
    benefit_level: int | None = Field(default=None, ge=1, le=5)  # mức hưởng
    continuous_since: date | None = None  # thời điểm đủ 5 năm liên tục


class VehicleRegistrationFields(TypeFields):
    plate_number: Annotated[str, StringConstraints(pattern=r"^\d{2}[A-Z]{1,2}\d?-?\d{3}\.?\d{2}$")]
    vehicle_kind: Literal["car", "motorcycle", "truck", "bus", "other"]
    brand: Line
    model: Line | None = None
    color: Line
    engine_number: Line | None = None
    chassis_number: Line | None = None
    seats: int | None = Field(default=None, ge=1, le=100)


class PassportFields(TypeFields):
    passport_type: Literal["P", "D", "S"] = "P"  # ordinary, diplomatic, official
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "VNM"
    place_of_issue: Line


class BirthCertificateFields(TypeFields):
    sex: Sex
    place_of_birth: Line
    registration_office: Line
    father_name: Line | None = None
    mother_name: Line | None = None


class CriminalRecordCertificateFields(TypeFields):
    certificate_type: Literal["1", "2"]
    has_convictions: bool
    convictions: list[Line] = Field(default_factory=list, max_length=50)
    purpose: Line | None = None

    @model_validator(mode="after")
    def _convictions_match_the_flag(self) -> CriminalRecordCertificateFields:
        if self.has_convictions != bool(self.convictions):
            raise ValueError("list the convictions exactly when has_convictions is true")
        return self


class Vaccination(TypeFields):
    vaccine: Line
    dose: int = Field(ge=1, le=10)
    date: date
    place: Line | None = None
    lot_number: Line | None = None


class HealthRecordFields(TypeFields):
    vaccinations: list[Vaccination] = Field(min_length=1, max_length=200)
    blood_type: Literal["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"] | None = None


class DeathCertificateFields(TypeFields):
    deceased_full_name: Line
    date_of_death: date
    place_of_death: Line
    registration_office: Line


class MaritalStatusCertificateFields(TypeFields):
    marital_status: Literal["single", "married", "divorced", "widowed"]
    purpose: Line
    registration_office: Line


class SecurityOrderCertificateFields(TypeFields):
    business_name: Line
    business_line: Line
    business_address: Line


class LandUseCertificateFields(TypeFields):
    parcel_number: Line
    map_sheet: Line
    area_m2: float = Field(gt=0, le=10_000_000)
    land_use_purpose: Line
    address: Line


# What a presentation may disclose besides a type's own fields: every top-level field of a
# Document (`fields` as a whole too; each of its keys also as `fields.<key>`), and the holder.
DOCUMENT_CLAIMS = ("id", "type", "number", "issuer", "issued_at", "valid_from", "valid_until", "status", "fields")
HOLDER_CLAIMS = ("full_name", "date_of_birth", "national_id")
BASE_CLAIMS = (*DOCUMENT_CLAIMS, *HOLDER_CLAIMS)


@dataclass(frozen=True)
class DocumentType:
    code: str
    name_vi: str
    name_en: str
    fields: type[TypeFields]
    # Pushes about it never name it on the lock screen (health, criminal record).
    sensitive: bool = False
    # The document number must match this (a full match), when set.
    number_pattern: str | None = None
    # The number is the holder's national ID (the chip-based ID card).
    number_is_national_id: bool = False

    def field_names(self) -> tuple[str, ...]:
        return tuple(self.fields.model_fields)


REGISTRY: dict[str, DocumentType] = {
    t.code: t
    for t in (
        DocumentType(
            "citizen_id_card",
            "Căn cước công dân gắn chíp",
            "Chip-based citizen ID card",
            CitizenIdCardFields,
            number_pattern=r"\d{12}",
            number_is_national_id=True,
        ),
        DocumentType("driver_licence", "Giấy phép lái xe", "Driver's licence", DriverLicenceFields),
        DocumentType("health_insurance_card", "Thẻ bảo hiểm y tế", "Health insurance card", HealthInsuranceCardFields),
        DocumentType("vehicle_registration", "Giấy đăng ký xe", "Vehicle registration", VehicleRegistrationFields),
        DocumentType("passport", "Hộ chiếu", "Passport", PassportFields, number_pattern=r"[A-Z]\d{7,8}"),
        DocumentType("birth_certificate", "Giấy khai sinh", "Birth certificate", BirthCertificateFields),
        DocumentType(
            "criminal_record_certificate",
            "Phiếu lý lịch tư pháp",
            "Criminal record certificate",
            CriminalRecordCertificateFields,
            sensitive=True,
        ),
        DocumentType(
            "health_record", "Sổ sức khỏe điện tử", "Electronic health record", HealthRecordFields, sensitive=True
        ),
        DocumentType("death_certificate", "Trích lục khai tử", "Death certificate", DeathCertificateFields),
        DocumentType(
            "marital_status_certificate",
            "Giấy xác nhận tình trạng hôn nhân",
            "Certificate of marital status",
            MaritalStatusCertificateFields,
        ),
        DocumentType(
            "security_order_certificate",
            "Giấy chứng nhận đủ điều kiện về an ninh, trật tự",
            "Security and order business certificate",
            SecurityOrderCertificateFields,
        ),
        DocumentType(
            "land_use_certificate",
            "Giấy chứng nhận quyền sử dụng đất",
            "Land-use right certificate",
            LandUseCertificateFields,
        ),
    )
}


def get_type(code: str) -> DocumentType | None:
    return REGISTRY.get(code)


def type_names(document_type: str) -> tuple[str, str]:
    """(vi, en) name of a type; an unknown type shows as its code rather than failing."""
    known = REGISTRY.get(document_type)
    return (known.name_vi, known.name_en) if known else (document_type, document_type)


def is_sensitive(document_type: str) -> bool:
    known = REGISTRY.get(document_type)
    return known is not None and known.sensitive


@dataclass(frozen=True)
class FieldError:
    path: str  # e.g. "classes.0", "" for the whole object
    kind: str  # pydantic's error type: "missing", "extra_forbidden", "literal_error", ...
    message: str


def validate_fields(document_type: DocumentType, raw: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The type's fields normalised to JSON values (dates as YYYY-MM-DD), or what is wrong."""
    try:
        parsed = document_type.fields.model_validate(raw)
    except ValidationError as invalid:
        return {}, [
            FieldError(".".join(str(part) for part in error["loc"]), error["type"], error["msg"])
            for error in invalid.errors(include_url=False, include_input=False)
        ]
    return parsed.model_dump(mode="json", exclude_none=True), []


def number_matches(document_type: DocumentType, number: str) -> bool:
    return document_type.number_pattern is None or re.fullmatch(document_type.number_pattern, number) is not None


def _no_clash_with_base_claims() -> None:
    # A type field named like a base claim would make a disclosure ambiguous.
    for document_type in REGISTRY.values():
        clash = set(document_type.field_names()) & set(BASE_CLAIMS)
        assert not clash, f"{document_type.code}: fields {clash} clash with base claims"


_no_clash_with_base_claims()
