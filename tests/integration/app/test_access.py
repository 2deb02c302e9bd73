"""Each caller reaches only what is theirs; a bad token is 401, whatever is wrong with it."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from tests.support import new_national_id, new_phone, submit_residence


def forged(claims: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or os.environ["JWT_SECRET"], algorithm=algorithm)


def claims_for(citizen: Any, **overrides: Any) -> dict[str, Any]:
    real = jwt.decode(citizen.access_token, options={"verify_signature": False})
    return {**real, **overrides}


async def test_another_citizens_things_answer_like_they_do_not_exist(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    owner, other = await make_citizen(devices=1), await make_citizen(devices=0)
    agency = await make_agency(["DL_RENEWAL"])
    code = await submit_residence(api, owner, "DL_RENEWAL")
    issued = await api.post(
        "/api/v1/agency/documents",
        json={
            "event_id": uuid.uuid4().hex,
            "national_id": owner.national_id,
            "type": "driver_licence",
            "number": "B2-0001",
            "valid_from": "2026-01-01",
        },
        headers=agency.headers,
    )
    assert issued.status_code == 201, issued.text
    device_id = (await api.get("/api/v1/me/devices", headers=owner.headers)).json()["items"][0]["id"]

    for path in (f"/api/v1/me/dossiers/{code}", f"/api/v1/me/documents/{issued.json()['id']}"):
        theirs = await api.get(path, headers=other.headers)
        unknown = await api.get(path[: path.rindex("/") + 1] + "000000000000000000000000", headers=other.headers)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json()
        assert code not in theirs.text and owner.national_id not in theirs.text
    assert (await api.delete(f"/api/v1/me/devices/{device_id}", headers=other.headers)).status_code == 404
    assert (await api.get("/api/v1/me/devices", headers=owner.headers)).json()["items"][0]["id"] == device_id
    assert (await api.get("/api/v1/me/dossiers", headers=other.headers)).json()["items"] == []
    assert (await api.get("/api/v1/me/documents", headers=other.headers)).json()["items"] == []


async def test_tokens_only_open_their_own_kind_of_route(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_agency(["CRIMINAL_RECORD"])
    for method, path in (
        ("GET", "/api/v1/agency/dossiers"),
        ("POST", "/api/v1/agency/documents"),
        ("POST", "/api/v1/agency/dossiers/HS-X/events"),
    ):
        answer = await api.request(method, path, headers=citizen.headers, json={})
        assert answer.status_code == 403, (path, answer.text)
    for path in ("/api/v1/me", "/api/v1/me/documents", "/api/v1/me/dossiers", "/api/v1/me/notifications"):
        assert (await api.get(path, headers=agency.headers)).status_code == 403


async def test_an_agency_cannot_see_or_touch_another_agencys_dossier(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    owner = await make_agency(["RESIDENCE_REGISTRATION"])
    code = await submit_residence(api, citizen, "RESIDENCE_REGISTRATION")
    intruder = await make_agency(["CRIMINAL_RECORD"])
    worklist = (await api.get("/api/v1/agency/dossiers", headers=intruder.headers)).json()["items"]
    assert code not in [d["code"] for d in worklist]
    moved = await api.post(
        f"/api/v1/agency/dossiers/{code}/events",
        json={"event_id": uuid.uuid4().hex, "status": "received"},
        headers=intruder.headers,
    )
    assert moved.status_code == 404
    mine = (await api.get("/api/v1/agency/dossiers", headers=owner.headers)).json()["items"]
    assert code in [d["code"] for d in mine]
    # Issuing a document type outside its scope is refused, and says which types it may issue.
    refused = await api.post(
        "/api/v1/agency/documents",
        json={
            "event_id": uuid.uuid4().hex,
            "national_id": citizen.national_id,
            "type": "passport",
            "number": "C1234567",
            "valid_from": "2026-01-01",
        },
        headers={**intruder.headers, "Accept-Language": "en"},
    )
    assert refused.status_code == 403
    assert "criminal_record_certificate" in refused.json()["detail"]


async def test_every_kind_of_bad_token_is_401(api: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(devices=0)
    now = datetime.now(UTC)
    header, payload, signature = citizen.access_token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    none_alg = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
        + "."
        + payload
        + "."
    )
    bad_tokens = {
        "expired": forged(claims_for(citizen, exp=int((now - timedelta(minutes=1)).timestamp()))),
        "tampered": f"{header}.{flipped}.{signature}",
        "other key": forged(claims_for(citizen), key="another-secret-of-sufficient-length-0123456789"),
        "alg none": none_alg,
        "wrong audience": forged(claims_for(citizen, aud="cwallet:agency")),
        "not a jwt": "hello",
    }
    for name, token in bad_tokens.items():
        answer = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, name
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("/api/v1/me")).status_code == 401
    assert (await api.get("/api/v1/me", headers=citizen.headers)).status_code == 200


async def test_logout_and_refresh_rotation(api: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(devices=0)
    rotated = await api.post("/api/v1/auth/refresh", json={"refresh_token": citizen.refresh_token})
    assert rotated.status_code == 200
    pair = rotated.json()
    assert pair["token_type"] == "Bearer" and pair["refresh_token"] != citizen.refresh_token
    # The old refresh token stopped working.
    assert (await api.post("/api/v1/auth/refresh", json={"refresh_token": citizen.refresh_token})).status_code == 401
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert (await api.get("/api/v1/me", headers=headers)).status_code == 200

    assert (await api.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await api.get("/api/v1/me", headers=headers)).status_code == 401
    assert (await api.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 401


async def test_login_does_not_say_whether_the_account_exists(api: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(devices=0)
    wrong_password = await api.post(
        "/api/v1/auth/token", json={"username": citizen.national_id, "password": "nope nope nope"}
    )
    no_account = await api.post("/api/v1/auth/token", json={"username": "001090000000", "password": "nope nope nope"})
    assert wrong_password.status_code == no_account.status_code == 401
    assert wrong_password.json() == no_account.json()
    by_phone = await api.post(
        "/api/v1/auth/token", json={"username": "+84" + citizen.phone[1:], "password": citizen.password}
    )
    assert by_phone.status_code == 200


async def test_server_owned_fields_cannot_be_set_and_secrets_never_leave(api: httpx.AsyncClient) -> None:

    national_id = new_national_id()
    created = await api.post(
        "/api/v1/citizens",
        json={
            "national_id": national_id,
            "full_name": "Phạm D",
            "date_of_birth": "1990-02-02",
            "phone": new_phone(),
            "password": "a long enough password",
            "eid_level": 2,
            "id": "000000000000000000000000",
            "role": "admin",
        },
    )
    assert created.status_code == 201
    assert created.json()["eid_level"] == 1
    assert created.json()["id"] != "000000000000000000000000"
    login = await api.post("/api/v1/auth/token", json={"username": national_id, "password": "a long enough password"})
    me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["eid_level"] == 1
    assert not {"password", "password_hash", "refresh_token_hash", "revision_id"} & set(me.json())
    assert "argon2" not in me.text
