"""The platform's signing keys: the newest active key signs, every key stays published.

Private keys are sealed at rest with AES-256-GCM under a key derived (HKDF) from SECRETS_KEY
(app/sealing.py), and leave this module only as a `cryptography` key object. A key that can no longer
be unsealed (the secret changed) is retired and replaced; what it signed stays verifiable
because verifying needs only the public key. See docs/decisions/0007-document-signing-and-keys.md.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app import sealing
from app.wallet import store
from models.common import utcnow
from models.signing_key import SigningKey

log = structlog.get_logger(__name__)

# Another process that rotates is followed within this long; until then the previous key
# keeps signing, which is harmless because it stays published.
ACTIVE_KEY_CACHE_SECONDS = 30.0
_WRAP_PURPOSE = "signing-key-wrap/v1"


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    private: Ed25519PrivateKey = field(repr=False)


def _seal(kid: str, private: Ed25519PrivateKey) -> str:
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    # The kid is authenticated with it: a sealed key copied onto another record does not open.
    # Under SECRETS_KEY (app/sealing.py): keys sealed under an earlier secret, or in the
    # format before it, stay published and verify; `active_key` rotates to one it can open.
    return sealing.seal(_WRAP_PURPOSE, raw, kid)


async def _unseal(key: SigningKey) -> Ed25519PrivateKey | None:
    """The private key; one sealed under a previous SECRETS_KEY is stored again under the current one."""
    raw, resealed = sealing.open_current(_WRAP_PURPOSE, key.private_key_sealed, key.kid)
    if raw is None:
        return None
    if resealed is not None:
        await store.reseal_key(
            key.kid, key.private_key_sealed, resealed, sealing.key_id(sealing.purpose_key(_WRAP_PURPOSE))
        )
        log.info("signing_key_resealed", kid=key.kid)
    return Ed25519PrivateKey.from_private_bytes(raw)


async def create_key() -> SigningKey:
    """A new active key (older active keys keep signing until `rotate` retires them)."""
    now = utcnow()
    kid = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = SigningKey(
        kid=kid,
        public_key=b64url_encode(public),
        private_key_sealed=_seal(kid, private),
        wrap_key_id=sealing.key_id(sealing.purpose_key(_WRAP_PURPOSE)),
        created_at=now,
    )
    await store.insert_key(key)
    log.info("signing_key_created", kid=kid)
    return key


_active_cache: tuple[float, ActiveKey] | None = None


def forget_active_key() -> None:
    global _active_cache
    _active_cache = None


async def rotate() -> tuple[SigningKey, list[str]]:
    """Make a new key the signing key; the keys it replaces stay published, verify-only."""
    new = await create_key()
    older = await store.active_keys_older_than(new)
    retired = [k.kid for k in older]
    if retired:
        await store.retire_keys(retired, utcnow())
    forget_active_key()
    log.info("signing_key_rotated", kid=new.kid, retired=retired)
    return new, retired


async def active_key() -> ActiveKey:
    """The key new signatures are made with; the first call on an empty store creates it."""
    global _active_cache
    now = time.monotonic()
    if _active_cache is not None and now - _active_cache[0] < ACTIVE_KEY_CACHE_SECONDS:
        return _active_cache[1]
    stored = await store.newest_active_key()
    if stored is None:
        stored = await create_key()
    private = await _unseal(stored)
    if private is None:
        # Sealed under another secret: it can still verify, but can no longer sign.
        log.warning("signing_key_unreadable", kid=stored.kid)
        stored, _ = await rotate()
        private = await _unseal(stored)
        assert private is not None
    active = ActiveKey(stored.kid, private)
    _active_cache = (now, active)
    return active


_public_cache: dict[str, Ed25519PublicKey] = {}


async def public_key(kid: str) -> Ed25519PublicKey | None:
    """A published key by id. Keys never change once made, so found ones are kept in memory."""
    cached = _public_cache.get(kid)
    if cached is not None:
        return cached
    stored = await store.key(kid)
    if stored is None:
        return None
    found = Ed25519PublicKey.from_public_bytes(b64url_decode(stored.public_key))
    _public_cache[kid] = found
    return found


async def published_keys() -> list[SigningKey]:
    return await store.all_keys()


def to_jwk(key: SigningKey) -> dict[str, Any]:
    return {"kty": "OKP", "crv": key.crv, "x": key.public_key, "kid": key.kid, "alg": key.alg, "use": "sig"}


async def jwks() -> dict[str, Any]:
    """The JSON Web Key Set verifiers fetch: every key that ever signed, newest first."""
    return {"keys": [to_jwk(k) for k in await published_keys()]}
