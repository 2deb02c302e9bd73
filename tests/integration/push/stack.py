"""A private copy of the system for the tests that break things: its own database, queue,
API process and worker processes, and, when asked, its own store, Redis and FCM emulator.
Killing its worker or restarting its Redis or store touches nothing the rest of the suite uses."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from pymongo import AsyncMongoClient

from devtools.devstack import (
    ManagedProcess,
    free_port,
    http_answers,
    start_embedded_mongo,
    start_process,
    start_redis,
    wait_until,
)

REPO_ROOT = Path(__file__).resolve().parents[3]

# Seeds the private database the way `cwallet` does: the catalogue, an admin, an agency.
_SEED = """
import asyncio, json, sys
from app import db
from app.catalogue.service import load_catalogue
from app.cli import create_agency, create_staff
from app.config import get_settings

async def main():
    client = await db.connect(get_settings())
    try:
        await load_catalogue()
        out = {"admin": await create_staff(sys.argv[1], "admin")}
        if len(sys.argv) > 2:
            out["agency"] = await create_agency(sys.argv[2], "Private test agency", sys.argv[3:], [])
        print(json.dumps(out))
    finally:
        await client.close()

asyncio.run(main())
"""


@dataclass
class PrivateStack:
    tmp: Path
    env: dict[str, str]
    api: ManagedProcess | None = None
    redis: ManagedProcess | None = None
    store: ManagedProcess | None = None
    emulator: ManagedProcess | None = None
    workers: list[ManagedProcess] = field(default_factory=list)
    seeded: dict[str, Any] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        assert self.api is not None and self.api.url is not None
        return self.api.url

    @property
    def emulator_url(self) -> str:
        return self.env["FCM_ENDPOINT"]

    def start_worker(self) -> ManagedProcess:
        number = len(self.workers) + 1
        proc = start_process(
            f"worker-{number}",
            [sys.executable, "-m", "workers"],
            self.env,
            self.tmp / f"worker-{number}.log",
        )
        self.workers.append(proc)
        return proc

    def wait_serving(self, proc: ManagedProcess, timeout: float = 60) -> None:
        """Until the worker polls its queue: arq's health mark, written by its first poll."""
        url, key = self.env["REDIS_URL"], f"{self.env['QUEUE_NAME']}:health-check"

        def marked() -> bool:
            with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
                return bool(client.exists(key))

        wait_until(proc, marked, "polling its queue", timeout)

    def kill(self, proc: ManagedProcess) -> None:
        """SIGKILL: no shutdown hook, no chance to finish or record anything."""
        os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.popen.wait(timeout=10)

    def start_redis(self, port: int | None = None) -> ManagedProcess:
        self.redis = start_redis(port, log_path=self.tmp / "redis.log")
        return self.redis

    def start_store(self, port: int | None = None) -> ManagedProcess:
        """The private store; started again on its old port, it finds its data where it left it."""
        self.store = start_embedded_mongo(self.tmp / "store", port, log_path=self.tmp / "store.log")
        return self.store

    def database(self) -> tuple[AsyncMongoClient[dict[str, Any]], Any]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.env["MONGODB_URL"], tz_aware=True)
        return client, client[self.env["MONGODB_DB"]]

    def stop(self) -> None:
        for proc in [*self.workers, self.api, self.emulator, self.redis, self.store]:
            if proc is not None:
                proc.stop(grace=5)


def start_stack(
    tmp: Path,
    *,
    mongo_url: str | None,
    redis_url: str | None,
    emulator_url: str | None,
    fcm_project_id: str,
    agency_code: str | None = None,
    emulator_args: tuple[str, ...] = (),
    overrides: dict[str, str] | None = None,
    database: str | None = None,
) -> PrivateStack:
    """Start the API (and the private store / Redis / emulator when their URL is None), seed
    the store; workers are started by the test (`start_worker`)."""
    run = secrets.token_hex(4)
    stack = PrivateStack(tmp, {})
    try:
        if mongo_url is None:
            mongo_url = stack.start_store().url
        if redis_url is None:
            redis_url = stack.start_redis().url
        if emulator_url is None:
            port = free_port()
            stack.emulator = start_process(
                "fcm-emulator",
                [
                    sys.executable,
                    "-m",
                    "devtools.fcm_emulator",
                    "--port",
                    str(port),
                    "--project-id",
                    fcm_project_id,
                    *emulator_args,
                ],
                None,
                tmp / "fcm.log",
                url=f"http://127.0.0.1:{port}",
            )
            emulator_url = stack.emulator.url
            wait_until(stack.emulator, lambda: http_answers(f"{emulator_url}/emulator/health"), "health answering")
        assert mongo_url is not None and redis_url is not None and emulator_url is not None
        stack.env = {
            **os.environ,
            "MONGODB_URL": mongo_url,
            "MONGODB_DB": database or f"cwallet_private_{run}",
            "REDIS_URL": redis_url,
            "QUEUE_NAME": f"cwallet:private:{run}",
            "FCM_PROJECT_ID": fcm_project_id,
            "FCM_ENDPOINT": emulator_url,
            "JWT_SECRET": secrets.token_urlsafe(32),
            "ENVIRONMENT": "test",
            # Recovery in seconds, not minutes: what a crash leaves is taken over quickly.
            "SWEEP_EVERY_SECONDS": "2",
            "SWEEP_GRACE_SECONDS": "3",
            **(overrides or {}),
        }
        api_port = free_port()
        stack.api = start_process(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "app.main:create_app",
                "--port",
                str(api_port),
                "--no-proxy-headers",
            ],
            stack.env,
            tmp / "api.log",
            url=f"http://127.0.0.1:{api_port}",
        )
        args = [f"admin.{run}", *([agency_code, "RESIDENCE_REGISTRATION"] if agency_code else [])]
        seeded = subprocess.run(
            [sys.executable, "-c", _SEED, *args],
            env=stack.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        stack.seeded = json.loads(seeded.stdout.strip().splitlines()[-1])
        wait_until(stack.api, lambda: http_answers(f"{stack.api_url}/health/live"), "the API answering", 60)
    except BaseException:
        stack.stop()
        raise
    return stack


async def admin_headers(client: httpx.AsyncClient, stack: PrivateStack) -> dict[str, str]:
    from tests.integration.push.conftest import admin_token

    creds = stack.seeded["admin"]
    token = await admin_token(client, creds["username"], creds["password"], creds.get("totp_secret"))
    return {"Authorization": f"Bearer {token}"}


async def agency_headers(client: httpx.AsyncClient, stack: PrivateStack) -> dict[str, str]:
    creds = stack.seeded["agency"]
    answer = await client.post(
        "/api/v1/agency/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
