"""A document's life after issue: suspend, reinstate, revoke, renew; each idempotent by event_id,
each told to the citizen by push, and only by the agency that issued it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from tests.integration.wallet.helpers import issued, present, status_event, verify
from tests.support import sent_once_each, settled_notifications

pytestmark = pytest.mark.usefixtures("worker")


async def test_suspend_reinstate_revoke_with_reasons_pushes_and_replays(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=1, locale="en")
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    reason = "Tạm giữ giấy phép 30 ngày theo biên bản 55/BB; liên hệ Đội CSGT số 3."

    suspend_id = f"susp-{uuid.uuid4().hex}"
    answers = await asyncio.gather(
        *(status_event(api, agency, document["id"], "suspended", reason, event_id=suspend_id) for _ in range(3))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["status"] == "suspended"
    assert answers[0].json()["status_reason"] == reason

    mine = (await api.get(f"/api/v1/me/documents/{document['id']}", headers=citizen.headers)).json()
    assert (mine["status"], mine["status_reason"]) == ("suspended", reason)

    reinstated = await status_event(api, agency, document["id"], "valid", "Đã hết thời hạn tạm giữ")
    assert reinstated.json()["status"] == "valid"
    # The suspension's replay answers what it answered then, and changes nothing.
    replay = await status_event(api, agency, document["id"], "suspended", reason, event_id=suspend_id)
    assert replay.json() == answers[0].json()
    assert (await api.get(f"/api/v1/me/documents/{document['id']}", headers=citizen.headers)).json()[
        "status"
    ] == "valid"

    revoked = await status_event(api, agency, document["id"], "revoked", "Tước giấy phép theo quyết định 9/QĐ")
    assert revoked.json()["status"] == "revoked"
    final = await status_event(api, agency, document["id"], "valid", "thử lại", language="en")
    assert final.status_code == 409
    assert final.json()["code"] == "status-move-not-allowed"

    settled = await settled_notifications(citizen.id, 4)
    assert len(settled) == 4 and sent_once_each(settled)
    messages = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()["messages"]
    kinds = sorted(m["data"]["type"] for m in messages)
    assert kinds == ["document_issued", "document_reinstated", "document_revoked", "document_suspended"]
    for message in messages:
        assert message["data"]["document_id"] == document["id"]
        # The agency's reason stays behind the login.
        assert "55/BB" not in message["body"] and "9/QĐ" not in message["body"]
    revoked_push = next(m for m in messages if m["data"]["type"] == "document_revoked")
    assert revoked_push["title"] == "Document revoked"
    assert "Driver's licence" in revoked_push["body"]


async def test_status_event_needs_a_reason_and_a_new_event_id_per_action(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["passport"])
    passport = {
        "type": "passport",
        "number": "C1234567",
        "valid_from": "2025-02-01",
        "valid_until": "2035-02-01",
        "fields": {"place_of_issue": "Cục Quản lý xuất nhập cảnh"},
    }
    document = await issued(api, agency, citizen, document=passport)

    missing = await api.post(
        f"/api/v1/agency/documents/{document['id']}/events",
        json={"event_id": "e-1", "status": "revoked", "reason": "   "},
        headers={**agency.headers, "Accept-Language": "en"},
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "reason"
    assert "citizen reads it" in missing.json()["errors"][0]["message"]

    suspended = await status_event(api, agency, document["id"], "suspended", "Báo mất", event_id="e-2")
    assert suspended.status_code == 200
    reused = await status_event(api, agency, document["id"], "revoked", "Báo mất", event_id="e-2")
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "event_id"
    mine = (await api.get(f"/api/v1/me/documents/{document['id']}", headers=citizen.headers)).json()
    assert mine["status"] == "suspended"


async def test_renewal_supersedes_and_keeps_history(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=1, locale="vi")
    agency = await make_issuer(["driver_licence"])
    first = await issued(api, agency, citizen)
    old_token = (await present(api, citizen, first["id"], ["classes"], ttl_seconds=300))["token"]

    body = {"event_id": f"renew-{uuid.uuid4().hex}", "valid_from": "2036-01-10", "valid_until": "2046-01-10"}
    url = f"/api/v1/agency/documents/{first['id']}/renewals"
    answers = await asyncio.gather(*(api.post(url, json=body, headers=agency.headers) for _ in range(3)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    renewed = answers[0].json()
    assert all(a.json() == renewed for a in answers)
    assert renewed["version"] == 2
    assert renewed["supersedes"] == first["id"]
    assert renewed["fields"] == first["fields"]  # carried over when not given
    assert renewed["proof"]["kid"]

    wallet = (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"]
    assert [d["id"] for d in wallet] == [renewed["id"]]
    old = (await api.get(f"/api/v1/me/documents/{first['id']}", headers=citizen.headers)).json()
    assert (old["status"], old["superseded_by"]) == ("superseded", renewed["id"])
    versions = (await api.get(f"/api/v1/me/documents/{first['id']}/versions", headers=citizen.headers)).json()
    assert [(v["id"], v["version"], v["status"]) for v in versions["items"]] == [
        (renewed["id"], 2, "valid"),
        (first["id"], 1, "superseded"),
    ]

    # The old version's code is refused online; the holder is told to show the new one.
    refused = await verify(api, old_token)
    assert refused.status_code == 409
    assert refused.json()["code"] == "document-superseded"
    again = await api.post(url, json={**body, "event_id": "another"}, headers=agency.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "document-superseded"

    settled = await settled_notifications(citizen.id, 2)
    assert len(settled) == 2 and sent_once_each(settled)
    messages = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()["messages"]
    assert sorted(m["data"]["type"] for m in messages) == ["document_issued", "document_renewed"]
    renewed_push = next(m for m in messages if m["data"]["type"] == "document_renewed")
    assert renewed_push["data"]["document_id"] == renewed["id"]
    assert renewed_push["body"] == "Giấy phép lái xe đã được gia hạn. Phiên bản mới đã có trong ví của bạn."


async def test_a_renewal_left_half_done_is_finished(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    """A crash after the new version was stored and before the old one was marked: the cron
    (or the agency's retry) completes it; meanwhile the citizen sees only the old version."""
    from app.wallet.lifecycle import finish_pending_renewals
    from models.common import utcnow
    from models.wallet import WalletDocument

    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    first = await issued(api, agency, citizen)
    renewed = (
        await api.post(
            f"/api/v1/agency/documents/{first['id']}/renewals",
            json={"event_id": "r-1", "valid_from": "2036-01-10"},
            headers=agency.headers,
        )
    ).json()
    # Put both back in the state the crash would have left.
    collection = WalletDocument.get_pymongo_collection()
    old_id, new_id = PydanticObjectId(first["id"]), PydanticObjectId(renewed["id"])
    await collection.update_one(
        {"_id": old_id},
        {"$set": {"status": "valid", "superseded_by": None}, "$pull": {"history": {"status": "superseded"}}},
    )
    await collection.update_one(
        {"_id": new_id}, {"$set": {"renewal_pending": True, "issued_at": utcnow() - timedelta(minutes=5)}}
    )
    wallet = (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"]
    assert [d["id"] for d in wallet] == [first["id"]]

    await finish_pending_renewals()  # what the hourly wallet cron runs
    wallet = (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"]
    assert [d["id"] for d in wallet] == [renewed["id"]]
    old = (await api.get(f"/api/v1/me/documents/{first['id']}", headers=citizen.headers)).json()
    assert old["status"] == "superseded"


async def test_an_agency_no_longer_allowed_the_type_is_refused(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    from app.auth import store as auth_store

    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence", "vehicle_registration"])
    document = await issued(api, agency, citizen)
    # Through the store module, as every write to an agency (the API processes forget it).
    await auth_store.upsert_agency(agency.code, {"document_types": ["vehicle_registration"]}, {})
    answer = await status_event(api, agency, document["id"], "revoked", "Thu hồi", language="en")
    assert answer.status_code == 403
    assert "driver_licence" in answer.json()["detail"]
    refused = await api.post(
        "/api/v1/agency/documents",
        json={"event_id": "i-1", "national_id": citizen.national_id, "type": "driver_licence",
              "number": "1", "valid_from": "2026-01-01", "fields": {"classes": ["B2"]}},
        headers=agency.headers,
    )  # fmt: skip
    assert refused.status_code == 403
