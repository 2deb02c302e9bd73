"""Each caller reaches only what is theirs; a bad token is 401, whatever is wrong with it.

The route tests walk the application's own route table, so a route added later is checked
too (or the test says which owner's id it needs to learn).
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from litestar.routes import HTTPRoute

from tests.integration.identity.helpers import app_of, bearer, new_staff, random_id_for, staff_token, years_ago
from tests.support import FORMS, new_national_id, new_phone, submit_residence

PARAM = re.compile(r"{(\w+)(?::\w+)?}")
# Routes outside /me whose `{code}` is public catalogue data, not a citizen's.
PUBLIC_PARAM_ROUTES = ("/api/v1/services/",)


def forged(claims: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or os.environ["JWT_SECRET"], algorithm=algorithm)


def claims_for(citizen: Any, **overrides: Any) -> dict[str, Any]:
    real = jwt.decode(citizen.access_token, options={"verify_signature": False})
    return {**real, **overrides}


def routes(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, path template) of every API route, HEAD/OPTIONS aside."""
    found = []
    for route in app_of(api).routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/v1/"):
            for handler in route.route_handlers:
                found += [(m, route.path) for m in sorted(handler.http_methods - {"HEAD", "OPTIONS"})]
    return sorted(found, key=lambda r: (r[1], r[0]))


async def owner_with_one_of_everything(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> tuple[Any, dict[str, str]]:
    """A citizen who owns a dossier, a document, a device, a session and a child, by param name."""
    owner = await make_citizen(devices=1, eid_level=2)
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
            "fields": {"classes": ["B2"]},
        },
        headers=agency.headers,
    )
    assert issued.status_code == 201, issued.text
    born = years_ago(6)
    child = await api.post(
        "/api/v1/me/children",
        json={"national_id": random_id_for(born), "full_name": "Trần Bé", "date_of_birth": born.isoformat()},
        headers=owner.headers,
    )
    assert child.status_code == 201, child.text
    sessions = (await api.get("/api/v1/me/sessions", headers=owner.headers)).json()["items"]
    upload = await api.post(
        "/api/v1/me/attachments",
        files={"data": ("photo.png", b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes, "image/png")},
        headers=owner.headers,
    )
    assert upload.status_code == 201, upload.text
    shown = await api.post(
        f"/api/v1/me/documents/{issued.json()['id']}/presentations",
        json={"disclose": ["number"]},
        headers=owner.headers,
    )
    assert shown.status_code == 201, shown.text
    notifications = (await api.get("/api/v1/me/notifications", headers=owner.headers)).json()["items"]
    assert notifications, "the submitted dossier made a notification"
    return owner, {
        "notification_id": notifications[0]["id"],
        "presentation_id": shown.json()["id"],
        "upload_id": upload.json()["id"],
        "code": code,
        "document_id": issued.json()["id"],
        "device_id": (await api.get("/api/v1/me/devices", headers=owner.headers)).json()["items"][0]["id"],
        "session_id": sessions[0]["id"],
        "child_id": child.json()["id"],
        "national_id": owner.national_id,
        "citizen_id": owner.id,
    }


def body_for(method: str, path: str) -> dict[str, Any] | None:
    """A body good enough to get past input checks, so the answer is about ownership."""
    if method in ("GET", "DELETE"):
        return None
    if "/notifications/" in path:
        return {"read": True}
    if path.endswith("/presentations"):
        return {"disclose": ["number"]}
    if path.endswith("/rating"):
        return {"score": 5}
    if path.endswith("/supplement/answers"):
        return {"item_id": "1", "text": "đây"}
    if path.endswith("/dossiers"):
        return {
            "service_code": "RESIDENCE_REGISTRATION",
            "form": FORMS["RESIDENCE_REGISTRATION"],
            "delivery": {"method": "online"},
        }
    return {}


async def test_every_route_with_another_citizens_id_answers_404_with_nothing_of_theirs(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    owner, owned = await owner_with_one_of_everything(api, make_citizen, make_agency)
    other = await make_citizen(devices=0, eid_level=2)
    checked = 0
    for method, path in routes(api):
        params = PARAM.findall(path)
        if not params or not path.startswith("/api/v1/me/"):
            continue
        missing = [p for p in params if p not in owned]
        assert not missing, f"{method} {path}: add the owner's {missing} to owner_with_one_of_everything()"
        url = PARAM.sub(lambda m: owned[m.group(1)], path)
        unknown_url = PARAM.sub(lambda m: "000000000000000000000000" if m.group(1) != "code" else "HS-NONE", path)
        body = body_for(method, path)
        headers = {**other.headers, "Idempotency-Key": uuid.uuid4().hex}
        theirs = await api.request(method, url, json=body, headers=headers)
        unknown = await api.request(method, unknown_url, json=body, headers=headers)
        # Either "not found", or refused for the body before anything was looked up: in both
        # cases exactly what an id that does not exist gets.
        assert theirs.status_code in (404, 422), (method, path, theirs.text)
        assert theirs.status_code == unknown.status_code and theirs.json()["title"] == unknown.json()["title"]
        if theirs.status_code == 422:
            assert theirs.json() == unknown.json(), (method, path)
        for value in owned.values():
            assert value not in theirs.text, (method, path)
        checked += theirs.status_code == 404
    assert checked >= 12  # the walk found the routes (documents, dossiers, devices, sessions, children…)
    # And nothing of the owner's changed: device, session and child are all still there.
    assert (await api.get("/api/v1/me/devices", headers=owner.headers)).json()["items"][0]["id"] == owned["device_id"]
    assert owned["session_id"] in (await api.get("/api/v1/me/sessions", headers=owner.headers)).text
    assert owned["child_id"] in (await api.get("/api/v1/me/children", headers=owner.headers)).text
    notes = (await api.get("/api/v1/me/notifications", headers=owner.headers)).json()["items"]
    assert [n["read_at"] for n in notes if n["id"] == owned["notification_id"]] == [None]
    assert (await api.get(f"/api/v1/me/children/{owned['child_id']}/dossiers", headers=owner.headers)).json()[
        "items"
    ] == []


async def test_citizen_tokens_are_refused_on_every_agency_staff_support_and_admin_route(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_agency(["CRIMINAL_RECORD"])
    checked = 0
    for method, path in routes(api):
        if not path.startswith(("/api/v1/agency/", "/api/v1/staff/", "/api/v1/support/", "/api/v1/admin/")):
            continue
        url = PARAM.sub("X", path)
        if (await api.request(method, url, json={})).status_code != 401:
            continue  # a sign-in route: open to anyone
        answer = await api.request(method, url, json={}, headers={**citizen.headers, "Accept-Language": "en"})
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        checked += 1
    assert checked >= 8
    for path in ("/api/v1/me", "/api/v1/me/documents", "/api/v1/me/dossiers", "/api/v1/me/sessions"):
        assert (await api.get(path, headers=agency.headers)).status_code == 403
    # A support member is not an admin.
    support = await staff_token(api, await new_staff("support"))
    assert (await api.get("/api/v1/admin/staff", headers=support)).status_code == 403
    assert (await api.get("/api/v1/me", headers=support)).status_code == 403


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
    unknown = await api.post(
        "/api/v1/agency/dossiers/HS-20260101-NONE00/events",
        json={"event_id": uuid.uuid4().hex, "status": "received"},
        headers=intruder.headers,
    )
    assert moved.status_code == unknown.status_code == 404
    assert moved.json() == unknown.json()
    mine = (await api.get("/api/v1/agency/dossiers", headers=owner.headers)).json()["items"]
    assert [d["status"] for d in mine if d["code"] == code] == ["submitted"]
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
        "audience and subject of another kind": forged(claims_for(citizen, aud="cwallet:staff")),
        "session of someone else": forged(claims_for(citizen, sub="citizen:000000000000000000000000")),
        "no session": forged(claims_for(citizen, extras={})),
        "not a jwt": "hello",
    }
    for name, token in bad_tokens.items():
        answer = await api.get("/api/v1/me", headers=bearer(token))
        assert answer.status_code == 401, name
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("/api/v1/me")).status_code == 401
    assert (await api.get("/api/v1/me", headers=citizen.headers)).status_code == 200


async def test_logout_revokes_access_and_refresh(api: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(devices=0)
    assert (await api.post("/api/v1/auth/logout", headers=citizen.headers)).status_code == 204
    assert (await api.get("/api/v1/me", headers=citizen.headers)).status_code == 401
    refused = await api.post("/api/v1/auth/refresh", json={"refresh_token": citizen.refresh_token})
    assert refused.status_code == 401


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_whole_family(
    api: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    first = await api.post("/api/v1/auth/refresh", json={"refresh_token": citizen.refresh_token})
    assert first.status_code == 200
    pair = first.json()
    assert pair["token_type"] == "Bearer" and pair["refresh_token"] != citizen.refresh_token
    second = (await api.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})).json()
    assert (await api.get("/api/v1/me", headers=bearer(second["access_token"]))).status_code == 200

    # The first refresh token (rotated away twice ago) comes back: someone holds a copy.
    replay = await api.post("/api/v1/auth/refresh", json={"refresh_token": citizen.refresh_token})
    assert replay.status_code == 401
    # Every token of the family stopped working: the newest access and refresh tokens too.
    assert (await api.get("/api/v1/me", headers=bearer(second["access_token"]))).status_code == 401
    assert (await api.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})).status_code == 401
    # Another signed-in device of the same citizen is a different family and keeps working.
    other_device = await api.post(
        "/api/v1/auth/token", json={"username": citizen.national_id, "password": citizen.password}
    )
    assert (await api.get("/api/v1/me", headers=bearer(other_device.json()["access_token"]))).status_code == 200


async def test_login_does_not_say_whether_the_account_exists(api: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(devices=0)
    wrong_password = await api.post(
        "/api/v1/auth/token", json={"username": citizen.national_id, "password": "nope nope nope"}
    )
    no_account = await api.post("/api/v1/auth/token", json={"username": new_national_id(), "password": "nope nope"})
    no_phone = await api.post("/api/v1/auth/token", json={"username": new_phone(), "password": "nope nope"})
    assert wrong_password.status_code == no_account.status_code == no_phone.status_code == 401
    assert wrong_password.json() == no_account.json() == no_phone.json()
    by_phone = await api.post(
        "/api/v1/auth/token", json={"username": "+84" + citizen.phone[1:], "password": citizen.password}
    )
    assert by_phone.status_code == 200


async def test_server_owned_fields_in_bodies_change_nothing(api: httpx.AsyncClient, make_citizen: Any) -> None:
    national_id = new_national_id()
    owned = {
        "eid_level": 2,
        "id": "000000000000000000000000",
        "_id": "000000000000000000000000",
        "role": "admin",
        "locked_at": None,
        "guardian_ids": ["000000000000000000000000"],
        "password_hash": "$argon2id$forged",
        "citizen_id": "000000000000000000000000",
        "status": "approved",
        "agency_code": "XNC",
        "scopes": ["verify_identity"],
    }
    created = await api.post(
        "/api/v1/citizens",
        json={
            "national_id": national_id,
            "full_name": "Phạm D",
            "date_of_birth": "1990-02-02",
            "phone": new_phone(),
            "password": "a long enough password",
            **owned,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["eid_level"] == 1
    assert created.json()["id"] != "000000000000000000000000"
    login = await api.post("/api/v1/auth/token", json={"username": national_id, "password": "a long enough password"})
    assert login.status_code == 200  # the password given, not the forged hash, is what counts
    headers = bearer(login.json()["access_token"])
    me = (await api.get("/api/v1/me", headers=headers)).json()
    assert me["eid_level"] == 1

    # The same on the other bodies a citizen sends: devices, dossiers, children.
    device = await api.post(
        "/api/v1/me/devices", json={"token": f"fcm-{uuid.uuid4().hex}", "platform": "ios", **owned}, headers=headers
    )
    assert device.status_code == 201 and device.json()["id"] != "000000000000000000000000"
    dossier = await api.post(
        "/api/v1/me/dossiers",
        json={
            "service_code": "RESIDENCE_REGISTRATION",
            "form": FORMS["RESIDENCE_REGISTRATION"],
            "delivery": {"method": "online"},
            **owned,
        },
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert dossier.status_code == 201, dossier.text
    assert dossier.json()["status"] == "submitted"
    assert (await api.get(f"/api/v1/me/dossiers/{dossier.json()['code']}", headers=headers)).status_code == 200
    parent = await make_citizen(devices=0, eid_level=2)
    born = years_ago(5)
    child = await api.post(
        "/api/v1/me/children",
        json={"national_id": random_id_for(born), "full_name": "Bé", "date_of_birth": born.isoformat(), **owned},
        headers=parent.headers,
    )
    assert child.status_code == 201, child.text
    assert child.json()["eid_level"] == 1 and child.json()["id"] != owned["id"]
    assert [c["id"] for c in (await api.get("/api/v1/me/children", headers=parent.headers)).json()["items"]] == [
        child.json()["id"]
    ]
