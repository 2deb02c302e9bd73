"""The routing rule on its own: who serves a procedure where, from agency registrations."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.catalogue.routing import Server, routing_from
from models.provinces import province_of_address


def agency(
    code: str, at: datetime | None, provinces: list[str], services: list[str] | None = None
) -> dict[str, object]:
    raw: dict[str, object] = {"_id": code, "code": code, "name": code, "service_codes": services or ["S"]}
    raw["provinces"] = provinces
    if at is not None:
        raw["created_at"] = at
    return raw


def test_the_last_registered_agency_wins_each_place_and_provincial_beats_nationwide() -> None:
    agencies = [
        agency("NEWER_ALL", datetime(2026, 5, 1), []),
        agency("DEMO", None, []),  # a demo agency written without created_at: the oldest
        agency("HN_OLD", datetime(2026, 1, 1), ["01"]),
        agency("HN_NEW", datetime(2026, 3, 1), ["01", "79"]),
        agency("OTHER", datetime(2026, 6, 1), [], ["T"]),
    ]
    routing = routing_from("S", agencies)
    assert routing.nationwide == Server("NEWER_ALL", "NEWER_ALL", ())
    assert {p: s.agency_code for p, s in routing.by_province.items()} == {"01": "HN_NEW", "79": "HN_NEW"}
    assert routing.served_by() == [Server("NEWER_ALL", "NEWER_ALL", ()), Server("HN_NEW", "HN_NEW", ("01", "79"))]
    assert routing_from("U", agencies).served_by() == []


@pytest.mark.parametrize(
    ("address", "province"),
    [
        ("12 Lý Thường Kiệt, Phường Cửa Nam, Hà Nội", "01"),
        ("1 Lê Lợi, Phường Bến Thành, TP. Hồ Chí Minh", "79"),
        ("3 Lê Duẩn, Phường Phú Hội, Thành phố Huế", "46"),
        ("5 Trần Phú, Nha Trang, Tỉnh Khánh Hòa.", "56"),
        ("9 Đường Hà Nội, Phường Thuận Hóa, Huế", "46"),  # a street named after a province
        ("5 Đại lộ Bình Dương, Thủ Dầu Một, Bình Dương", "79"),  # merged into Hồ Chí Minh in 2025
        ("2 Lê Lợi, Vũng Tàu, Bà Rịa - Vũng Tàu", "79"),
        ("7 Trần Hưng Đạo, Phường 1, Atlantis", None),
        ("no commas at all", None),
    ],
)
def test_the_province_of_a_postal_address_is_its_last_part(address: str, province: str | None) -> None:
    assert province_of_address(address) == province
