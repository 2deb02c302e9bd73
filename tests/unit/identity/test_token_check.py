"""The API's own HS256 check refuses every token PyJWT refuses (and a numeric claim written
as text, which PyJWT lets through); only well-formed tokens of ours pass."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from app.token_check import TokenRefused, verify_hs256

SECRET = "a-test-secret-of-a-decent-length-0123456789"
AUDIENCES = ["cwallet:citizen", "cwallet:agency"]
ISSUERS = ["cwallet"]
REQUIRED = ["exp", "sub", "aud", "iss"]
NOW = time.time()


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "citizen:6b0f8a61a431fe0262ea365c",
        "aud": "cwallet:citizen",
        "iss": "cwallet",
        "exp": int(NOW) + 86_400,  # collected long before it runs, at the end of a long suite
        "iat": int(NOW) - 5,
        "sid": "6b0f8a61a431fe0262ea365d",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _forged(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{signature}"


def _pyjwt_takes(token: str) -> bool:
    try:
        jwt.decode(
            token, SECRET, algorithms=["HS256"], audience=AUDIENCES, issuer=ISSUERS, options={"require": REQUIRED}
        )
    except jwt.InvalidTokenError:
        return False
    return True


def _ours_takes(token: str) -> bool:
    try:
        verify_hs256(token, SECRET, audiences=AUDIENCES, issuers=ISSUERS, required=REQUIRED)
    except TokenRefused:
        return False
    return True


GOOD = jwt.encode(_claims(), SECRET, algorithm="HS256")
OTHER_SUB = "citizen:ffffffffffffffffffffffff"
OTHER_BODY = jwt.encode(_claims(sub=OTHER_SUB), "another-secret-of-a-decent-length-0123456").split(".")[1]
head, body, signature = GOOD.split(".")
CASES = {
    "good": GOOD,
    "agency audience": jwt.encode(_claims(aud="cwallet:agency"), SECRET, algorithm="HS256"),
    "audience list": jwt.encode(_claims(aud=["other", "cwallet:citizen"]), SECRET, algorithm="HS256"),
    "other secret": jwt.encode(_claims(), SECRET + "x", algorithm="HS256"),
    "expired": jwt.encode(_claims(exp=int(NOW) - 1), SECRET, algorithm="HS256"),
    "not yet valid": jwt.encode(_claims(nbf=int(NOW) + 86_400), SECRET, algorithm="HS256"),
    "issued in the future": jwt.encode(_claims(iat=int(NOW) + 86_400), SECRET, algorithm="HS256"),
    "wrong audience": jwt.encode(_claims(aud="cwallet:staffx"), SECRET, algorithm="HS256"),
    "wrong issuer": jwt.encode(_claims(iss="someone"), SECRET, algorithm="HS256"),
    "no exp": jwt.encode(_claims(exp=None), SECRET, algorithm="HS256"),
    "no aud": jwt.encode(_claims(aud=None), SECRET, algorithm="HS256"),
    "no sub": jwt.encode(_claims(sub=None), SECRET, algorithm="HS256"),
    "HS512": jwt.encode(_claims(), SECRET * 2, algorithm="HS512"),
    "alg none": _forged({"alg": "none", "typ": "JWT"}, _claims()),
    "payload swapped": f"{head}.{OTHER_BODY}.{signature}",
    "signature cut": f"{head}.{body}.{signature[:-2]}",
    "signature padded": f"{head}.{body}.{signature}=",
    "junk in signature": f"{head}.{body}.{signature[:-1]}!",
    "two parts": f"{head}.{body}",
    "four parts": f"{GOOD}.x",
    "exp as text": jwt.encode(_claims(exp=str(int(NOW) + 86_400)), SECRET, algorithm="HS256"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_what_pyjwt_refuses_is_refused(name: str) -> None:
    token = CASES[name]
    if not _pyjwt_takes(token):
        assert not _ours_takes(token), name


def test_a_good_token_gives_its_claims() -> None:
    claims = verify_hs256(GOOD, SECRET, audiences=AUDIENCES, issuers=ISSUERS, required=REQUIRED)
    assert claims["sub"] == "citizen:6b0f8a61a431fe0262ea365c"
    assert claims["sid"] == "6b0f8a61a431fe0262ea365d"


def test_only_the_good_ones_pass() -> None:
    passed = sorted(name for name, token in CASES.items() if _ours_takes(token))
    assert passed == ["agency audience", "audience list", "good"]
