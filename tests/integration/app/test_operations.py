"""What operators rely on: health, the API docs, the CLI, and logs free of personal data."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.devstack import ManagedProcess
from tests.support import settled_notifications, submit_residence


async def test_health_and_docs(api: httpx.AsyncClient) -> None:
    assert (await api.get("/health/live")).json() == {"status": "ok"}
    ready = await api.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "store": "ok", "redis": "ok"}
    schema = (await api.get("/schema/openapi.json")).json()
    for path in ("/api/v1/citizens", "/api/v1/me/dossiers", "/api/v1/agency/dossiers/{code}/events"):
        assert path in schema["paths"]
    assert (await api.get("/schema/swagger")).status_code == 200


async def test_cli_creates_an_agency_that_can_sign_in(api: httpx.AsyncClient, stack_env: dict[str, str]) -> None:
    code = f"CLI{os.getpid() % 1000}{id(api) % 1000}"
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "app.cli",
            "agency",
            "create",
            "--code",
            code,
            "--name",
            "Công an tỉnh",
            "--service",
            "CRIMINAL_RECORD",
        ],
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    creds = json.loads(done.stdout)
    token = await api.post(
        "/api/v1/agency/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    assert token.status_code == 200
    again = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "app.cli",
            "agency",
            "create",
            "--code",
            code,
            "--name",
            "x",
            "--service",
            "CRIMINAL_RECORD",
        ],
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode != 0 and "already exists" in again.stderr


@pytest.mark.usefixtures("worker")
async def test_logs_carry_no_personal_data_or_tokens(
    api: httpx.AsyncClient,
    make_citizen: Any,
    make_agency: Any,
    worker: ManagedProcess,
    stack_env: dict[str, str],
) -> None:
    citizen = await make_citizen(devices=1)
    agency = await make_agency(["RESIDENCE_REGISTRATION"])
    code = await submit_residence(api, citizen)
    await api.post(
        f"/api/v1/agency/dossiers/{code}/events",
        json={"event_id": f"e-{code}", "status": "received"},
        headers=agency.headers,
    )
    await api.get("/api/v1/agency/dossiers", headers=agency.headers)
    await api.post("/api/v1/auth/token", json={"username": citizen.national_id, "password": "wrong wrong wrong"})
    # Both pushes sent (submitted, received): the worker has done, and logged, its part.
    await settled_notifications(citizen.id, 2)

    async def read_logs() -> str:
        api_log = await asyncio.to_thread(Path(stack_env["LOG_FILE"]).read_text, errors="replace")
        return api_log + await asyncio.to_thread(worker.log_path.read_text, errors="replace")

    logged = await read_logs()
    for _ in range(100):  # the worker's log line may reach the file just after the store
        if "notification_attempt" in logged:
            break
        await asyncio.sleep(0.1)
        logged = await read_logs()
    # Both the API and the worker did log: the scan below is not vacuous.
    assert "notification_attempt" in logged and "HTTP Response" in logged
    secrets = [
        citizen.national_id,
        citizen.phone,
        "+84" + citizen.phone[1:],
        citizen.password,
        citizen.access_token,
        citizen.refresh_token,
        agency.client_secret,
        agency.access_token,
        *citizen.device_tokens,
    ]
    for secret in secrets:
        assert secret not in logged
