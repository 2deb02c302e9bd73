"""Secrets the server must read back (wallet signing keys, staff TOTP secrets), sealed at
rest with AES-GCM under a key derived from SECRETS_KEY, which lives outside the store.

A copy of the store (a backup, a stolen disk) therefore holds no usable secret. Each purpose
derives its own key, and each sealed value is bound to a context (the record it belongs to),
so a sealed value moved to another record or purpose does not open. Tokens are signed with
JWT_SECRET, a different secret: rotating one leaves the other's data readable.

SECRETS_KEY rotates with a ring: the new value goes into SECRETS_KEY and the old ones into
SECRETS_KEY_PREVIOUS (comma-separated). A value sealed under an old key still opens, and
`open_current` hands back a copy sealed under the new key for the caller to store, so the
old key can leave the ring once every record sealed under it has been read (decision 0024).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import get_settings

NONCE_BYTES = 12


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=64)
def _derive(secret: str, purpose: str) -> bytes:
    # Remembered: a submission derived four keys (its receipt secret's two purposes, twice).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"cwallet/{purpose}".encode()).derive(
        secret.encode()
    )


def purpose_key(purpose: str) -> bytes:
    return _derive(get_settings().secrets_key, purpose)


def ring(purpose: str) -> list[bytes]:
    """The purpose's keys: the current one first, then those of SECRETS_KEY_PREVIOUS."""
    settings = get_settings()
    previous = [s.strip() for s in settings.secrets_key_previous.split(",") if s.strip()]
    return [_derive(secret, purpose) for secret in [settings.secrets_key, *previous]]


def key_id(key: bytes) -> str:
    """Names the key a value was sealed under without revealing it: a value sealed under
    another SECRETS_KEY is told apart from a tampered one."""
    return hashlib.sha256(b"wrap-key-id:" + key).hexdigest()[:16]


def seal(purpose: str, plaintext: bytes, context: str) -> str:
    """`<key id>.<nonce + ciphertext>`, both URL-safe base64."""
    key = purpose_key(purpose)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return f"{key_id(key)}.{_b64(nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode()))}"


def _open(key: bytes, body: str, context: str) -> bytes | None:
    raw = _unb64(body)
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except InvalidTag:
        return None


def unseal(purpose: str, sealed: str, context: str) -> bytes | None:
    """The plaintext; None when no key of the ring sealed it, it was for another context, or altered."""
    return open_current(purpose, sealed, context)[0]


def open_current(purpose: str, sealed: str, context: str) -> tuple[bytes | None, str | None]:
    """The plaintext, and when it was sealed under an earlier key of the ring, the same
    plaintext sealed under the current key (for the caller to store in place of the old)."""
    kid, _, body = sealed.partition(".")
    if not body:
        return None, None
    keys = ring(purpose)
    for position, key in enumerate(keys):
        if kid == key_id(key):
            plaintext = _open(key, body, context)
            if plaintext is None or position == 0:
                return plaintext, None
            return plaintext, seal(purpose, plaintext, context)
    return None, None
