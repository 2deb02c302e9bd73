"""Names of the document types a wallet can hold, in both languages."""

from __future__ import annotations

DOCUMENT_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "citizen_id_card": ("Căn cước công dân gắn chíp", "Chip-based citizen ID card"),
    "driver_licence": ("Giấy phép lái xe", "Driver's licence"),
    "health_insurance_card": ("Thẻ bảo hiểm y tế", "Health insurance card"),
    "vehicle_registration": ("Giấy đăng ký xe", "Vehicle registration"),
    "passport": ("Hộ chiếu", "Passport"),
    "birth_certificate": ("Giấy khai sinh", "Birth certificate"),
    "criminal_record_certificate": ("Phiếu lý lịch tư pháp", "Criminal record certificate"),
    "health_record": ("Sổ sức khỏe điện tử", "Electronic health record"),
}


def type_names(document_type: str) -> tuple[str, str]:
    """(vi, en) name of a type; an unknown type shows as its code rather than failing."""
    return DOCUMENT_TYPE_NAMES.get(document_type, (document_type, document_type))
