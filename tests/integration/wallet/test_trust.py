"""Trust: documents are signed, shown as short-lived signed tokens, and checked offline with the
published keys alone or online, where revocation is known. The issue's mandatory checks."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jwt
import pytest

from tests.integration.wallet.helpers import (
    LICENCE,
    issued,
    present,
    status_event,
    token_payload,
    verify,
)

pytestmark = pytest.mark.usefixtures("worker")


async def jwks(api: httpx.AsyncClient) -> dict[str, Any]:
    answer = await api.get("/.well-known/jwks.json")  # no token: verifiers have no account
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "public, max-age=300"
    body: dict[str, Any] = answer.json()
    return body


def verify_offline(token: str, key_set: dict[str, Any]) -> dict[str, Any]:
    """What a verifier's app does with nothing but the JWKS document and a JOSE library."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(key_set)[kid]
    claims: dict[str, Any] = jwt.decode(token, key=key.key, algorithms=["EdDSA"], issuer="cwallet")
    return claims


def verify_document_offline(jws: str, key_set: dict[str, Any]) -> dict[str, Any]:
    kid = jwt.get_unverified_header(jws)["kid"]
    key = jwt.PyJWKSet.from_dict(key_set)[kid]
    payload: dict[str, Any] = json.loads(jwt.PyJWS().decode(jws, key=key.key, algorithms=["EdDSA"]))
    return payload


async def test_issue_sign_present_then_verify_offline_and_online(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    assert document["proof"]["alg"] == "EdDSA"
    key_set = await jwks(api)
    assert document["proof"]["kid"] in [k["kid"] for k in key_set["keys"]]
    assert all("d" not in k for k in key_set["keys"])  # public halves only

    # The whole signed document verifies with the key set alone.
    signed = await api.get(f"/api/v1/me/documents/{document['id']}/signed", headers=citizen.headers)
    content = verify_document_offline(signed.json()["jws"], key_set)
    assert content["id"] == document["id"]
    assert content["fields"] == LICENCE["fields"]
    assert content["holder"]["national_id"] == citizen.national_id

    shown = await present(api, citizen, document["id"], ["full_name", "classes"], ttl_seconds=120)
    assert len(shown["token"]) < 1000  # a QR code of modest size holds it

    offline = verify_offline(shown["token"], key_set)
    assert offline["disclosed"] == {"full_name": "Trần Thị Bình", "classes": ["A1", "B2"]}
    assert offline["doc"] == {"type": "driver_licence", "issuer": agency.code, "valid_until": "2036-01-10"}
    assert offline["exp"] - offline["iat"] == 120

    answer = await verify(api, shown["token"], verifier="Cửa hàng xe máy Hoà Bình")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verified"] is True
    assert body["claims"] == offline["disclosed"]
    assert body["document"] == {
        "type": "driver_licence",
        "type_name": "Driver's licence",
        "issuer": agency.code,
        "status": "valid",
        "valid_until": "2036-01-10",
    }

    # The citizen sees the check in their access history.
    history = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    checks = [h for h in history if h["actor_kind"] == "verifier"]
    assert [(c["action"], c["target"], c["client"], c["result"]) for c in checks] == [
        ("presentation.verify", document["id"], "Cửa hàng xe máy Hoà Bình", "ok")
    ]


async def test_one_byte_changed_is_refused(api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    token = (await present(api, citizen, document["id"], ["classes"]))["token"]
    header, payload, signature = token.split(".")

    # A licence class quietly upgraded: one byte of the signed payload.
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert raw.count(b'"A1"') == 1
    forged_payload = base64.urlsafe_b64encode(raw.replace(b'"A1"', b'"A2"')).rstrip(b"=").decode()
    # And one character of the signature.
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]

    for forged in (f"{header}.{forged_payload}.{signature}", f"{header}.{payload}.{flipped}"):
        with pytest.raises(jwt.InvalidSignatureError):
            verify_offline(forged, await jwks(api))
        for language, words in (("en", "altered"), ("vi", "bị sửa")):
            answer = await verify(api, forged, language=language)
            assert answer.status_code == 422
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["code"] == "presentation-tampered"
            assert words in answer.json()["detail"]
    # The untouched token still passes.
    assert (await verify(api, token)).status_code == 200


async def test_revoked_document_is_refused_online(api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    token = (await present(api, citizen, document["id"], ["full_name"], ttl_seconds=300))["token"]
    assert (await verify(api, token)).status_code == 200

    revoked = await status_event(api, agency, document["id"], "revoked", "Giấy phép bị tước theo quyết định 12/QĐ")
    assert revoked.status_code == 200, revoked.text

    answer = await verify(api, token, language="vi")
    assert answer.status_code == 409
    assert answer.json()["code"] == "document-revoked"
    assert "thu hồi" in answer.json()["detail"]
    assert "full_name" not in answer.text and "Trần" not in answer.text
    # Offline, the signature alone still holds: that is why tokens live minutes, not days.
    assert verify_offline(token, await jwks(api))["disclosed"] == {"full_name": "Trần Thị Bình"}
    # A revoked document cannot be shown any more.
    again = await api.post(
        f"/api/v1/me/documents/{document['id']}/presentations", json={"disclose": []}, headers=citizen.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "document-not-presentable"


async def test_undisclosed_fields_are_in_neither_the_token_nor_the_answer(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["health_record"])
    record = {
        "type": "health_record",
        "number": "SK-2024-778812",
        "valid_from": "2024-03-01",
        "fields": {
            "blood_type": "AB-",
            "vaccinations": [{"vaccine": "Viêm gan B", "dose": 3, "date": "2023-05-02", "place": "TYT Phường 7"}],
        },
    }
    document = await issued(api, agency, citizen, document=record)
    shown = await present(api, citizen, document["id"], ["vaccinations"])
    assert shown["disclosed"] == {"vaccinations": record["fields"]["vaccinations"]}

    payload = token_payload(shown["token"])
    everything = shown["token"] + json.dumps(payload, ensure_ascii=False)
    for hidden in ("blood_type", "AB-", "SK-2024-778812", citizen.national_id, "Trần Thị Bình", "1990-03-04"):
        assert hidden not in everything
    assert set(payload["disclosed"]) == {"vaccinations"}

    answer = await verify(api, shown["token"])
    assert answer.status_code == 200
    for hidden in ("blood_type", "AB-", "SK-2024-778812", citizen.national_id, "Trần Thị Bình"):
        assert hidden not in answer.text
    assert answer.json()["claims"] == {"vaccinations": record["fields"]["vaccinations"]}


async def test_key_rotation_keeps_old_documents_and_presentations_verifiable(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    from app.wallet.admin import rotate_keys

    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    old_document = await issued(api, agency, citizen)
    old_token = (await present(api, citizen, old_document["id"], ["number"], ttl_seconds=300))["token"]

    rotated = await rotate_keys()  # what `cwallet keys rotate` runs
    assert rotated["retired"]
    new_document = await issued(api, agency, citizen, number="790123456700")
    assert new_document["proof"]["kid"] == rotated["kid"] != old_document["proof"]["kid"]
    new_token = (await present(api, citizen, old_document["id"], ["number"]))["token"]
    assert jwt.get_unverified_header(new_token)["kid"] == rotated["kid"]

    key_set = await jwks(api)
    assert {old_document["proof"]["kid"], rotated["kid"]} <= {k["kid"] for k in key_set["keys"]}
    for document in (old_document, new_document):
        signed = (await api.get(f"/api/v1/me/documents/{document['id']}/signed", headers=citizen.headers)).json()
        assert verify_document_offline(signed["jws"], key_set)["number"] == document["number"]
    for token in (old_token, new_token):
        assert verify_offline(token, key_set)["disclosed"] == {"number": "790123456789"}
        online = await verify(api, token)
        assert online.status_code == 200, online.text


async def test_another_agency_cannot_revoke_this_agencys_document(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    owner = await make_issuer(["driver_licence"])
    # Even an agency allowed the very same type: it did not issue this document.
    other = await make_issuer(["driver_licence"])
    document = await issued(api, owner, citizen)

    for status in ("revoked", "suspended"):
        answer = await status_event(api, other, document["id"], status, "Thử thu hồi")
        unknown = await status_event(api, other, "0" * 24, status, "Thử thu hồi")
        assert answer.status_code == unknown.status_code == 404
        assert answer.json()["code"] == unknown.json()["code"] == "not-found"
    renewal = await api.post(
        f"/api/v1/agency/documents/{document['id']}/renewals",
        json={"event_id": "x-1", "valid_from": "2036-01-10"},
        headers=other.headers,
    )
    assert renewal.status_code == 404

    mine = (await api.get(f"/api/v1/me/documents/{document['id']}", headers=citizen.headers)).json()
    assert mine["status"] == "valid"
    assert mine["status_reason"] is None
