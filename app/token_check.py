"""Verifying our own HS256 access tokens on every request, at a tenth of PyJWT's cost.

PyJWT 2.15 re-checks on every decode that the HMAC secret is not an asymmetric key (two
DER parsing attempts) and scans the token character by character: 0.36 ms of the API's
CPU per request, a third of a wallet read's (decision 0025). The API only ever verifies
tokens it signed itself, with one algorithm and one secret, so this module does exactly
that: the signature (HMAC-SHA256, compared in constant time) over the exact bytes received,
`alg` pinned to HS256, then the claims PyJWT would check for us (exp, nbf, aud, iss and the
required ones). Tokens are still issued by Litestar/PyJWT; any token PyJWT would refuse is
refused here (tests/unit/identity/test_token_check.py compares the two).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import msgspec
from jwt.exceptions import InvalidTokenError
from litestar.security.jwt import Token

_decode_json = msgspec.json.Decoder(dict[str, Any]).decode


class TokenRefused(InvalidTokenError):
    """Whatever is wrong with the token: Litestar answers 401 for any InvalidTokenError."""


def _segment(text: str) -> bytes:
    # Strict base64url: no padding, URL alphabet only (validate=True refuses other characters).
    if "=" in text:
        raise TokenRefused("padding")
    try:
        return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TokenRefused("encoding") from exc


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return secret.encode()


def verify_hs256(
    token: str,
    secret: str,
    *,
    audiences: Sequence[str] | None,
    issuers: Sequence[str] | None,
    required: Sequence[str] = (),
    now: float | None = None,
) -> dict[str, Any]:
    """The token's claims, or TokenRefused. Checks what PyJWT checks for our tokens."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRefused("not a JWS")
    header_b64, payload_b64, signature_b64 = parts
    try:
        header = _decode_json(_segment(header_b64))
    except msgspec.DecodeError as exc:
        raise TokenRefused("header") from exc
    if header.get("alg") != "HS256" or "crit" in header:
        raise TokenRefused("algorithm")
    expected = hmac.new(_key(secret), f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _segment(signature_b64)):
        raise TokenRefused("signature")
    try:
        claims = _decode_json(_segment(payload_b64))
    except msgspec.DecodeError as exc:
        raise TokenRefused("payload") from exc
    _check_claims(claims, audiences, issuers, required, time.time() if now is None else now)
    return claims


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRefused(name)
    return float(value)


def _check_claims(
    claims: dict[str, Any],
    audiences: Sequence[str] | None,
    issuers: Sequence[str] | None,
    required: Sequence[str],
    now: float,
) -> None:
    if any(claims.get(name) is None for name in required):
        raise TokenRefused("missing claim")
    exp, nbf = _number(claims, "exp"), _number(claims, "nbf")
    if exp is not None and exp <= now:
        raise TokenRefused("expired")
    if nbf is not None and nbf > now:
        raise TokenRefused("not yet valid")
    iat = _number(claims, "iat")
    if iat is not None and iat > now:
        raise TokenRefused("issued in the future")
    if audiences:
        aud = claims.get("aud")
        given = [aud] if isinstance(aud, str) else aud
        if not isinstance(given, list) or not any(isinstance(a, str) and a in audiences for a in given):
            raise TokenRefused("audience")
    if issuers and claims.get("iss") not in issuers:
        raise TokenRefused("issuer")


class CheckedToken(Token):
    """Litestar's Token, decoded by `verify_hs256` instead of PyJWT."""

    @classmethod
    def decode_payload(
        cls,
        encoded_token: str,
        secret: str,
        algorithms: list[str],
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        options: Any = None,
    ) -> Any:
        if algorithms != ["HS256"]:
            raise TokenRefused("this verifier knows HS256 only")
        return verify_hs256(
            encoded_token,
            secret,
            audiences=[audience] if isinstance(audience, str) else audience,
            issuers=[issuer] if isinstance(issuer, str) else issuer,
            required=tuple((options or {}).get("require", ())),
        )
