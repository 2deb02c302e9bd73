"""Known-device tokens (OWASP's "device cookies"): proof that this device has signed in to this
account before, so that strangers' failed guesses cannot lock the citizen out.

A successful citizen sign-in answers a `device_token`; the app keeps it and sends it with its
next sign-ins. It is bound to the account and signed (HMAC with a key derived from JWT_SECRET),
holds no personal data, and is not a credential: the password is still checked. A sign-in that
carries a valid one is throttled per device (its own small window) instead of by the account's
and the address's windows, which strangers fill. Why: docs/decisions/0018-sign-in-throttling.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from time import time

from app.config import Settings

VERSION = "kd1"


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(b"cwallet known-device token|" + settings.jwt_secret.encode()).digest()


def _mac(settings: Settings, account: str, nonce: str, expires: int) -> str:
    digest = hmac.new(_key(settings), f"{account}|{nonce}|{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def issue(settings: Settings, account: str) -> str:
    """A new token for this device and account (`account` as app.auth.throttle.account_of says)."""
    nonce = secrets.token_urlsafe(12)
    expires = int(time()) + settings.known_device_days * 86400
    return f"{VERSION}.{nonce}.{expires}.{_mac(settings, account, nonce, expires)}"


def device_of(settings: Settings, account: str, token: object) -> str | None:
    """The device's id (the token's nonce) when the token is one we issued for this account
    and still good; None otherwise (then the sign-in is a stranger's)."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != VERSION or not parts[2].isdigit():
        return None
    _, nonce, expires, mac = parts
    if int(expires) < time() or not hmac.compare_digest(mac, _mac(settings, account, nonce, int(expires))):
        return None
    return nonce
