"""The receipt's secret: derived from the dossier and its moment of issue, only its HMAC kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import sealing
from app.config import Settings
from app.dossiers import tracking_secrets
from models.dossier import READABLE_ALPHABET

ISSUED = datetime(2026, 12, 2, 7, 30, 15, 123000, tzinfo=UTC)


@pytest.fixture
def secrets_key(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ring = ["first-secrets-key-0123456789-abcdefghij"]
    monkeypatch.setattr(
        sealing, "get_settings", lambda: Settings(secrets_key=ring[0], secrets_key_previous=",".join(ring[1:]))
    )
    return ring


def test_a_replay_shows_the_secret_the_first_answer_showed(secrets_key: list[str]) -> None:
    secret, stored = tracking_secrets.issue("HS-2612-ABCD", ISSUED)
    assert secret not in stored and tracking_secrets.matches("HS-2612-ABCD", secret, stored)
    assert len(secret) == 9 and secret[4] == "-" and set(secret.replace("-", "")) <= set(READABLE_ALPHABET)
    # The store hands the moment back without its zone: the same secret.
    assert tracking_secrets.shown("HS-2612-ABCD", ISSUED.replace(tzinfo=None), stored) == secret
    # Another dossier or another moment gives another secret, which the stored HMAC refuses.
    other, _ = tracking_secrets.issue("HS-2612-ABCE", ISSUED)
    later, _ = tracking_secrets.issue("HS-2612-ABCD", ISSUED + timedelta(milliseconds=1))
    assert secret not in (other, later)
    assert not tracking_secrets.matches("HS-2612-ABCD", other, stored)
    assert tracking_secrets.shown("HS-2612-ABCD", None, stored) is None


def test_after_a_key_rotation_the_old_secret_still_works_and_is_still_shown(secrets_key: list[str]) -> None:
    secret, stored = tracking_secrets.issue("HS-2612-ABCD", ISSUED)
    secrets_key.insert(0, "second-secrets-key-0123456789-abcdefghij")
    assert tracking_secrets.matches("HS-2612-ABCD", secret, stored)
    assert tracking_secrets.shown("HS-2612-ABCD", ISSUED, stored) == secret
    secrets_key.pop()  # the first key leaves the ring: the secret stops working
    assert not tracking_secrets.matches("HS-2612-ABCD", secret, stored)
    assert tracking_secrets.shown("HS-2612-ABCD", ISSUED, stored) is None
