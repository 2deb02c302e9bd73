"""Signing deliveries the Standard Webhooks way, so receivers can use its libraries as they are.

Headers: `webhook-id` (the event id, the same on every attempt and replay: the receiver's
dedupe key), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`,
`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per secret in force separated by
spaces (during a rotation, the new secret's and the old one's). Secrets are `whsec_` + the
base64 of 32 random bytes; the HMAC key is those bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from app import sealing

PREFIX = "whsec_"
SEAL_PURPOSE = "webhook-secret"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, event_id: str, timestamp: int, body: str) -> str:
    digest = hmac.new(_key(secret), f"{event_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_in_force: list[str], event_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, event_id, timestamp, body) for s in secrets_in_force),
        "content-type": "application/json",
    }


def seal(secret: str, subscription_id: str) -> str:
    # Bound to the subscription: a sealed secret copied onto another subscription does not open.
    return sealing.seal(SEAL_PURPOSE, secret.encode(), f"webhook:{subscription_id}")


def unseal(sealed: str, subscription_id: str) -> str | None:
    plain = sealing.unseal(SEAL_PURPOSE, sealed, f"webhook:{subscription_id}")
    return plain.decode() if plain is not None else None
