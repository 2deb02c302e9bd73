"""The whole path on real servers: citizen → dossier → agency events → arq worker → FCM
(through firebase-admin, to the emulator) → inbox and wallet."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.support import sent_once_each, settled_notifications

pytestmark = pytest.mark.usefixtures("worker")

# How long to wait for the worker before calling it a failure: a deadline, not a speed check.
DELIVERY_DEADLINE_SECONDS = 30.0


async def pushes_for(emulator: httpx.AsyncClient, token: str, at_least: int) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERY_DEADLINE_SECONDS
    while True:
        messages: list[dict[str, Any]] = (await emulator.get("/emulator/messages", params={"token": token})).json()[
            "messages"
        ]
        if len(messages) >= at_least or loop.time() > deadline:
            return messages
        await asyncio.sleep(0.1)


async def event(api: httpx.AsyncClient, agency: Any, code: str, status: str, **extra: Any) -> httpx.Response:
    body = {"event_id": f"evt-{uuid.uuid4().hex}", "status": status, **extra}
    return await api.post(f"/api/v1/agency/dossiers/{code}/events", json=body, headers=agency.headers)


async def test_citizen_applies_agency_processes_and_result_lands_in_wallet(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=2, locale="en")
    agency = await make_agency(["DL_RENEWAL"])

    catalogue = (await api.get("/api/v1/services", headers={"Accept-Language": "en"})).json()["items"]
    renewal = next(s for s in catalogue if s["code"] == "DL_RENEWAL")
    assert renewal["name"] == "Driver's licence renewal"
    assert len(catalogue) >= 3

    submitted = await api.post(
        "/api/v1/me/dossiers",
        json={
            "service_code": "DL_RENEWAL",
            "form": {
                "current_licence_number": "790123456789",
                "licence_class": "B2",
                "health_certificate_date": "2026-11-01",
            },
            "delivery": {"method": "online"},
        },
        headers={**citizen.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert submitted.status_code == 201, submitted.text
    code = submitted.json()["code"]
    assert submitted.json()["status"] == "submitted"

    worklist = (await api.get("/api/v1/agency/dossiers", params={"status": "submitted"}, headers=agency.headers)).json()
    assert [d["code"] for d in worklist["items"]] == [code]
    assert worklist["items"][0]["applicant"]["national_id"] == citizen.national_id

    for status in ("received", "processing", "approved"):
        moved = await event(api, agency, code, status)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    ready = await event(
        api,
        agency,
        code,
        "result_ready",
        result={
            "document": {
                "type": "driver_licence",
                "number": "790123456789",
                "valid_from": "2026-11-22",
                "valid_until": "2036-11-22",
                "fields": {"classes": ["B2"]},
            }
        },
    )
    assert ready.status_code == 200, ready.text
    document_id = ready.json()["result_document_id"]
    assert document_id

    # submitted + received + processing + approved + result_ready = 5 pushes to each phone.
    for token in citizen.device_tokens:
        messages = await pushes_for(emulator, token, 5)
        # One push per status change; jobs run concurrently, so arrival order may differ.
        statuses = sorted(m["data"]["status"] for m in messages)
        assert statuses == sorted(["submitted", "received", "processing", "approved", "result_ready"])
        for message in messages:
            assert message["data"]["dossier_code"] == code
            assert message["android_collapse_key"] == message["data"]["notification_id"]
            assert message["apns_collapse_id"] == message["data"]["notification_id"]
            assert message["headers"]["authorization"].startswith("Bearer ")
            assert citizen.national_id not in message["title"] + message["body"]
        # The device locale is English: the text on the lock screen is English.
        assert code in messages[-1]["title"] + messages[-1]["body"]

    inbox = (await api.get("/api/v1/me/notifications", headers={**citizen.headers, "Accept-Language": "en"})).json()
    assert [n["data"]["status"] for n in inbox["items"]] == [
        "result_ready",
        "approved",
        "processing",
        "received",
        "submitted",
    ]
    assert all(n["read_at"] is None and n["title"] for n in inbox["items"])

    wallet = (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"]
    assert [(d["id"], d["type"], d["status"], d["issuer"]) for d in wallet] == [
        (document_id, "driver_licence", "valid", agency.code)
    ]
    one = await api.get(f"/api/v1/me/documents/{document_id}", headers=citizen.headers)
    assert one.json()["fields"] == {"classes": ["B2"]}

    history = (await api.get(f"/api/v1/me/dossiers/{code}", headers=citizen.headers)).json()
    assert [h["status"] for h in history["history"]] == [
        "submitted",
        "received",
        "processing",
        "approved",
        "result_ready",
    ]
    assert history["result_document_id"] == document_id


async def test_same_idempotency_key_gives_one_dossier_and_one_push(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=1)
    await make_agency(["CRIMINAL_RECORD"])
    body = {
        "service_code": "CRIMINAL_RECORD",
        "form": {"certificate_type": "1", "purpose": "Xin việc", "copies": 2},
        "delivery": {"method": "postal", "address": "12 Lý Thường Kiệt, Hoàn Kiếm, Hà Nội"},
    }
    headers = {**citizen.headers, "Idempotency-Key": uuid.uuid4().hex}
    first, second = await asyncio.gather(
        api.post("/api/v1/me/dossiers", json=body, headers=headers),
        api.post("/api/v1/me/dossiers", json=body, headers=headers),
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    third = await api.post("/api/v1/me/dossiers", json=body, headers=headers)
    assert third.json() == first.json()

    listed = (await api.get("/api/v1/me/dossiers", headers=citizen.headers)).json()["items"]
    assert [d["code"] for d in listed] == [first.json()["code"]]

    settled = await settled_notifications(citizen.id, 1)
    assert len(settled) == 1 and sent_once_each(settled)
    messages = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()["messages"]
    assert len(messages) == 1

    changed = {**body, "form": {**body["form"], "copies": 3}}
    reused = await api.post("/api/v1/me/dossiers", json=changed, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency-key-reused"


async def test_twelve_copies_among_twelve_other_submissions_at_once_make_one_dossier_each(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    """Concurrent submissions' writes reach the store together (decision 31): copies of one
    submission in the same command still make one dossier, one notice and one push."""
    citizen = await make_citizen(devices=1)
    await make_agency(["RESIDENCE_REGISTRATION"])

    def submit(key: str, address: str) -> Any:
        body = {
            "service_code": "RESIDENCE_REGISTRATION",
            "form": {"new_address": address},
            "delivery": {"method": "online"},
        }
        return api.post("/api/v1/me/dossiers", json=body, headers={**citizen.headers, "Idempotency-Key": key})

    repeated = uuid.uuid4().hex
    answers = await asyncio.gather(
        *(submit(repeated, "5 Trần Phú, Nha Trang") for _ in range(12)),
        *(submit(uuid.uuid4().hex, f"{n} Lê Lợi, Huế") for n in range(12)),
    )
    assert [a.status_code for a in answers] == [201] * 24, [a.text for a in answers if a.status_code != 201]
    copies = {a.json()["code"] for a in answers[:12]}
    others = {a.json()["code"] for a in answers[12:]}
    assert len(copies) == 1 and len(others) == 12 and not copies & others
    assert all(a.json() == answers[0].json() for a in answers[:12])

    listed = (await api.get("/api/v1/me/dossiers", headers=citizen.headers, params={"limit": 50})).json()["items"]
    assert sorted(d["code"] for d in listed) == sorted(copies | others)
    settled = await settled_notifications(citizen.id, 13)
    assert len(settled) == 13 and sent_once_each(settled)
    messages = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()["messages"]
    assert sorted(m["data"]["dossier_code"] for m in messages) == sorted(copies | others)


async def test_repeated_agency_event_has_no_second_effect(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=1)
    agency = await make_agency(["RESIDENCE_REGISTRATION"])
    submitted = await api.post(
        "/api/v1/me/dossiers",
        json={
            "service_code": "RESIDENCE_REGISTRATION",
            "form": {"new_address": "5 Trần Phú, Nha Trang"},
            "delivery": {"method": "online"},
        },
        headers=citizen.headers,
    )
    code = submitted.json()["code"]
    body = {"event_id": f"evt-{uuid.uuid4().hex}", "status": "received"}
    url = f"/api/v1/agency/dossiers/{code}/events"
    answers = await asyncio.gather(*(api.post(url, json=body, headers=agency.headers) for _ in range(4)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1

    later = await event(api, agency, code, "processing")
    assert later.status_code == 200
    replay = await api.post(url, json=body, headers=agency.headers)
    # The replay of the old event gets the answer it got the first time, not today's state.
    assert replay.json() == answers[0].json()

    dossier = (await api.get(f"/api/v1/me/dossiers/{code}", headers=citizen.headers)).json()
    assert [h["status"] for h in dossier["history"]] == ["submitted", "received", "processing"]

    settled = await settled_notifications(citizen.id, 3)
    assert sorted(n.data["status"] for n in settled) == ["processing", "received", "submitted"]
    assert sent_once_each(settled)
    messages = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()["messages"]
    assert sorted(m["data"]["status"] for m in messages) == ["processing", "received", "submitted"]
