"""Time-based one-time codes (RFC 6238) for staff: 6 digits, 30-second steps."""

from __future__ import annotations

import hmac
import time

import pyotp

from app import sealing

ISSUER_NAME = "Citizen Wallet"
STEP_SECONDS = 30
# A code from the step before or after is still taken: phone clocks drift, people type slowly.
DRIFT_STEPS = 1


# The sealing purpose of staff TOTP secrets (app/sealing.py); the username is the context.
TOTP_PURPOSE = "staff-totp/v1"


def new_secret() -> str:
    return pyotp.random_base32()


def seal_totp_secret(username: str, secret: str) -> str:
    return sealing.seal(TOTP_PURPOSE, secret.encode(), username)


def open_totp_secret(username: str, sealed: str) -> tuple[str | None, str | None]:
    """The secret (None when no key of the SECRETS_KEY ring sealed it, or it was altered), and
    its new seal when it was sealed under an earlier key."""
    opened, resealed = sealing.open_current(TOTP_PURPOSE, sealed, username)
    return (opened.decode() if opened is not None else None), resealed


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER_NAME)


def accepted_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step `code` belongs to (within the drift allowed), or None."""
    code = code.strip()
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
