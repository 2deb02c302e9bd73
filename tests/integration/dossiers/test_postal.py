"""Results by post: postage on the payment, the postal operator as a client of its own, its
tracking updates reaching the citizen, delivery completing the dossier; then the rating."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from app.postal.service import create_operator
from models.audit import AccessRecord
from tests.integration.dossiers.flows import JPEG, dossier, event, move, pay, pushes_for, submitted, upload

pytestmark = pytest.mark.usefixtures("worker", "callback_api")

ADDRESS = "Số 5 Tràng Tiền, phường Tràng Tiền, Hoàn Kiếm, Hà Nội"


@pytest.fixture(scope="module")
async def postal(api: httpx.AsyncClient) -> dict[str, str]:
    creds = await create_operator(f"POST{uuid.uuid4().hex[:4].upper()}", "Bưu điện thử nghiệm")
    token = await api.post(
        "/api/v1/postal/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def track(api: httpx.AsyncClient, postal: dict[str, str], code: str, status: str, **extra: Any) -> httpx.Response:
    body = {"event_id": extra.pop("event_id", uuid.uuid4().hex), "status": status, **extra}
    return await api.post(
        f"/api/v1/postal/shipments/{code}/updates", json=body, headers={**postal, "Accept-Language": "en"}
    )


async def test_passport_by_post_from_payment_to_doorstep_then_rated(
    api: httpx.AsyncClient,
    emulator: httpx.AsyncClient,
    simulator: httpx.AsyncClient,
    shared_citizen: Any,
    module_agency: Any,
    postal: dict[str, str],
) -> None:
    citizen = shared_citizen
    agency = await module_agency(["PASSPORT"])
    photo = (await upload(api, citizen, JPEG, "portrait.jpg")).json()["id"]
    created = await submitted(
        api,
        citizen,
        "PASSPORT",
        delivery={"method": "postal", "address": ADDRESS},
        attachments=[{"name": "portrait_photo", "upload_id": photo}],
    )
    code = created["code"]
    assert created["delivery"] == {"method": "postal", "address": ADDRESS, "postage_fee_vnd": 30000}
    assert (created["payment"]["amount_vnd"], created["payment"]["postage_vnd"]) == (230000, 30000)
    await pay(api, simulator, citizen, code)
    await move(api, agency, code, "PASSPORT", "received", "processing", "approved", "result_ready")
    assert (await dossier(api, citizen, code))["shipment"]["status"] == "awaiting_pickup"

    waiting = (await api.get("/api/v1/postal/shipments", headers=postal)).json()["items"]
    parcel = next(p for p in waiting if p["dossier_code"] == code)
    assert (parcel["address"], parcel["recipient_name"], parcel["status"]) == (
        ADDRESS,
        "Trần Thị Bình",
        "awaiting_pickup",
    )
    reads = await AccessRecord.find({"target": code, "actor_kind": "postal"}).to_list()
    assert reads and reads[0].action == "shipment.read"

    no_number = await track(api, postal, code, "accepted")
    assert no_number.status_code == 422 and no_number.json()["errors"][0]["field"] == "tracking_number"
    assert (await track(api, postal, code, "accepted", tracking_number="EB123456789VN")).status_code == 200
    hub = await track(api, postal, code, "in_transit", location="Trung tâm khai thác Hà Nội", event_id="hub-1")
    repeat = await track(api, postal, code, "in_transit", location="Trung tâm khai thác Hà Nội", event_id="hub-1")
    assert hub.status_code == repeat.status_code == 200 and hub.json() == repeat.json()
    assert (await track(api, postal, code, "in_transit", location="Bưu cục Hoàn Kiếm")).status_code == 200
    delivered = await track(api, postal, code, "delivered", location=ADDRESS)
    assert delivered.status_code == 200 and delivered.json()["dossier_status"] == "completed"
    late = await track(api, postal, code, "in_transit")
    assert late.status_code == 409 and late.json()["allowed_next"] == []

    seen = await dossier(api, citizen, code)
    assert seen["status"] == "completed" and seen["history"][-1]["status"] == "completed"
    assert seen["shipment"]["tracking_number"] == "EB123456789VN"
    assert [u["status"] for u in seen["shipment"]["updates"]] == ["accepted", "in_transit", "in_transit", "delivered"]
    assert seen["actions"] == ["rate"]

    kinds: list[str] = []
    for _ in range(150):
        messages = await pushes_for(emulator, citizen.device_tokens[0], 0)
        kinds = [
            m["data"].get("status")
            for m in messages
            if m["data"].get("dossier_code") == code and m["data"]["type"] == "delivery_update"
        ]
        if len(kinds) >= 4:
            break
        await asyncio.sleep(0.2)
    assert len(kinds) == 4  # one per update; the repeated event sent nothing

    # Rating: once, 1 to 5, only when completed.
    bad = await api.post(f"/api/v1/me/dossiers/{code}/rating", json={"score": 6}, headers=citizen.headers)
    assert bad.status_code == 422
    rated = await api.post(
        f"/api/v1/me/dossiers/{code}/rating",
        json={"score": 5, "comment": "Nhanh, không phải đi lại."},
        headers=citizen.headers,
    )
    assert rated.status_code == 201 and rated.json()["rating"]["score"] == 5 and rated.json()["actions"] == []
    twice = await api.post(f"/api/v1/me/dossiers/{code}/rating", json={"score": 1}, headers=citizen.headers)
    assert twice.status_code == 409 and twice.json()["code"] == "already-rated"
    assert (await dossier(api, citizen, code))["rating"]["score"] == 5


async def test_fee_due_at_completion_keeps_a_delivered_dossier_open_until_paid(
    api: httpx.AsyncClient,
    simulator: httpx.AsyncClient,
    shared_citizen: Any,
    module_agency: Any,
    postal: dict[str, str],
) -> None:
    citizen = shared_citizen
    agency = await module_agency(["DL_RENEWAL"])
    code = (await submitted(api, citizen, "DL_RENEWAL", delivery={"method": "postal", "address": ADDRESS}))["code"]
    # The fee of this procedure is due by completion: processing goes ahead unpaid.
    await move(api, agency, code, "DL_RENEWAL", "received", "processing", "approved", "result_ready")
    early = await api.post(f"/api/v1/me/dossiers/{code}/rating", json={"score": 4}, headers=citizen.headers)
    assert early.status_code == 409 and early.json()["code"] == "not-completed"
    assert (await track(api, postal, code, "accepted", tracking_number="EB000000001VN")).status_code == 200
    assert (await track(api, postal, code, "delivered")).json()["dossier_status"] == "result_ready"
    assert (await event(api, agency, code, "completed")).json()["code"] == "payment-required"
    await pay(api, simulator, citizen, code)
    assert (await event(api, agency, code, "completed")).status_code == 200


async def test_each_kind_of_client_keeps_to_its_own_routes(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any, postal: dict[str, str]
) -> None:
    agency = await module_agency(["PASSPORT"])
    for headers in (agency.headers, shared_citizen.headers):
        assert (await api.get("/api/v1/postal/shipments", headers=headers)).status_code == 403
    assert (await api.get("/api/v1/agency/dossiers", headers=postal)).status_code == 403
    assert (await api.get("/api/v1/me/dossiers", headers=postal)).status_code == 403
    wrong = await api.post("/api/v1/postal/token", json={"client_id": "nobody", "client_secret": "x"})
    assert wrong.status_code == 401
    assert (await track(api, postal, "HS-00000000-NOPE00", "accepted", tracking_number="X")).status_code == 404
