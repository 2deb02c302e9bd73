"""The type registry: each type takes a real document's fields and refuses what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from models.document_types import REGISTRY, is_sensitive, number_matches, type_names, validate_fields

GOOD: dict[str, dict[str, Any]] = {
    "citizen_id_card": {"sex": "male", "place_of_origin": "Nam Định", "place_of_residence": "12 Lê Lợi, Huế"},
    "driver_licence": {"classes": ["A1", "B2"]},
    "health_insurance_card": {"registered_hospital": "Bệnh viện Bạch Mai", "benefit_level": 4},
    "vehicle_registration": {"plate_number": "29B1-123.45", "vehicle_kind": "motorcycle", "brand": "Honda",
                             "color": "Đỏ"},
    "passport": {"place_of_issue": "Cục Quản lý xuất nhập cảnh"},
    "birth_certificate": {"sex": "female", "place_of_birth": "Bệnh viện Từ Dũ", "registration_office": "UBND P. 5"},
    "criminal_record_certificate": {"certificate_type": "2", "has_convictions": True,
                                    "convictions": ["Bản án 12/2015/HS-ST: 6 tháng tù, đã xoá án tích"]},
    "health_record": {"vaccinations": [{"vaccine": "Sởi", "dose": 1, "date": "2000-01-02"}], "blood_type": "O+"},
    "death_certificate": {"deceased_full_name": "Lê Văn Tư", "date_of_death": "2026-10-01",
                          "place_of_death": "Bệnh viện Chợ Rẫy", "registration_office": "UBND P. Bến Nghé"},
    "marital_status_certificate": {"marital_status": "single", "purpose": "Đăng ký kết hôn",
                                   "registration_office": "UBND P. Tràng Tiền"},
    "security_order_certificate": {"business_name": "Khách sạn Biển Xanh", "business_line": "Kinh doanh lưu trú",
                                   "business_address": "20 Trần Phú, Nha Trang"},
    "land_use_certificate": {"parcel_number": "125", "map_sheet": "18", "area_m2": 120.5,
                             "land_use_purpose": "Đất ở tại đô thị", "address": "Phường Vĩnh Hải, Nha Trang"},
}  # fmt: skip
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "citizen_id_card": ({"sex": "x", "place_of_origin": "A", "place_of_residence": "B"}, "sex"),
    "driver_licence": ({"classes": []}, "classes"),
    "health_insurance_card": ({"registered_hospital": "BV", "benefit_level": 9}, "benefit_level"),
    "vehicle_registration": ({"plate_number": "29A-123.45", "vehicle_kind": "spaceship", "brand": "X",
                              "color": "Y"}, "vehicle_kind"),
    "passport": ({"place_of_issue": "HN", "nationality": "Vietnam"}, "nationality"),
    "birth_certificate": ({"sex": "female", "place_of_birth": "", "registration_office": "UBND"}, "place_of_birth"),
    "criminal_record_certificate": ({"certificate_type": "1", "has_convictions": False, "convictions": ["x"]}, ""),
    "health_record": ({"vaccinations": [{"vaccine": "Sởi", "dose": 1, "date": "02/01/2000"}]}, "vaccinations.0.date"),
    "death_certificate": ({"deceased_full_name": "A", "date_of_death": "yesterday", "place_of_death": "B",
                           "registration_office": "C"}, "date_of_death"),
    "marital_status_certificate": ({"marital_status": "complicated", "purpose": "A", "registration_office": "B"},
                                   "marital_status"),
    "security_order_certificate": ({"business_name": "A", "business_line": "B"}, "business_address"),
    "land_use_certificate": ({"parcel_number": "1", "map_sheet": "2", "area_m2": -5, "land_use_purpose": "C",
                              "address": "D"}, "area_m2"),
}  # fmt: skip


def test_every_type_has_examples_and_names_in_both_languages() -> None:
    assert set(GOOD) == set(BAD) == set(REGISTRY)
    for code in REGISTRY:
        vi, en = type_names(code)
        assert vi != en and vi and en


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_good_fields_pass_and_come_back_normalised(code: str) -> None:
    fields, errors = validate_fields(REGISTRY[code], GOOD[code])
    assert errors == []
    assert set(GOOD[code]) <= set(fields)


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_bad_fields_name_the_field(code: str) -> None:
    raw, path = BAD[code]
    fields, errors = validate_fields(REGISTRY[code], raw)
    assert fields == {}
    assert path in [e.path for e in errors]


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_unknown_fields_are_refused(code: str) -> None:
    _, errors = validate_fields(REGISTRY[code], {**GOOD[code], "remarks": "anything"})
    assert [(e.path, e.kind) for e in errors] == [("remarks", "extra_forbidden")]


def test_licence_classes_appear_once() -> None:
    _, errors = validate_fields(REGISTRY["driver_licence"], {"classes": ["B2", "B2"]})
    assert "only once" in errors[0].message


def test_numbers_and_lock_screen_names() -> None:
    assert number_matches(REGISTRY["citizen_id_card"], "001090123456")
    assert not number_matches(REGISTRY["citizen_id_card"], "00109012345")
    assert number_matches(REGISTRY["passport"], "C1234567")
    assert not number_matches(REGISTRY["passport"], "1234567")
    assert is_sensitive("health_record") and is_sensitive("criminal_record_certificate")
    assert not is_sensitive("driver_licence") and not is_sensitive("something_new")
    assert type_names("something_new") == ("something_new", "something_new")
