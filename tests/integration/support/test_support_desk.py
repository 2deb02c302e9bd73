"""The support desk helps without becoming a back door: masked lookups with a reason that the
citizen is told about, and full access only under the citizen's one-time consent code."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from models.common import utcnow
from models.support import AssistedSession, ConsentCode
from tests.support import FORMS

DEADLINE_SECONDS = 30.0


async def issue_licence(api: httpx.AsyncClient, agency: Any, citizen: Any, number: str = "790123456789") -> None:
    answer = await api.post(
        "/api/v1/agency/documents",
        json={"event_id": uuid.uuid4().hex, "national_id": citizen.national_id, "type": "driver_licence",
              "number": number, "valid_from": "2026-01-01", "valid_until": "2036-01-01", "fields": {"classes": ["B2"]}},
        headers=agency.headers,
    )  # fmt: skip
    assert answer.status_code == 201, answer.text


async def test_lookup_needs_a_reason(api: httpx.AsyncClient, make_staff: Any, make_citizen: Any) -> None:
    staff, citizen = await make_staff(), await make_citizen(devices=0)
    missing = await api.post(
        "/api/v1/support/lookups", json={"national_id": citizen.national_id}, headers=staff.headers
    )
    blank = await api.post(
        "/api/v1/support/lookups", json={"national_id": citizen.national_id, "reason": "  "}, headers=staff.headers
    )
    for answer in (missing, blank):
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "reason"
    log = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    assert log == []


@pytest.mark.usefixtures("worker")
async def test_lookup_is_masked_and_the_citizen_is_told_who_where_and_why(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_staff: Any, make_citizen: Any, make_agency: Any
) -> None:
    staff = await make_staff(office="Bưu điện Trung tâm 3, Hà Nội")
    citizen = await make_citizen(devices=1, locale="en")
    agency = await make_agency(["DL_RENEWAL"])
    await issue_licence(api, agency, citizen)
    answer = await api.post(
        "/api/v1/support/lookups",
        json={"national_id": citizen.national_id, "reason": "Helping with a licence renewal"},
        headers=staff.headers,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["citizen"]["national_id"] == "*" * 9 + citizen.national_id[-3:]
    assert body["citizen"]["phone"].endswith(citizen.phone[-3:]) and citizen.phone[1:-3] not in body["citizen"]["phone"]
    assert body["citizen"]["full_name"] == "T*** T*** B***"
    assert body["documents"][0]["number"] == "*" * 9 + "789"
    assert citizen.national_id not in answer.text and "790123456789" not in answer.text

    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    pushes: list[dict[str, Any]] = []
    while loop.time() < deadline:
        messages = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()
        pushes = [m for m in messages["messages"] if m["data"].get("type") == "support_lookup"]
        if pushes:
            break
        await asyncio.sleep(0.1)
    assert len(pushes) == 1
    assert staff.username in pushes[0]["body"]
    assert "Bưu điện Trung tâm 3" in pushes[0]["body"] and "licence renewal" in pushes[0]["body"]

    log = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    lookups = [e for e in log if e["action"] == "support.lookup"]
    assert len(lookups) == 1
    assert lookups[0]["actor"] == staff.username and lookups[0]["reason"] == "Helping with a licence renewal"
    assert lookups[0]["client"] == "Bưu điện Trung tâm 3, Hà Nội"


async def test_lookups_are_rate_limited_per_staff_member(
    api: httpx.AsyncClient, make_staff: Any, make_citizen: Any
) -> None:
    from app.config import get_settings

    busy, other = await make_staff(), await make_staff()
    citizen = await make_citizen(devices=0)
    body = {"national_id": citizen.national_id, "reason": "Quầy một cửa"}
    allowed = get_settings().support_lookups_per_minute
    for _ in range(allowed):
        assert (await api.post("/api/v1/support/lookups", json=body, headers=busy.headers)).status_code == 201
    throttled = await api.post("/api/v1/support/lookups", json=body, headers=busy.headers)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.headers["content-type"].startswith("application/problem+json")
    # Another staff member at the same address is not held back.
    assert (await api.post("/api/v1/support/lookups", json=body, headers=other.headers)).status_code == 201


async def open_session(api: httpx.AsyncClient, staff: Any, citizen: Any, code: str) -> httpx.Response:
    return await api.post(
        "/api/v1/support/sessions",
        json={"national_id": citizen.national_id, "code": code, "reason": "Quầy hỗ trợ dịch vụ công"},
        headers=staff.headers,
    )


async def consent_code(api: httpx.AsyncClient, citizen: Any, scopes: list[str]) -> str:
    made = await api.post("/api/v1/me/consent-codes", json={"scopes": scopes}, headers=citizen.headers)
    assert made.status_code == 201, made.text
    code: str = made.json()["code"]
    assert len(code) == 6 and code.isdigit()
    return code


async def test_consent_code_works_once_for_its_citizen_and_not_after_it_expires(
    api: httpx.AsyncClient, make_staff: Any, make_citizen: Any
) -> None:
    staff = await make_staff()
    citizen, stranger = await make_citizen(devices=0), await make_citizen(devices=0)
    code = await consent_code(api, citizen, ["view_wallet"])

    someone_elses = await open_session(api, staff, stranger, code)
    assert someone_elses.status_code == 403 and someone_elses.json()["code"] == "consent-code-refused"
    first = await open_session(api, staff, citizen, code)
    assert first.status_code == 201, first.text
    second = await open_session(api, staff, citizen, code)
    assert second.status_code == 403 and second.json() == someone_elses.json()

    stale = await consent_code(api, citizen, ["view_wallet"])
    await ConsentCode.get_pymongo_collection().update_many(
        {"citizen_id": PydanticObjectId(citizen.id), "used_at": None},
        {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}},
    )
    assert (await open_session(api, staff, citizen, stale)).status_code == 403


async def test_guessing_codes_is_bounded(api: httpx.AsyncClient, make_staff: Any, make_citizen: Any) -> None:
    staff, citizen = await make_staff(), await make_citizen(devices=0)
    code = await consent_code(api, citizen, ["view_wallet"])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert (await open_session(api, staff, citizen, wrong)).status_code == 403
    # After five wrong tries even the right code no longer opens a session.
    assert (await open_session(api, staff, citizen, code)).status_code == 403


@pytest.mark.usefixtures("worker")
async def test_assisted_session_within_its_scopes_and_time(
    api: httpx.AsyncClient, make_staff: Any, make_citizen: Any, make_agency: Any
) -> None:
    staff = await make_staff()
    citizen = await make_citizen(devices=1)
    agency = await make_agency(["DL_RENEWAL"])
    await issue_licence(api, agency, citizen)
    view_only = (await open_session(api, staff, citizen, await consent_code(api, citizen, ["view_wallet"]))).json()
    wallet = await api.get(f"/api/v1/support/sessions/{view_only['id']}/documents", headers=staff.headers)
    assert wallet.status_code == 200
    assert wallet.json()["items"][0]["number"] == "790123456789"
    refused = await api.post(
        f"/api/v1/support/sessions/{view_only['id']}/dossiers",
        json={"service_code": "RESIDENCE_REGISTRATION", "form": FORMS["RESIDENCE_REGISTRATION"],
              "delivery": {"method": "online"}},
        headers=staff.headers,
    )  # fmt: skip
    assert refused.status_code == 403 and refused.json()["code"] == "consent-scope-missing"

    submit = (await open_session(api, staff, citizen, await consent_code(api, citizen, ["submit_dossier"]))).json()
    made = await api.post(
        f"/api/v1/support/sessions/{submit['id']}/dossiers",
        json={"service_code": "RESIDENCE_REGISTRATION", "form": FORMS["RESIDENCE_REGISTRATION"],
              "delivery": {"method": "online"}},
        headers={**staff.headers, "Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    mine = (await api.get("/api/v1/me/dossiers", headers=citizen.headers)).json()["items"]
    assert made.json()["code"] in [d["code"] for d in mine]
    log = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    assisted = [e for e in log if e["action"] == "dossier.submit.assisted"]
    assert len(assisted) == 1
    assert assisted[0]["target"] == made.json()["code"] and assisted[0]["actor"] == staff.username
    wallet_reads = [e for e in log if e["action"] == "wallet.read"]
    assert len(wallet_reads) == 1 and wallet_reads[0]["actor"] == staff.username

    # Past its end the session answers 401, and so does a session ended by hand.
    await AssistedSession.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(view_only["id"])}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
    )
    late = await api.get(f"/api/v1/support/sessions/{view_only['id']}/documents", headers=staff.headers)
    assert late.status_code == 401
    assert (await api.delete(f"/api/v1/support/sessions/{submit['id']}", headers=staff.headers)).status_code == 204
    ended = await api.get(f"/api/v1/support/sessions/{submit['id']}/documents", headers=staff.headers)
    assert ended.status_code in (401, 403)


async def test_another_staff_member_cannot_use_my_session(
    api: httpx.AsyncClient, make_staff: Any, make_citizen: Any
) -> None:
    mine, theirs = await make_staff(), await make_staff()
    citizen = await make_citizen(devices=0)
    session = (await open_session(api, mine, citizen, await consent_code(api, citizen, ["view_wallet"]))).json()
    answer = await api.get(f"/api/v1/support/sessions/{session['id']}/documents", headers=theirs.headers)
    assert answer.status_code == 404


async def test_citizens_and_agencies_cannot_use_the_support_desk(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_agency(["CRIMINAL_RECORD"])
    body = {"national_id": citizen.national_id, "reason": "curious"}
    for headers in (citizen.headers, agency.headers):
        assert (await api.post("/api/v1/support/lookups", json=body, headers=headers)).status_code == 403
