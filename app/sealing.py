"""Secrets the server must read back (wallet signing keys, staff TOTP secrets), sealed at
rest with AES-GCM under a key derived from SECRETS_KEY, which lives outside the store.

A copy of the store (a backup, a stolen disk) therefore holds no usable secret. Each purpose
derives its own key, and each sealed value is bound to a context (the record it belongs to),
so a sealed value moved to another record or purpose does not open. Tokens are signed with
JWT_SECRET, a different secret: rotating one leaves the other's data readable.
"""

from __future__ import annotations

import base64
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


def purpose_key(purpose: str) -> bytes:
    secret = get_settings().secrets_key.encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"cwallet/{purpose}".encode()).derive(secret)


def key_id(key: bytes) -> str:
    """Names the key a value was sealed under without revealing it: a value sealed under
    another SECRETS_KEY is told apart from a tampered one."""
    return hashlib.sha256(b"wrap-key-id:" + key).hexdigest()[:16]


def seal(purpose: str, plaintext: bytes, context: str) -> str:
    """`<key id>.<nonce + ciphertext>`, both URL-safe base64."""
    key = purpose_key(purpose)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return f"{key_id(key)}.{_b64(nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode()))}"


def unseal(purpose: str, sealed: str, context: str) -> bytes | None:
    """The plaintext; None when it was sealed under another key, for another context, or altered."""
    kid, _, body = sealed.partition(".")
    key = purpose_key(purpose)
    if kid != key_id(key) or not body:
        return None
    raw = _unb64(body)
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except InvalidTag:
        return None
