"""Secrets kept in the store are sealed under SECRETS_KEY: a copy of the store opens nothing."""

from __future__ import annotations

import pytest

from app import sealing
from app.auth.totp import open_totp_secret, seal_totp_secret
from app.config import Settings


@pytest.fixture
def secrets_key(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    current = ["first-secrets-key-0123456789-abcdefghij"]
    monkeypatch.setattr(
        sealing, "get_settings", lambda: Settings(secrets_key=current[0], secrets_key_previous=",".join(current[1:]))
    )
    return current


def test_a_sealed_secret_opens_only_for_its_record_purpose_and_key(secrets_key: list[str]) -> None:
    sealed = seal_totp_secret("staff.an", "JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert open_totp_secret("staff.an", sealed) == ("JBSWY3DPEHPK3PXP", None)
    # Moved onto another staff member's record, or read as another kind of secret: nothing.
    assert open_totp_secret("staff.binh", sealed) == (None, None)
    assert sealing.unseal("signing-key-wrap/v1", sealed, "staff.an") is None
    # Altered in the store: nothing.
    kid, body = sealed.split(".")
    altered = f"{kid}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}"
    assert open_totp_secret("staff.an", altered) == (None, None)
    # Under another SECRETS_KEY (a stolen copy of the store, or a rotated key): nothing.
    secrets_key[0] = "second-secrets-key-0123456789-abcdefghij"
    assert open_totp_secret("staff.an", sealed) == (None, None)


def test_a_rotated_key_stays_in_the_ring_and_its_seals_are_renewed(secrets_key: list[str]) -> None:
    sealed = seal_totp_secret("staff.an", "JBSWY3DPEHPK3PXP")
    secrets_key[:] = ["second-secrets-key-0123456789-abcdefghij", "first-secrets-key-0123456789-abcdefghij"]
    secret, resealed = open_totp_secret("staff.an", sealed)
    assert secret == "JBSWY3DPEHPK3PXP" and resealed is not None
    assert (
        resealed.partition(".")[0] == sealing.key_id(sealing.purpose_key("staff-totp/v1")) != sealed.partition(".")[0]
    )
    # The new seal opens without the old key; the old one needs it.
    secrets_key[:] = secrets_key[:1]
    assert open_totp_secret("staff.an", resealed) == ("JBSWY3DPEHPK3PXP", None)
    assert open_totp_secret("staff.an", sealed) == (None, None)


def test_the_same_secret_seals_differently_each_time(secrets_key: list[str]) -> None:
    assert seal_totp_secret("staff.an", "JBSWY3DPEHPK3PXP") != seal_totp_secret("staff.an", "JBSWY3DPEHPK3PXP")


def test_production_refuses_development_secrets_and_names_them() -> None:
    from app.config import InsecureSettings, require_production_secrets

    require_production_secrets(Settings())  # development: the defaults are fine
    with pytest.raises(InsecureSettings) as refused:
        require_production_secrets(Settings(environment="production", jwt_secret="a-long-random-value-0123456789"))
    assert "SECRETS_KEY, PAYMENT_SECRET" in str(refused.value) and "JWT_SECRET" not in str(refused.value)
    require_production_secrets(
        Settings(
            environment="production",
            jwt_secret="j" * 40,
            secrets_key="s" * 40,
            payment_secret="p" * 40,
            fcm_credentials="/run/secrets/fcm.json",
        )
    )
