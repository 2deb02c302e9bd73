"""Presentation tokens: a compact JWS (a JWT) signed with the platform's Ed25519 key.

`check` needs nothing but public keys, so it is exactly what an offline verifier does with
the JWKS document (`keys_from_jwks`); the online endpoint runs the same check first and only
then asks the store about revocation and single use.

Selective disclosure is by omission: the token carries the disclosed claims and nothing
else, so an undisclosed field cannot be recovered from it, however the token is decoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.wallet.keys import ActiveKey

PRESENTATION_TYP = "cwallet-vp+jwt"
ISSUER = "cwallet"
# Clock difference tolerated between the platform and a verifier's device.
LEEWAY_SECONDS = 5
REQUIRED_CLAIMS = ("iss", "jti", "iat", "exp", "doc", "disclosed")


class Refused(Exception):
    """Why a token is not accepted: a code from app/presentations/reasons.py. `claims` is set
    only when the signature held (an expired token), so the caller can still trust the `jti`."""

    def __init__(self, code: str, claims: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.claims = claims


def encode(claims: dict[str, Any], key: ActiveKey) -> str:
    return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid, "typ": PRESENTATION_TYP})


def key_id(token: str) -> str:
    """The `kid` of a token that looks like ours, before anything is trusted."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise Refused("presentation-malformed") from None
    kid = header.get("kid")
    if header.get("alg") != "EdDSA" or header.get("typ") != PRESENTATION_TYP or not isinstance(kid, str):
        raise Refused("presentation-malformed")
    return kid


def keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Public keys by id, from a JWKS document as /.well-known/jwks.json serves it."""
    found: dict[str, Ed25519PublicKey] = {}
    for jwk in jwt.PyJWKSet.from_dict(dict(jwks)).keys:
        if jwk.key_id and isinstance(jwk.key, Ed25519PublicKey):
            found[jwk.key_id] = jwk.key
    return found


def check(token: str, keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """The claims of a genuine, unexpired presentation; raises Refused otherwise."""
    key = keys.get(key_id(token))
    if key is None:
        raise Refused("presentation-unknown-key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        # The signature was checked before the expiry, so these claims are genuine.
        expired = jwt.decode(token, key, algorithms=["EdDSA"], options={"verify_exp": False})
        raise Refused("presentation-expired", expired) from None
    except jwt.InvalidSignatureError:
        raise Refused("presentation-tampered") from None
    except jwt.InvalidTokenError:
        raise Refused("presentation-malformed") from None
    if not isinstance(claims["doc"], dict) or not isinstance(claims["disclosed"], dict):
        raise Refused("presentation-malformed")
    return claims
