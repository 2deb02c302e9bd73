"""The short secret printed on a dossier's receipt, with which anyone holding the receipt
follows the dossier without signing in (decision 0029).

Only an HMAC of it is stored, keyed by a key derived from SECRETS_KEY (app/sealing.py), so a
copy of the store cannot be searched for secrets offline: 40 bits would not resist that, and
need not resist more than the rate limits allow online. The HMAC covers the dossier's code,
so a secret is worth nothing on another dossier. Comparisons take constant time.

The secret itself is derived, with a second key of the ring, from the dossier's code and the
moment it was issued: the store keeps nothing readable, yet an Idempotency-Key replay of the
submission can answer with the same secret as the first answer (which may never have
arrived: that is when clients retry).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from app import sealing
from models.dossier import READABLE_ALPHABET

PURPOSE = "tracking-secret"
ISSUE_PURPOSE = "tracking-secret-issue"
# 8 characters of a 32-letter alphabet: 40 bits, short enough to type from paper.
LENGTH = 8
# Compared against when there is no stored HMAC, so an unknown code costs the same work.
_NOTHING = "0" * 64


def _derived(key: bytes, code: str, issued_at: datetime) -> str:
    """As printed: two groups of four, e.g. `K7QM-3XPA` (5 bits a letter)."""
    moment = (issued_at if issued_at.tzinfo else issued_at.replace(tzinfo=UTC)).astimezone(UTC)
    message = f"{code}\n{moment.isoformat(timespec='milliseconds')}".encode()
    bits = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:5], "big")
    raw = "".join(READABLE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def issue(code: str, issued_at: datetime) -> tuple[str, str]:
    """The secret for a dossier issued at this moment (a millisecond, as the store keeps it),
    and the HMAC to store."""
    secret = _derived(sealing.ring(ISSUE_PURPOSE)[0], code, issued_at)
    return secret, secret_hash(code, secret)


def shown(code: str, issued_at: datetime | None, stored: str | None) -> str | None:
    """The dossier's current secret, derived again for an answer that repeats the one that
    issued it; None for a dossier that has none."""
    if issued_at is None or stored is None:
        return None
    for key in sealing.ring(ISSUE_PURPOSE):  # issued under an earlier SECRETS_KEY: still shown
        secret = _derived(key, code, issued_at)
        if matches(code, secret, stored):
            return secret
    return None


def normalized(secret: str) -> str:
    """What was typed, as it is hashed: case, spaces and dashes do not matter."""
    return "".join(secret.split()).replace("-", "").upper()


def _digest(key: bytes, code: str, secret: str) -> str:
    return hmac.new(key, f"{code}\n{normalized(secret)}".encode(), hashlib.sha256).hexdigest()


def secret_hash(code: str, secret: str) -> str:
    return _digest(sealing.ring(PURPOSE)[0], code, secret)


def matches(code: str, secret: str, stored: str | None) -> bool:
    """True when `secret` is the one issued for `code`, under the current SECRETS_KEY or an
    earlier one of the ring. Every key is tried, whatever the outcome, in constant time."""
    found = False
    for key in sealing.ring(PURPOSE):
        found |= hmac.compare_digest(_digest(key, code, secret), stored or _NOTHING)
    return found and stored is not None
