"""Presentation tokens and document signatures, checked with public keys alone (as offline)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from beanie import PydanticObjectId
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.presentations import tokens
from app.wallet.keys import ActiveKey, b64url_encode
from app.wallet.reminders import threshold_for
from app.wallet.signing import compact_jws, sign_with, signed_content
from models.common import utcnow
from models.wallet import Holder, WalletDocument

KEY = ActiveKey("20260101-aaaaaaaa", Ed25519PrivateKey.generate())


def jwks_of(*keys: ActiveKey) -> dict[str, Any]:
    def x(key: ActiveKey) -> str:
        raw = key.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return b64url_encode(raw)

    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x(k), "kid": k.kid, "alg": "EdDSA"} for k in keys]}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "cwallet",
        "jti": "j-1",
        "iat": now,
        "exp": now + 60,
        "doc": {"type": "driver_licence", "issuer": "CSGT", "valid_until": None},
        "disclosed": {"classes": ["B2"]},
        **overrides,
    }


def test_a_genuine_token_passes_with_the_jwks_alone() -> None:
    token = tokens.encode(claims(), KEY)
    assert tokens.check(token, tokens.keys_from_jwks(jwks_of(KEY)))["disclosed"] == {"classes": ["B2"]}


def test_refusals_carry_their_reason() -> None:
    keys = tokens.keys_from_jwks(jwks_of(KEY))
    good = tokens.encode(claims(), KEY)
    header, payload, signature = good.split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=="))
    raw["disclosed"]["classes"] = ["C"]
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).rstrip(b"=").decode()
    other = ActiveKey(KEY.kid, Ed25519PrivateKey.generate())  # same kid, another key
    cases = {
        f"{header}.{forged}.{signature}": "presentation-tampered",
        tokens.encode(claims(), other): "presentation-tampered",
        tokens.encode(claims(), ActiveKey("unknown", KEY.private)): "presentation-unknown-key",
        jwt.encode(claims(), "s" * 32, algorithm="HS256", headers={"kid": KEY.kid, "typ": tokens.PRESENTATION_TYP}): (
            "presentation-malformed"
        ),
        jwt.encode(claims(), KEY.private, algorithm="EdDSA", headers={"kid": KEY.kid}): "presentation-malformed",
        tokens.encode(claims(iss="someone-else"), KEY): "presentation-malformed",
        tokens.encode({k: v for k, v in claims().items() if k != "disclosed"}, KEY): "presentation-malformed",
        "a.b": "presentation-malformed",
    }
    for token, code in cases.items():
        with pytest.raises(tokens.Refused) as refused:
            tokens.check(token, keys)
        assert refused.value.code == code, token


def test_an_expired_token_is_refused_but_its_claims_are_known_genuine() -> None:
    past = int(time.time()) - 600
    token = tokens.encode(claims(iat=past, exp=past + 60), KEY)
    with pytest.raises(tokens.Refused) as refused:
        tokens.check(token, tokens.keys_from_jwks(jwks_of(KEY)))
    assert refused.value.code == "presentation-expired"
    assert refused.value.claims is not None and refused.value.claims["jti"] == "j-1"


def document() -> WalletDocument:
    return WalletDocument.model_construct(
        id=PydanticObjectId(),
        citizen_id=PydanticObjectId(),
        type="driver_licence",
        number="790123456789",
        issuer="CSGT",
        issued_at=utcnow(),
        valid_from="2026-01-01",
        valid_until=None,
        fields={"classes": ["B2"]},
        holder=Holder(national_id="001090123456", full_name="Trần Thị Bình", date_of_birth="1990-03-04"),
        version=1,
        supersedes=None,
    )


def test_a_signed_document_is_a_standard_jws_over_its_canonical_content() -> None:
    signed = document()
    signed.proof = sign_with(KEY, signed)
    token = compact_jws(signed)
    key = jwt.PyJWKSet.from_dict(jwks_of(KEY))[KEY.kid]
    assert json.loads(jwt.PyJWS().decode(token, key=key.key, algorithms=["EdDSA"])) == signed_content(signed)
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": KEY.kid, "typ": "cwallet-document+jws"}
    # Any change to what was signed breaks it.
    signed.fields = {"classes": ["B2", "C"]}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.PyJWS().decode(compact_jws(signed), key=key.key, algorithms=["EdDSA"])


def test_reminder_thresholds() -> None:
    assert [threshold_for(d) for d in (-1, 0, 7, 8, 30, 31)] == [None, 7, 7, 30, 30, None]
