"""Signed-in devices, self-lock, and what only an identity-verifying agency may do."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from models.audit import AccessRecord
from tests.integration.identity.helpers import bearer

PASSPORT = {
    "service_code": "PASSPORT",
    "form": {"reason": "Du lịch"},
    "delivery": {"method": "postal", "address": "1 Tràng Tiền, Hà Nội"},
}


async def sign_in(api: httpx.AsyncClient, citizen: Any, device: str) -> dict[str, Any]:
    answer = await api.post(
        "/api/v1/auth/token",
        json={"username": citizen.national_id, "password": citizen.password},
        headers={"User-Agent": device},
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


async def test_signed_in_devices_are_listed_and_each_can_be_signed_out(
    api: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    phone = await sign_in(api, citizen, "CitizenWallet/2.1 (Android 14)")
    tablet = await sign_in(api, citizen, "CitizenWallet/2.1 (iPadOS 18)")
    listed = (await api.get("/api/v1/me/sessions", headers=bearer(phone["access_token"]))).json()["items"]
    assert len(listed) == 3  # the factory's sign-in, the phone and the tablet
    current = [s for s in listed if s["current"]]
    assert [s["user_agent"] for s in current] == ["CitizenWallet/2.1 (Android 14)"]
    tablet_session = next(s for s in listed if s["user_agent"] == "CitizenWallet/2.1 (iPadOS 18)")
    assert set(tablet_session) == {"id", "created_at", "last_used_at", "expires_at", "user_agent", "current"}

    gone = await api.delete(f"/api/v1/me/sessions/{tablet_session['id']}", headers=bearer(phone["access_token"]))
    assert gone.status_code == 204
    assert (await api.get("/api/v1/me", headers=bearer(tablet["access_token"]))).status_code == 401
    refused = await api.post("/api/v1/auth/refresh", json={"refresh_token": tablet["refresh_token"]})
    assert refused.status_code == 401
    assert (await api.get("/api/v1/me", headers=bearer(phone["access_token"]))).status_code == 200
    remaining = (await api.get("/api/v1/me/sessions", headers=bearer(phone["access_token"]))).json()["items"]
    assert tablet_session["id"] not in [s["id"] for s in remaining] and len(remaining) == 2
    # Signing out a session twice, or an id that is not one, is a 404.
    again = await api.delete(f"/api/v1/me/sessions/{tablet_session['id']}", headers=bearer(phone["access_token"]))
    assert again.status_code == 404
    assert (await api.delete("/api/v1/me/sessions/nope", headers=bearer(phone["access_token"]))).status_code == 404


async def test_self_lock_stops_every_token_at_once_until_an_identity_agency_unlocks(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    second = await sign_in(api, citizen, "old phone")
    locked = await api.post("/api/v1/me/lock", headers={**citizen.headers, "Accept-Language": "en"})
    assert locked.status_code == 200, locked.text
    assert "police" in locked.json()["detail"] and locked.json()["locked_at"]

    for headers in (citizen.headers, bearer(second["access_token"])):
        assert (await api.get("/api/v1/me", headers=headers)).status_code == 401
        assert (await api.get("/api/v1/me/documents", headers=headers)).status_code == 401
    for refresh in (citizen.refresh_token, second["refresh_token"]):
        assert (await api.post("/api/v1/auth/refresh", json={"refresh_token": refresh})).status_code == 401
    # The right password gets an answer that says how to unlock; a wrong one learns nothing.
    right = await api.post(
        "/api/v1/auth/token",
        json={"username": citizen.national_id, "password": citizen.password},
        headers={"Accept-Language": "en"},
    )
    assert right.status_code == 403 and right.json()["code"] == "account-locked"
    assert "police" in right.json()["detail"]
    wrong = await api.post("/api/v1/auth/token", json={"username": citizen.national_id, "password": "x" * 14})
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad-credentials"

    # An agency without the identity scope may not unlock; one with it may.
    plain = await make_agency(["CRIMINAL_RECORD"])
    refused = await api.post(
        "/api/v1/agency/identity/unlock",
        json={"national_id": citizen.national_id, "reason": "chip ID card checked"},
        headers={**plain.headers, "Accept-Language": "en"},
    )
    assert refused.status_code == 403 and "verify_identity" in refused.json()["detail"]
    police = await make_agency(["TEMPORARY_ABSENCE"], scopes=["verify_identity"])
    unlocked = await api.post(
        "/api/v1/agency/identity/unlock",
        json={"national_id": citizen.national_id, "reason": "chip ID card checked"},
        headers=police.headers,
    )
    assert unlocked.status_code == 200
    assert unlocked.json() == {"national_id": citizen.national_id, "eid_level": 1, "locked": False}
    # Old tokens stay dead; signing in again works.
    assert (await api.get("/api/v1/me", headers=citizen.headers)).status_code == 401
    fresh = await sign_in(api, citizen, "new phone")
    assert (await api.get("/api/v1/me", headers=bearer(fresh["access_token"]))).status_code == 200
    log = await AccessRecord.find({"citizen_id": _oid(citizen.id), "action": "account.unlock"}).to_list()
    assert [(r.actor_kind, r.actor_id, r.reason) for r in log] == [("agency", police.code, "chip ID card checked")]


async def test_level_two_comes_only_from_an_identity_agency_and_opens_level_two_services(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    headers = {**citizen.headers, "Accept-Language": "en"}
    too_low = await api.post(
        "/api/v1/me/dossiers", json=PASSPORT, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert too_low.status_code == 403 and too_low.json()["code"] == "eid-level-too-low"
    assert "level 2" in too_low.json()["detail"] and "police" in too_low.json()["detail"]

    plain = await make_agency(["CRIMINAL_RECORD"])
    refused = await api.post(
        "/api/v1/agency/identity/eid-level",
        json={"national_id": citizen.national_id, "level": 2},
        headers=plain.headers,
    )
    assert refused.status_code == 403
    assert (await api.get("/api/v1/me", headers=citizen.headers)).json()["eid_level"] == 1

    police = await make_agency(["TEMPORARY_ABSENCE"], scopes=["verify_identity"])
    unknown = await api.post(
        "/api/v1/agency/identity/eid-level", json={"national_id": "001090000001", "level": 2}, headers=police.headers
    )
    assert unknown.status_code == 404
    raised = await api.post(
        "/api/v1/agency/identity/eid-level",
        json={"national_id": citizen.national_id, "level": 2, "reason": "chip read at the counter"},
        headers=police.headers,
    )
    assert raised.status_code == 200 and raised.json()["eid_level"] == 2
    assert (await api.get("/api/v1/me", headers=citizen.headers)).json()["eid_level"] == 2
    applied = await api.post(
        "/api/v1/me/dossiers", json=PASSPORT, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    # The level gate is passed: whatever the service asks next (papers, fees) is not the e-ID level.
    assert applied.status_code != 403 and applied.json().get("code") != "eid-level-too-low", applied.text
    records = await AccessRecord.find({"citizen_id": _oid(citizen.id), "action": "eid-level.set"}).to_list()
    assert [(r.actor_id, r.target) for r in records] == [(police.code, "level-2")]


def _oid(value: str) -> Any:
    from beanie import PydanticObjectId

    return PydanticObjectId(value)
