"""SECRETS_KEY rotates with a ring: after the switch, staff sealed under the old key still sign
in and the wallet still signs, and each secret is sealed again under the new key as it is read."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from app import sealing
from app.auth.totp import TOTP_PURPOSE
from app.config import get_settings
from app.wallet import keys
from tests.integration.identity.helpers import new_staff


@contextmanager
def secrets_key(current: str, previous: str) -> Iterator[None]:
    """The API (in this process) reads SECRETS_KEY and SECRETS_KEY_PREVIOUS as given."""
    saved = {name: os.environ.get(name) for name in ("SECRETS_KEY", "SECRETS_KEY_PREVIOUS")}
    os.environ.update({"SECRETS_KEY": current, "SECRETS_KEY_PREVIOUS": previous})
    get_settings.cache_clear()
    keys.forget_active_key()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        keys.forget_active_key()


def sealed_under(sealed: str, purpose: str) -> str:
    """Which key of the ring a stored seal names: 'current', 'previous' or 'unknown'."""
    kid = sealed.partition(".")[0]
    ring = [sealing.key_id(k) for k in sealing.ring(purpose)]
    return "current" if kid == ring[0] else "previous" if kid in ring else "unknown"


async def test_after_rotation_old_secrets_open_and_are_resealed(api: httpx.AsyncClient) -> None:
    from models.agency import Staff
    from models.signing_key import SigningKey

    old_key = get_settings().secrets_key
    member, left_behind = await new_staff("support"), await new_staff("support")
    signing = await keys.active_key()
    new_key = secrets.token_urlsafe(32)

    with secrets_key(new_key, old_key):
        stored = await Staff.get_pymongo_collection().find_one({"username": member.username})
        assert stored is not None and sealed_under(stored["totp_secret_sealed"], TOTP_PURPOSE) == "previous"
        answer = await api.post("/api/v1/staff/token", json=member.login_body())
        assert answer.status_code == 200, answer.text
        resealed = await Staff.get_pymongo_collection().find_one({"username": member.username})
        assert resealed is not None and sealed_under(resealed["totp_secret_sealed"], TOTP_PURPOSE) == "current"
        assert member.totp_secret not in str(resealed)

        # The wallet's signing key opens too (no new key needed), and is sealed again.
        assert (await keys.active_key()).kid == signing.kid
        key = await SigningKey.find_one(SigningKey.kid == signing.kid)
        assert key is not None and sealed_under(key.private_key_sealed, keys._WRAP_PURPOSE) == "current"

    # Without the ring an old seal does not open: the previous key is what let the first one in.
    with secrets_key(new_key, ""):
        refused = await api.post(
            "/api/v1/staff/token", json=left_behind.login_body(), headers={"Accept-Language": "en"}
        )
        assert refused.status_code == 403 and refused.json()["code"] == "otp-not-set-up"

    # Back to the suite's key (the same ring, the other way round): the signing key returns with it.
    with secrets_key(old_key, new_key):
        assert (await keys.active_key()).kid == signing.kid
        key = await SigningKey.find_one(SigningKey.kid == signing.kid)
        assert key is not None and sealed_under(key.private_key_sealed, keys._WRAP_PURPOSE) == "current"
