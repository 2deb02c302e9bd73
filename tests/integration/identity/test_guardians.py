"""A parent manages a child under 14; at 14 the child takes the account over and the parent's
access ends. Every access by the parent is in the child's access log."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
from beanie import PydanticObjectId

from models.audit import AccessRecord
from models.citizen import Citizen
from tests.integration.identity.helpers import bearer, random_id_for, years_ago
from tests.support import FORMS, new_phone, remember_secrets

RESIDENCE = {
    "service_code": "RESIDENCE_REGISTRATION",
    "form": FORMS["RESIDENCE_REGISTRATION"],
    "delivery": {"method": "online"},
}


async def add_child(api: httpx.AsyncClient, parent: Any, born: date) -> dict[str, Any]:
    answer = await api.post(
        "/api/v1/me/children",
        json={"national_id": random_id_for(born), "full_name": "Nguyễn Bé Na", "date_of_birth": born.isoformat()},
        headers=parent.headers,
    )
    assert answer.status_code == 201, answer.text
    child: dict[str, Any] = answer.json()
    return child


async def issue_birth_certificate(api: httpx.AsyncClient, agency: Any, child: dict[str, Any]) -> str:
    answer = await api.post(
        "/api/v1/agency/documents",
        json={
            "event_id": uuid.uuid4().hex,
            "national_id": child["national_id"],
            "type": "birth_certificate",
            "number": f"KS-{uuid.uuid4().hex[:8]}",
            "valid_from": child["date_of_birth"],
            "fields": {"sex": "female", "place_of_birth": "Bệnh viện Từ Dũ", "registration_office": "UBND phường 1"},
        },
        headers=agency.headers,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def guardian_log(child_id: str) -> list[tuple[str, str, str]]:
    records = await AccessRecord.find({"citizen_id": PydanticObjectId(child_id)}).sort("+_id").to_list()
    return [(r.actor_kind, r.actor_id, r.action) for r in records if r.actor_kind == "guardian"]


async def test_a_parent_sees_the_childs_documents_and_applies_for_the_child(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    parent = await make_citizen(devices=0, eid_level=2)
    child = await add_child(api, parent, years_ago(7))
    assert child["eid_level"] == 1
    assert child["can_take_over_from"] == years_ago(7).replace(year=years_ago(7).year + 14).isoformat()
    listed = (await api.get("/api/v1/me/children", headers=parent.headers)).json()["items"]
    assert [c["id"] for c in listed] == [child["id"]]

    registry = await make_agency(["BIRTH_REGISTRATION"])
    document_id = await issue_birth_certificate(api, registry, child)
    base = f"/api/v1/me/children/{child['id']}"
    documents = (await api.get(f"{base}/documents", headers=parent.headers)).json()["items"]
    assert [d["id"] for d in documents] == [document_id]
    one = await api.get(f"{base}/documents/{document_id}", headers=parent.headers)
    assert one.json()["fields"]["place_of_birth"] == "Bệnh viện Từ Dũ"
    # The child's papers are not the parent's.
    assert (await api.get("/api/v1/me/documents", headers=parent.headers)).json()["items"] == []

    key = uuid.uuid4().hex
    submitted = await api.post(f"{base}/dossiers", json=RESIDENCE, headers={**parent.headers, "Idempotency-Key": key})
    assert submitted.status_code == 201, submitted.text
    code = submitted.json()["code"]
    retried = await api.post(f"{base}/dossiers", json=RESIDENCE, headers={**parent.headers, "Idempotency-Key": key})
    assert retried.json()["code"] == code
    assert [d["code"] for d in (await api.get(f"{base}/dossiers", headers=parent.headers)).json()["items"]] == [code]
    assert (await api.get(f"{base}/dossiers/{code}", headers=parent.headers)).json()["status"] == "submitted"
    assert (await api.get("/api/v1/me/dossiers", headers=parent.headers)).json()["items"] == []

    assert await guardian_log(child["id"]) == [
        ("guardian", parent.id, action)
        for action in (
            "child.add",
            "notification.copy",  # the birth certificate's push, copied to the parent
            "document.list",
            "document.read",
            "dossier.submit",
            "notification.copy",  # "submitted"; the retried submission copies nothing
            "dossier.submit",
            "dossier.list",
            "dossier.read",
        )
    ]
    # The receipt's tracking secret: the retry answers with the same one (the first answer may
    # never have arrived); the parent can issue a new one.
    assert (
        submitted.json()["tracking_secret"] and retried.json()["tracking_secret"] == submitted.json()["tracking_secret"]
    )
    issued = await api.post(f"{base}/dossiers/{code}/tracking-secret", headers=parent.headers)
    assert issued.status_code == 201, issued.text
    remember_secrets(submitted.json()["tracking_secret"], issued.json()["tracking_secret"])
    assert (await guardian_log(child["id"]))[-1] == ("guardian", parent.id, "dossier.tracking_secret")


async def test_another_parent_reaches_nothing_of_the_child(api: httpx.AsyncClient, make_citizen: Any) -> None:
    parent, stranger = await make_citizen(devices=0, eid_level=2), await make_citizen(devices=0, eid_level=2)
    child = await add_child(api, parent, years_ago(3))
    for method, suffix in (
        ("GET", "/documents"),
        ("GET", "/dossiers"),
        ("POST", "/dossiers"),
        ("POST", "/claim-code"),
    ):
        answer = await api.request(
            method,
            f"/api/v1/me/children/{child['id']}{suffix}",
            json=RESIDENCE if method == "POST" else None,
            headers={**stranger.headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert answer.status_code == 404, (suffix, answer.text)
        assert child["national_id"] not in answer.text
    assert (await api.get("/api/v1/me/children", headers=stranger.headers)).json()["items"] == []
    # Registering the same child again says only that the number is taken.
    again = await api.post(
        "/api/v1/me/children",
        json={"national_id": child["national_id"], "full_name": "X", "date_of_birth": child["date_of_birth"]},
        headers=stranger.headers,
    )
    assert again.status_code == 409 and child["full_name"] not in again.text
    assert await guardian_log(child["id"]) == [("guardian", parent.id, "child.add")]


async def test_who_may_add_which_child(api: httpx.AsyncClient, make_citizen: Any) -> None:
    level_one = await make_citizen(devices=0)
    born = years_ago(2)
    refused = await api.post(
        "/api/v1/me/children",
        json={"national_id": random_id_for(born), "full_name": "Bé", "date_of_birth": born.isoformat()},
        headers={**level_one.headers, "Accept-Language": "en"},
    )
    assert refused.status_code == 403 and "level 2" in refused.json()["detail"]
    parent = await make_citizen(devices=0, eid_level=2)
    teen = years_ago(15)
    too_old = await api.post(
        "/api/v1/me/children",
        json={"national_id": random_id_for(teen), "full_name": "Anh", "date_of_birth": teen.isoformat()},
        headers={**parent.headers, "Accept-Language": "en"},
    )
    assert too_old.status_code == 422 and too_old.json()["errors"][0]["field"] == "date_of_birth"
    mismatch = await api.post(
        "/api/v1/me/children",
        json={"national_id": random_id_for(years_ago(30)), "full_name": "Bé", "date_of_birth": born.isoformat()},
        headers=parent.headers,
    )
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["field"] == "national_id"
    # A child has no account: their ID number cannot sign in.
    child = await add_child(api, parent, born)
    login = await api.post("/api/v1/auth/token", json={"username": child["national_id"], "password": "x" * 12})
    assert login.status_code == 401


async def test_at_14_the_child_takes_over_and_the_parents_access_ends(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    parent = await make_citizen(devices=0, eid_level=2)
    child = await add_child(api, parent, years_ago(13, days=-300))
    base = f"/api/v1/me/children/{child['id']}"
    early = await api.post(f"{base}/claim-code", headers={**parent.headers, "Accept-Language": "en"})
    assert early.status_code == 409 and child["can_take_over_from"] in early.json()["detail"]

    # Time passes: the child turns 14 (the record's birth date moves back, as the calendar would).
    await Citizen.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(child["id"])}, {"$set": {"date_of_birth": years_ago(14).isoformat()}}
    )
    issued = await api.post(f"{base}/claim-code", headers=parent.headers)
    assert issued.status_code == 201, issued.text
    code = issued.json()["claim_code"]
    phone, password = new_phone(), "my own long passphrase"

    wrong = await api.post(
        "/api/v1/citizens/claim",
        json={"national_id": child["national_id"], "claim_code": "WRONGCODE0", "phone": phone, "password": password},
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad-claim-code"
    weak = await api.post(
        "/api/v1/citizens/claim",
        json={"national_id": child["national_id"], "claim_code": code, "phone": phone, "password": "qwerty123456"},
    )
    assert weak.status_code == 422
    claimed = await api.post(
        "/api/v1/citizens/claim",
        json={"national_id": child["national_id"], "claim_code": code.lower(), "phone": phone, "password": password},
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["id"] == child["id"]
    # The code worked once.
    replay = await api.post(
        "/api/v1/citizens/claim",
        json={"national_id": child["national_id"], "claim_code": code, "phone": new_phone(), "password": password},
    )
    assert replay.status_code == 401

    # The parent's access ended, everywhere.
    assert (await api.get("/api/v1/me/children", headers=parent.headers)).json()["items"] == []
    for suffix in ("/documents", "/dossiers"):
        assert (await api.get(f"{base}{suffix}", headers=parent.headers)).status_code == 404
    assert (await api.post(f"{base}/claim-code", headers=parent.headers)).status_code == 404
    # The young citizen signs in with their own phone and password.
    login = await api.post("/api/v1/auth/token", json={"username": phone, "password": password})
    assert login.status_code == 200
    me = (await api.get("/api/v1/me", headers=bearer(login.json()["access_token"]))).json()
    assert me["national_id"] == child["national_id"] and me["phone"] == "+84" + phone[1:]


async def test_an_identity_agency_can_give_the_takeover_code(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    parent = await make_citizen(devices=0, eid_level=2)
    child = await add_child(api, parent, years_ago(13, days=-360))
    await Citizen.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(child["id"])}, {"$set": {"date_of_birth": years_ago(14, days=-1).isoformat()}}
    )
    plain = await make_agency(["CRIMINAL_RECORD"])
    assert (
        await api.post(
            "/api/v1/agency/identity/claim-codes", json={"national_id": child["national_id"]}, headers=plain.headers
        )
    ).status_code == 403
    police = await make_agency(["TEMPORARY_ABSENCE"], scopes=["verify_identity"])
    issued = await api.post(
        "/api/v1/agency/identity/claim-codes",
        json={"national_id": child["national_id"], "reason": "parent unreachable"},
        headers=police.headers,
    )
    assert issued.status_code == 201, issued.text
    claimed = await api.post(
        "/api/v1/citizens/claim",
        json={
            "national_id": child["national_id"],
            "claim_code": issued.json()["claim_code"],
            "phone": new_phone(),
            "password": "a phrase of my own choosing",
        },
    )
    assert claimed.status_code == 201
    # Once the child has an account, there is nothing left to take over.
    again = await api.post(
        "/api/v1/agency/identity/claim-codes", json={"national_id": child["national_id"]}, headers=police.headers
    )
    assert again.status_code == 409
