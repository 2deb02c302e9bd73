"""The short secret printed on a dossier's receipt, with which anyone holding the receipt
follows the dossier without signing in (decision 0029).

Only an HMAC of it is stored, keyed by a key derived from SECRETS_KEY (app/sealing.py), so a
copy of the store cannot be searched for secrets offline: 40 bits would not resist that, and
need not resist more than the rate limits allow online. The HMAC covers the dossier's code,
so a secret is worth nothing on another dossier. Comparisons take constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from app import sealing
from models.dossier import READABLE_ALPHABET

PURPOSE = "tracking-secret"
# 8 characters of a 32-letter alphabet: 40 bits, short enough to type from paper.
LENGTH = 8
# Compared against when there is no stored HMAC, so an unknown code costs the same work.
_NOTHING = "0" * 64


def new_secret() -> str:
    """As printed: two groups of four, e.g. `K7QM-3XPA`."""
    raw = "".join(secrets.choice(READABLE_ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


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
