"""Bad input gets a problem+json that says what is wrong and what to do, and nothing is stored."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from models.citizen import Citizen
from models.dossier import Dossier

PROBLEM = "application/problem+json"


def assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"]
    return body


async def test_malformed_json_is_refused_with_a_hint(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/v1/citizens", content=b'{"national_id": "0010', headers={"content-type": "application/json"}
    )
    body = assert_problem(answer, 400, "malformed-json")
    assert "JSON" in body["detail"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "exactly 12 digits"), ("vi", "đúng 12 chữ số"), (None, "đúng 12 chữ số")],
)
async def test_bad_national_id_is_refused_in_the_callers_language(
    api: httpx.AsyncClient, language: str | None, expected: str
) -> None:
    national_id = "12345"
    headers = {"Accept-Language": language} if language else {}
    answer = await api.post(
        "/api/v1/citizens",
        json={
            "national_id": national_id,
            "full_name": "Lê Văn C",
            "date_of_birth": "1990-01-01",
            "phone": "0912000111",
            "password": "a long enough password",
        },
        headers=headers,
    )
    body = assert_problem(answer, 422, "invalid-input")
    assert [e["field"] for e in body["errors"]] == ["national_id"]
    assert expected in body["errors"][0]["message"]
    assert await Citizen.find_one(Citizen.national_id == national_id) is None


async def test_every_wrong_field_is_listed_at_once(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/v1/citizens",
        json={
            "national_id": "abc",
            "full_name": "Lê Văn C",
            "date_of_birth": "1990-01-01",
            "phone": "12345",
            "password": "short",
        },
        headers={"Accept-Language": "en"},
    )
    body = assert_problem(answer, 422, "invalid-input")
    assert sorted(e["field"] for e in body["errors"]) == ["national_id", "password", "phone"]


async def test_wrong_type_in_body_names_the_field(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/v1/citizens",
        json={
            "national_id": 1,
            "full_name": "x",
            "date_of_birth": "1990-01-01",
            "phone": "0912000111",
            "password": "p",
        },
    )
    body = assert_problem(answer, 422, "invalid-input")
    assert "national_id" in body["errors"][0]["field"]


async def test_registering_twice_does_not_reveal_which_field_is_taken(
    api: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    same_id = await api.post(
        "/api/v1/citizens",
        json={
            "national_id": citizen.national_id,
            "full_name": "X",
            "date_of_birth": "1990-01-01",
            "phone": "0987000111",
            "password": "a long enough password",
        },
    )
    same_phone = await api.post(
        "/api/v1/citizens",
        json={
            "national_id": "001090999999",
            "full_name": "X",
            "date_of_birth": "1990-01-01",
            "phone": citizen.phone,
            "password": "a long enough password",
        },
    )
    first = assert_problem(same_id, 409, "already-registered")
    second = assert_problem(same_phone, 409, "already-registered")
    assert first["detail"] == second["detail"]


async def submit(api: httpx.AsyncClient, citizen: Any, body: dict[str, Any]) -> httpx.Response:
    return await api.post(
        "/api/v1/me/dossiers", json=body, headers={**citizen.headers, "Idempotency-Key": uuid.uuid4().hex}
    )


async def test_unknown_service_code_is_refused_and_nothing_is_stored(api: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(devices=0)
    answer = await submit(api, citizen, {"service_code": "NO_SUCH", "form": {}, "delivery": {"method": "online"}})
    body = assert_problem(answer, 422, "unknown-service")
    assert "NO_SUCH" in body["detail"] and "/api/v1/services" in body["detail"]
    assert await Dossier.find({"citizen_id": _oid(citizen.id)}).count() == 0


async def test_form_is_checked_against_the_procedure(api: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(devices=0)
    answer = await submit(
        api,
        citizen,
        {
            "service_code": "CRIMINAL_RECORD",
            "form": {"certificate_type": "1", "copies": "two", "favourite_colour": "blue"},
            "delivery": {"method": "postal"},
        },
    )
    body = assert_problem(answer, 422, "invalid-input")
    fields = sorted(e["field"] for e in body["errors"])
    assert fields == ["delivery.address", "form.copies", "form.favourite_colour", "form.purpose"]
    assert await Dossier.find({"citizen_id": _oid(citizen.id)}).count() == 0


async def test_level_two_service_explains_how_to_get_level_two(api: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(devices=0)
    answer = await api.post(
        "/api/v1/me/dossiers",
        json={
            "service_code": "PASSPORT",
            "form": {"reason": "Du lịch"},
            "delivery": {"method": "postal", "address": "1 Tràng Tiền, Hà Nội"},
        },
        headers={**citizen.headers, "Accept-Language": "en"},
    )
    body = assert_problem(answer, 403, "eid-level-too-low")
    assert "level 2" in body["detail"] and "police" in body["detail"]


async def new_dossier(api: httpx.AsyncClient, citizen: Any) -> str:
    answer = await submit(
        api,
        citizen,
        {
            "service_code": "RESIDENCE_REGISTRATION",
            "form": {"new_address": "9 Hùng Vương, Huế"},
            "delivery": {"method": "online"},
        },
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["code"])


async def post_event(api: httpx.AsyncClient, agency: Any, code: str, **body: Any) -> httpx.Response:
    return await api.post(
        f"/api/v1/agency/dossiers/{code}/events",
        json={"event_id": f"evt-{uuid.uuid4().hex}", **body},
        headers={**agency.headers, "Accept-Language": "en"},
    )


async def test_forbidden_status_move_is_409_with_the_allowed_moves(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_agency(["RESIDENCE_REGISTRATION"])
    code = await new_dossier(api, citizen)
    answer = await post_event(api, agency, code, status="approved")
    body = assert_problem(answer, 409, "status-move-not-allowed")
    assert body["allowed_next"] == ["received", "rejected"]
    assert "received, rejected" in body["detail"]
    dossier = (await api.get(f"/api/v1/me/dossiers/{code}", headers=citizen.headers)).json()
    assert dossier["status"] == "submitted" and len(dossier["history"]) == 1


@pytest.mark.parametrize("status", ["rejected", "supplement_required"])
async def test_rejection_or_supplement_without_a_note_is_refused(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any, status: str
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_agency(["RESIDENCE_REGISTRATION"])
    code = await new_dossier(api, citizen)
    assert (await post_event(api, agency, code, status="received")).status_code == 200
    for note in (None, "   "):
        extra = {"note": note} if note is not None else {}
        answer = await post_event(api, agency, code, status=status, **extra)
        body = assert_problem(answer, 422, "invalid-input")
        assert body["errors"][0]["field"] == "note"
        assert "reason" in body["errors"][0]["message"]
    dossier = (await api.get(f"/api/v1/me/dossiers/{code}", headers=citizen.headers)).json()
    assert dossier["status"] == "received"

    noted = await post_event(api, agency, code, status=status, note="Thiếu bản sao sổ hộ khẩu; hãy bổ sung bản scan.")
    assert noted.status_code == 200
    assert noted.json()["history"][-1]["note"].startswith("Thiếu bản sao")


async def test_unknown_status_lists_the_real_ones(api: httpx.AsyncClient, make_citizen: Any, make_agency: Any) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_agency(["RESIDENCE_REGISTRATION"])
    code = await new_dossier(api, citizen)
    body = assert_problem(await post_event(api, agency, code, status="done"), 422, "invalid-input")
    assert "supplement_required" in body["errors"][0]["message"]


async def test_result_ready_online_needs_the_result_document(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_agency(["BIRTH_REGISTRATION"])
    answer = await submit(
        api,
        citizen,
        {
            "service_code": "BIRTH_REGISTRATION",
            "form": {
                "child_full_name": "Trần An",
                "child_date_of_birth": "2026-11-01",
                "place_of_birth": "Bệnh viện Từ Dũ",
            },
            "delivery": {"method": "online"},
        },
    )
    code = answer.json()["code"]
    for status in ("received", "processing", "approved"):
        assert (await post_event(api, agency, code, status=status)).status_code == 200
    body = assert_problem(await post_event(api, agency, code, status="result_ready"), 422, "invalid-input")
    assert body["errors"][0]["field"] == "result.document"
    assert (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"] == []


def _oid(value: str) -> Any:
    from beanie import PydanticObjectId

    return PydanticObjectId(value)
