"""Presentations: what a verifier is refused and why, single use, withdrawal, expiry, and a
stored document changed behind the platform's back."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from beanie import PydanticObjectId
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.integration.wallet.helpers import issued, present, verify

pytestmark = pytest.mark.usefixtures("worker")


async def test_single_use_code_is_accepted_once(api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    shown = await present(api, citizen, document["id"], ["classes"], single_use=True)

    answers = await asyncio.gather(*(verify(api, shown["token"]) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 410, 410]
    used = next(a for a in answers if a.status_code == 410)
    assert used.json()["code"] == "presentation-used"
    assert "create a new code" in used.json()["detail"]

    history = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    results = sorted(h["result"] for h in history if h["actor_kind"] == "verifier")
    assert results == ["ok", "presentation-used", "presentation-used"]


async def test_withdrawn_code_is_refused_and_only_its_owner_can_withdraw(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen, other = await make_citizen(devices=0), await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    shown = await present(api, citizen, document["id"], ["number"])

    assert (await api.delete(f"/api/v1/me/presentations/{shown['id']}", headers=other.headers)).status_code == 404
    assert (await verify(api, shown["token"])).status_code == 200
    assert (await api.delete(f"/api/v1/me/presentations/{shown['id']}", headers=citizen.headers)).status_code == 204
    refused = await verify(api, shown["token"], language="vi")
    assert refused.status_code == 410
    assert refused.json()["code"] == "presentation-withdrawn"
    # Nobody shows another citizen's document.
    theirs = await api.post(
        f"/api/v1/me/documents/{document['id']}/presentations", json={"disclose": []}, headers=other.headers
    )
    assert theirs.status_code == 404


async def test_expired_code_is_refused_offline_and_online(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    from app.presentations.schemas import PresentationIn
    from app.presentations.service import create
    from models.common import utcnow

    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    # Made ten minutes ago with a two-minute life.
    old = await create(
        PydanticObjectId(citizen.id),
        document["id"],
        PresentationIn(disclose=["number"], ttl_seconds=120),
        now=utcnow() - timedelta(minutes=10),
    )
    key_set = (await api.get("/.well-known/jwks.json")).json()
    key = jwt.PyJWKSet.from_dict(key_set)[jwt.get_unverified_header(old.token)["kid"]]
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(old.token, key=key.key, algorithms=["EdDSA"])
    refused = await verify(api, old.token)
    assert refused.status_code == 410
    assert refused.json()["code"] == "presentation-expired"
    assert refused.json()["detail"] == "The code has expired. Ask the holder to create a new code in the app."


async def test_expired_presentations_are_purged_by_a_ttl_index(api: httpx.AsyncClient) -> None:
    from models.presentation import Presentation

    indexes = await Presentation.get_pymongo_collection().index_information()
    ttl = [spec for spec in indexes.values() if "expireAfterSeconds" in spec]
    assert [(spec["key"], spec["expireAfterSeconds"]) for spec in ttl] == [([("expires_at", 1)], 0)]


async def test_a_stored_document_changed_behind_our_back_is_refused(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    from models.wallet import WalletDocument

    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    shown = await present(api, citizen, document["id"], ["classes"], ttl_seconds=300)
    await WalletDocument.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(document["id"])}, {"$set": {"fields.classes": ["A1", "B2", "FC"]}}
    )
    refused = await verify(api, shown["token"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "document-integrity"
    again = await api.post(
        f"/api/v1/me/documents/{document['id']}/presentations", json={"disclose": ["classes"]}, headers=citizen.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "document-integrity"


async def test_codes_not_ours_are_refused_with_a_reason(api: httpx.AsyncClient) -> None:
    foreign = Ed25519PrivateKey.generate()
    claims = {"iss": "cwallet", "jti": "x", "iat": 1, "exp": 4_000_000_000, "doc": {}, "disclosed": {}}
    signed_elsewhere = jwt.encode(
        claims, foreign, algorithm="EdDSA", headers={"kid": "20260101-deadbeef", "typ": "cwallet-vp+jwt"}
    )
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"typ": "cwallet-vp+jwt"})
    for token, code in (
        ("not a token", "presentation-malformed"),
        (unsigned, "presentation-malformed"),
        (signed_elsewhere, "presentation-unknown-key"),
    ):
        answer = await verify(api, token)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == code
        assert answer.json()["detail"]


async def test_a_presentation_names_only_claims_the_document_has(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    url = f"/api/v1/me/documents/{document['id']}/presentations"
    headers = {**citizen.headers, "Accept-Language": "en"}
    wrong = await api.post(url, json={"disclose": ["classes", "blood_type"]}, headers=headers)
    assert wrong.status_code == 422
    message = wrong.json()["errors"][0]["message"]
    assert "blood_type" in message and "full_name" in message
    too_long = await api.post(url, json={"disclose": [], "ttl_seconds": 3600}, headers=headers)
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "ttl_seconds"
