"""Issuing: each type's fields are validated, bad input says what to fix and stores nothing,
status is true at read time, sensitive types stay off the lock screen, old documents get signed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.integration.wallet.helpers import LICENCE, issue, issued, present, pushes_for, verify

pytestmark = pytest.mark.usefixtures("worker")


async def test_each_type_validates_its_own_fields_and_nothing_is_half_stored(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence", "citizen_id_card", "passport", "vehicle_registration"])
    en = {**agency.headers, "Accept-Language": "en"}

    def fields_of(answer: httpx.Response) -> dict[str, str]:
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        return {e["field"]: e["message"] for e in answer.json()["errors"]}

    no_classes = await api.post(
        "/api/v1/agency/documents",
        json={"event_id": "v-1", "national_id": citizen.national_id, **LICENCE, "fields": {"colour": "xanh"}},
        headers=en,
    )
    problems = fields_of(no_classes)
    assert "required" in problems["fields.classes"]
    assert "Accepted fields: classes, place_of_issue" in problems["fields.colour"]

    wrong_class = await issue(api, agency, citizen, fields={"classes": ["B2", "Z9"]})
    assert "fields.classes.1" in fields_of(wrong_class)

    not_theirs = await issue(
        api,
        agency,
        citizen,
        document={
            "type": "citizen_id_card",
            "number": "001090999999",
            "valid_from": "2021-06-01",
            "fields": {"sex": "female", "place_of_origin": "Nam Định", "place_of_residence": "Hà Nội"},
        },
    )
    assert "số định danh của chính công dân" in fields_of(not_theirs)["number"]

    bad_plate = await issue(
        api,
        agency,
        citizen,
        document={
            "type": "vehicle_registration",
            "number": "DK-0001",
            "valid_from": "2024-01-01",
            "fields": {"plate_number": "not a plate", "vehicle_kind": "car", "brand": "VinFast", "color": "Trắng"},
        },
    )
    assert "fields.plate_number" in fields_of(bad_plate)

    unknown_type = await api.post(
        "/api/v1/agency/documents",
        json={"event_id": "v-5", "national_id": citizen.national_id, **LICENCE, "type": "fishing_licence"},
        headers=en,
    )
    assert "Known types:" in fields_of(unknown_type)["type"]

    assert (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"] == []

    id_card = await issued(
        api,
        agency,
        citizen,
        document={
            "type": "citizen_id_card",
            "number": citizen.national_id,
            "valid_from": "2021-06-01",
            "valid_until": "2036-06-01",
            "fields": {"sex": "female", "place_of_origin": " Nam Định ", "place_of_residence": "Hà Nội"},
        },
    )
    # Stored as validated: trimmed, with the type's defaults.
    assert id_card["fields"] == {
        "sex": "female",
        "nationality": "Việt Nam",
        "place_of_origin": "Nam Định",
        "place_of_residence": "Hà Nội",
    }


async def test_a_dossier_result_is_validated_like_any_issue(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    from tests.support import submit_residence

    citizen = await make_citizen(devices=0)
    agency = await make_agency(["DL_RENEWAL"])
    code = await submit_residence(api, citizen, "DL_RENEWAL")
    url = f"/api/v1/agency/dossiers/{code}/events"
    for status in ("received", "processing", "approved"):
        moved = await api.post(url, json={"event_id": uuid.uuid4().hex, "status": status}, headers=agency.headers)
        assert moved.status_code == 200, moved.text
    result = {"document": {"type": "driver_licence", "number": "790123456789", "valid_from": "2026-11-22"}}
    refused = await api.post(
        url, json={"event_id": "ready-1", "status": "result_ready", "result": result}, headers=agency.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "result.document.fields.classes"
    dossier = (await api.get(f"/api/v1/me/dossiers/{code}", headers=citizen.headers)).json()
    assert dossier["status"] == "approved"
    assert (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"] == []


async def test_status_is_expired_the_day_after_valid_until_without_any_job(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    from models.wallet import today_in_vietnam

    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    today = today_in_vietnam()
    yesterday, ten_years_ago = today - timedelta(days=1), today - timedelta(days=3652)
    ended = await issued(api, agency, citizen, valid_from=ten_years_ago.isoformat(), valid_until=yesterday.isoformat())
    last_day = await issued(
        api, agency, citizen, number="790000000001", valid_from=ten_years_ago.isoformat(), valid_until=today.isoformat()
    )
    assert ended["status"] == "expired"
    assert last_day["status"] == "valid"
    statuses = {
        d["id"]: d["status"] for d in (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"]
    }
    assert statuses == {ended["id"]: "expired", last_day["id"]: "valid"}
    refused = await api.post(
        f"/api/v1/me/documents/{ended['id']}/presentations", json={"disclose": ["number"]}, headers=citizen.headers
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "document-not-presentable"


async def test_pushes_about_sensitive_types_are_neutral_on_the_lock_screen(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=1, locale="en")
    agency = await make_issuer(["health_record", "criminal_record_certificate"])
    await issued(
        api,
        agency,
        citizen,
        document={
            "type": "health_record",
            "number": "SK-1",
            "valid_from": "2024-01-01",
            "fields": {"vaccinations": [{"vaccine": "HPV", "dose": 1, "date": "2024-01-01"}]},
        },
    )
    await issued(
        api,
        agency,
        citizen,
        document={
            "type": "criminal_record_certificate",
            "number": "LLTP-1",
            "valid_from": "2024-01-01",
            "fields": {"certificate_type": "1", "has_convictions": False},
        },
    )
    messages = await pushes_for(emulator, citizen.device_tokens[0], 2)
    assert len(messages) == 2
    for message in messages:
        text = (message["title"] + message["body"]).lower()
        assert message["body"]
        for telling in ("health", "criminal", "hpv", "sức khỏe", "lý lịch", "lltp", "sk-1"):
            assert telling not in text


async def test_documents_issued_before_signing_get_signed(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    from app.wallet.admin import sign_unsigned_documents
    from models.wallet import WalletDocument

    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    ids = []
    for number in ("790000000010", "790000000011"):
        ids.append((await issued(api, agency, citizen, number=number))["id"])
    # As the walking skeleton stored them: no signature, no holder snapshot.
    await WalletDocument.get_pymongo_collection().update_many(
        {"number": {"$in": ["790000000010", "790000000011"]}, "issuer": agency.code},
        {"$set": {"proof": None, "holder": None, "lineage_id": None}},
    )
    for document_id in ids:
        assert (await api.get(f"/api/v1/me/documents/{document_id}", headers=citizen.headers)).json()["proof"] is None

    # Lazily, when first shown.
    shown = await present(api, citizen, ids[0], ["full_name"])
    assert (await verify(api, shown["token"])).status_code == 200
    assert (await api.get(f"/api/v1/me/documents/{ids[0]}", headers=citizen.headers)).json()["proof"] is not None

    # Or all at once by `cwallet keys sign-unsigned`.
    assert (await sign_unsigned_documents())["signed"] >= 1
    assert (await api.get(f"/api/v1/me/documents/{ids[1]}", headers=citizen.headers)).json()["proof"] is not None


async def test_the_type_registry_is_public(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v1/document-types", headers={"Accept-Language": "en"})
    assert answer.status_code == 200
    types = {t["code"]: t for t in answer.json()["items"]}
    assert set(types) >= {
        "citizen_id_card",
        "driver_licence",
        "health_insurance_card",
        "vehicle_registration",
        "passport",
        "birth_certificate",
        "criminal_record_certificate",
        "health_record",
    }
    licence = types["driver_licence"]
    assert licence["name"] == "Driver's licence"
    assert {"name": "classes", "required": True} in licence["fields"]
    assert "classes" in licence["disclosable"] and "full_name" in licence["disclosable"]
    assert types["health_record"]["sensitive"] is True
