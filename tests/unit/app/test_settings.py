"""Settings a newcomer and an operator meet: a second terminal finds the running `make run`
through .local/stack.env (never in production, never a stopped stack, never over a variable
that is set), and production refuses to push without FCM credentials."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from app.config import InsecureSettings, Settings, get_settings, require_production_secrets

PRODUCTION_SECRETS = {"jwt_secret": "j" * 40, "secrets_key": "s" * 40, "payment_secret": "p" * 40}


def _write_stack_file(local: Path, pid: int, **values: str) -> None:
    local.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={shlex.quote(v)}" for k, v in {**values, "CWALLET_STACK_PID": str(pid)}.items()]
    (local / "stack.env").write_text("# comment line\n" + "\n".join(lines) + "\n")


def _settings(monkeypatch: pytest.MonkeyPatch, local: Path, **env: str) -> Settings:
    for name in ("MONGODB_URL", "MONGODB_DB", "REDIS_URL", "ENVIRONMENT", "QUEUE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CWALLET_LOCAL_DIR", str(local))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return get_settings()
    finally:
        get_settings.cache_clear()


def _reaped_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_second_terminal_finds_the_running_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = "mongodb://127.0.0.1:41234/?directConnection=true"
    _write_stack_file(tmp_path, os.getpid(), MONGODB_URL=url, QUEUE_NAME="cwallet:mine", API_URL="http://x")
    settings = _settings(monkeypatch, tmp_path)
    assert settings.mongodb_url == url and settings.queue_name == "cwallet:mine"
    # A variable set in the environment wins over the file.
    assert _settings(monkeypatch, tmp_path, QUEUE_NAME="cwallet:other").queue_name == "cwallet:other"


def test_production_and_other_environments_never_read_the_stack_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write_stack_file(tmp_path, os.getpid(), MONGODB_URL="mongodb://127.0.0.1:41234/")
    assert _settings(monkeypatch, tmp_path, ENVIRONMENT="production").mongodb_url is None
    assert _settings(monkeypatch, tmp_path, ENVIRONMENT="test").mongodb_url is None


def test_a_stopped_stack_is_not_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _write_stack_file(tmp_path, _reaped_pid(), MONGODB_URL="mongodb://127.0.0.1:41234/")
    assert _settings(monkeypatch, tmp_path).mongodb_url is None
    assert _settings(monkeypatch, tmp_path / "nothing-here").mongodb_url is None


def test_production_refuses_to_push_without_fcm_credentials() -> None:
    with pytest.raises(InsecureSettings) as refused:
        require_production_secrets(Settings(environment="production", **PRODUCTION_SECRETS))
    assert "FCM_CREDENTIALS" in str(refused.value)
    # Credentials, or a push server named on purpose (the emulator), are enough.
    require_production_secrets(
        Settings(environment="production", fcm_credentials="/run/secrets/fcm.json", **PRODUCTION_SECRETS)
    )
    require_production_secrets(
        Settings(environment="production", fcm_endpoint="http://fcm-emulator:9099", **PRODUCTION_SECRETS)
    )
    require_production_secrets(Settings())  # development needs neither
