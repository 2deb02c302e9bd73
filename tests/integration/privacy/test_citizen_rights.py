"""The citizen's rights: consent decisions that take effect, a full export, closing the account."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.support import submit_residence


async def test_export_holds_everything_of_the_citizen_and_nothing_of_anyone_else(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen, neighbour = await make_citizen(devices=1), await make_citizen(devices=1)
    agency = await make_agency(["RESIDENCE_REGISTRATION", "DL_RENEWAL"])
    mine = [await submit_residence(api, citizen), await submit_residence(api, citizen)]
    theirs = await submit_residence(api, neighbour)
    for who, number in ((citizen, "MINE-0001"), (neighbour, "THEIRS-0001")):
        issued = await api.post(
            "/api/v1/agency/documents",
            json={"event_id": uuid.uuid4().hex, "national_id": who.national_id, "type": "driver_licence",
                  "number": number, "valid_from": "2026-01-01", "fields": {"classes": ["B2"]}},
            headers=agency.headers,
        )  # fmt: skip
        assert issued.status_code == 201
    await api.get("/api/v1/agency/dossiers", headers=agency.headers)

    export = await api.get("/api/v1/me/export", headers=citizen.headers)
    assert export.status_code == 200
    body = export.json()
    text = json.dumps(body, ensure_ascii=False)
    assert body["profile"]["national_id"] == citizen.national_id
    assert sorted(d["code"] for d in body["dossiers"]) == sorted(mine)
    assert [d["number"] for d in body["documents"]] == ["MINE-0001"]
    inbox = (await api.get("/api/v1/me/notifications", headers=citizen.headers, params={"limit": 100})).json()
    assert sorted(n["id"] for n in body["notifications"]) == sorted(n["id"] for n in inbox["items"])
    assert len(body["devices"]) == 1 and any(e["action"] == "dossier.read" for e in body["access_log"])
    # The fees asked, as the citizen's list of payments shows them, though none is paid yet.
    listed = (await api.get("/api/v1/me/payments", headers=citizen.headers)).json()["items"]
    assert sorted((p["reference"], p["status"]) for p in body["payments"]) == sorted(
        (p["reference"], p["status"]) for p in listed
    )
    assert sorted(p["dossier_code"] for p in body["payments"]) == sorted(mine)
    for foreign in (neighbour.national_id, theirs, "THEIRS-0001", neighbour.phone[1:]):
        assert foreign not in text
    for secret in ("password_hash", "refresh_token_hash", citizen.device_tokens[0], "$argon2"):
        assert secret not in text


async def test_withdrawing_consent_stops_support_lookups(
    api: httpx.AsyncClient, make_citizen: Any, make_staff: Any
) -> None:
    citizen, staff = await make_citizen(devices=0), await make_staff()
    body = {"national_id": citizen.national_id, "reason": "Hỗ trợ tại quầy"}
    assert (await api.post("/api/v1/support/lookups", json=body, headers=staff.headers)).status_code == 201
    decided = await api.put(
        "/api/v1/me/consents", json={"purpose": "support_desk", "granted": False}, headers=citizen.headers
    )
    assert decided.status_code == 200 and decided.json()["granted"] is False
    refused = await api.post("/api/v1/support/lookups", json=body, headers=staff.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "citizen-objected-to-lookups"
    listed = (await api.get("/api/v1/me/consents", headers=citizen.headers)).json()["items"]
    assert {c["purpose"]: c["granted"] for c in listed}["support_desk"] is False
    await api.put("/api/v1/me/consents", json={"purpose": "support_desk", "granted": True}, headers=citizen.headers)
    assert (await api.post("/api/v1/support/lookups", json=body, headers=staff.headers)).status_code == 201


async def test_closing_the_account_deletes_what_it_may_and_says_what_is_kept(
    api: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=2)
    code = await submit_residence(api, citizen)
    wrong = await api.post("/api/v1/me/deletion", json={"password": "not my password"}, headers=citizen.headers)
    assert wrong.status_code == 403
    closed = await api.post(
        "/api/v1/me/deletion", json={"password": citizen.password}, headers={**citizen.headers, "Accept-Language": "en"}
    )
    assert closed.status_code == 200, closed.text
    answer = closed.json()
    assert answer["deleted"]["devices"] == 2
    assert {k["what"] for k in answer["kept"]} >= {"dossiers", "audit trail"}
    assert all(k["why"] for k in answer["kept"])
    # Signed out everywhere, and the account cannot be signed into again.
    assert (await api.get("/api/v1/me", headers=citizen.headers)).status_code == 401
    login = await api.post("/api/v1/auth/token", json={"username": citizen.national_id, "password": citizen.password})
    assert login.status_code == 401
    # The phone number is free for someone else, and the dossier is kept for the agency.
    from models.dossier import Dossier

    assert await Dossier.find_one(Dossier.code == code) is not None


@pytest.mark.usefixtures("worker")
async def test_withdrawing_push_consent_stops_pushes_but_not_the_inbox(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=1)
    withdrawn = await api.put(
        "/api/v1/me/consents", json={"purpose": "push_notifications", "granted": False}, headers=citizen.headers
    )
    assert withdrawn.status_code == 200
    code = await submit_residence(api, citizen)
    inbox: list[dict[str, Any]] = []
    for _ in range(100):  # the worker handles it within a few seconds
        notifications = (await api.get("/api/v1/me/notifications", headers=citizen.headers)).json()["items"]
        inbox = [n for n in notifications if n["data"].get("dossier_code") == code]
        from models.notification import Notification

        handled = await Notification.find({"key": {"$regex": f"^dossier:{code}:"}, "state": {"$ne": "pending"}}).count()
        if inbox and handled:
            break
        await asyncio.sleep(0.1)
    assert inbox, "the inbox still gets the notification"
    assert handled, "the worker has handled it"
    sent = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()["messages"]
    assert sent == []
