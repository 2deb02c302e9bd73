"""A second API process with small request limits, one trusted proxy address and no
METRICS_TOKEN, sharing the store and Redis with the in-process `api`; and clients that speak
to a real process from an address of their own (any 127.x.y.z is this machine), so each test
starts from clean per-address windows."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from devtools.devstack import ManagedProcess, free_port, http_answers, start_process, wait_until

# The strict process's limits, per minute: signed-in caller, agency, anyone else per address.
SIGNED_IN_LIMIT, AGENCY_LIMIT, ADDRESS_LIMIT = 5, 7, 6
# Failed sign-ins per address and minute there.
SIGN_IN_ADDRESS_LIMIT = 3


def loopback_address() -> str:
    return f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"


# The one address the strict process believes forwarded headers from.
PROXY_ADDRESS = loopback_address()


@asynccontextmanager
async def client_at(url: str, source: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real API process, connecting from `source` (a fresh address by default)."""
    transport = httpx.AsyncHTTPTransport(local_address=source or loopback_address())
    async with httpx.AsyncClient(transport=transport, base_url=url, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def strict_api(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **stack_env,
        "REQUESTS_PER_MINUTE_SIGNED_IN": str(SIGNED_IN_LIMIT),
        "REQUESTS_PER_MINUTE_AGENCY": str(AGENCY_LIMIT),
        "REQUESTS_PER_MINUTE_PER_ADDRESS": str(ADDRESS_LIMIT),
        "TRUSTED_PROXIES": f"{PROXY_ADDRESS}/32",
        "FAILED_SIGN_INS_PER_ADDRESS_MINUTE": str(SIGN_IN_ADDRESS_LIMIT),
        "METRICS_TOKEN": "",
    }
    log_path: Path = tmp_path_factory.mktemp("strict-api") / "api.log"
    argv = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"]  # fmt: skip
    proc = start_process("strict-api", argv, env, log_path, url=url)
    try:
        wait_until(proc, lambda: http_answers(f"{url}/health/live"), "/health/live", 60)
        yield proc
    finally:
        proc.stop()
