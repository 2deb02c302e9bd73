"""Real servers for the integration suite: the embedded store, Redis, the FCM emulator and an
arq worker process, started once per test session and stopped at its end.

Each session uses its own database name and queue name, so runs never see each other's data
or jobs, even against a shared Redis.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

# A `make run` up in this checkout must not lend the suite its settings (app/config.py reads
# its .local/stack.env when a variable is unset): the suite's processes look elsewhere.
os.environ["CWALLET_LOCAL_DIR"] = str(Path(__file__).resolve().parents[1] / ".local" / "test-logs" / "no-stack")

from devtools.devstack import (  # after the line above: LOCAL_DIR reads it
    ManagedProcess,
    free_port,
    redis_answers,
    start_embedded_mongo,
    start_fcm_emulator,
    start_payment_simulator,
    start_process,
    start_sms_emulator,
    wait_until,
)
from tests.support import LOG_FILES, SEEN_SECRETS, find_leaks

REPO_ROOT = Path(__file__).resolve().parents[1]
RUN_ID = secrets.token_hex(4)
API_LOG = REPO_ROOT / ".local" / "test-logs" / f"api-{RUN_ID}.log"
API_LOG.parent.mkdir(parents=True, exist_ok=True)
LOG_FILES.append(API_LOG)
FCM_PROJECT_ID = "cwallet-test"
PAYMENT_SECRET = secrets.token_urlsafe(32)
CALLBACK_API_PORT = free_port()
METRICS_TOKEN = secrets.token_urlsafe(16)
# The SMS emulator starts only for the tests that ask for it (`sms_emulator`); its address is
# fixed now, so the API and the worker know it from the start.
SMS_PORT = free_port()
SMS_API_KEY = secrets.token_urlsafe(16)

# Property tests: in CI (.ci/run sets CI=true) the same examples every run, so a red build is
# reproducible and a green one did not pass by luck of the draw; no per-example deadline on a
# shared 2-core machine. Locally, random draws (HYPOTHESIS_PROFILE=ci to replay CI's).
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)
# The per-test timeout is pyproject's `timeout`; tests marked slow get this instead.
SLOW_TEST_TIMEOUT_SECONDS = 600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TEST_TIMEOUT_SECONDS))


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TEST_MONGODB_URL")
    if external:
        yield external
        return
    proc = start_embedded_mongo(tmp_path_factory.mktemp("mongo"))
    assert proc.url is not None
    try:
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if not redis_answers(url):
        pytest.exit(f"Redis does not answer at {url}: run the suite with `make test`, which starts one", 2)
    return url


@pytest.fixture(scope="session")
def fcm_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    proc = start_fcm_emulator(project_id=FCM_PROJECT_ID, log_path=tmp_path_factory.mktemp("fcm") / "fcm.log")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def payment_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    """The local payment provider; it calls back the API served by the `callback_api` fixture."""
    proc = start_payment_simulator(PAYMENT_SECRET, log_path=tmp_path_factory.mktemp("payments") / "payments.log")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def sms_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    proc = start_sms_emulator(SMS_API_KEY, SMS_PORT, log_path=tmp_path_factory.mktemp("sms") / "sms.log")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def stack_env(
    mongo_url: str, redis_url: str, fcm_emulator: ManagedProcess, payment_simulator: ManagedProcess
) -> Iterator[dict[str, str]]:
    """The environment the API (in-process) and the worker (a child process) share."""
    env = {
        "MONGODB_URL": mongo_url,
        "MONGODB_DB": f"cwallet_test_{RUN_ID}",
        "REDIS_URL": redis_url,
        "QUEUE_NAME": f"cwallet:test:{RUN_ID}",
        "FCM_PROJECT_ID": FCM_PROJECT_ID,
        "FCM_ENDPOINT": fcm_emulator.url or "",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "SECRETS_KEY": secrets.token_urlsafe(32),
        "ENVIRONMENT": "test",
        "PAYMENT_PROVIDER_URL": payment_simulator.url or "",
        "PAYMENT_SECRET": PAYMENT_SECRET,
        # The simulator calls back an API process on this port (tests/integration/dossiers/conftest.py).
        "PAYMENT_NOTIFY_URL": f"http://127.0.0.1:{CALLBACK_API_PORT}/api/v1/payments/callback",
        # Every API process of the run appends its JSON logs here, for the log scan.
        "LOG_FILE": str(API_LOG),
        # Prometheus's bearer token for /metrics (unset, /metrics is not served).
        "METRICS_TOKEN": METRICS_TOKEN,
        # The in-process client is one address (and a few tokens) for the whole suite: request
        # limits are tested on a process of their own (tests/integration/hardening).
        "REQUESTS_PER_MINUTE_SIGNED_IN": "100000",
        "REQUESTS_PER_MINUTE_AGENCY": "100000",
        "REQUESTS_PER_MINUTE_PER_ADDRESS": "100000",
        # Webhook receivers of the tests listen on 127.0.0.1 (the refusal itself is tested
        # with its own settings); short timeouts and retries keep those tests quick.
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "WEBHOOK_TIMEOUT_SECONDS": "1",
        "WEBHOOK_RETRY_BASE_SECONDS": "0.3",
        "SMS_PROVIDER_URL": f"http://127.0.0.1:{SMS_PORT}",
        "SMS_API_KEY": SMS_API_KEY,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from app.config import get_settings

    get_settings.cache_clear()
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_any_log() -> Iterator[None]:
    """After the whole run: nothing the API or the workers logged holds a national ID number,
    a phone number, a password, a token or a secret that the tests handed to the system."""
    yield
    leaks = find_leaks(LOG_FILES, SEEN_SECRETS)
    if leaks:
        pytest.fail(f"personal data or secrets in the logs: {leaks[:5]}", pytrace=False)


@pytest.fixture(scope="session")
def worker(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    """A real arq worker process running workers.settings.WorkerSettings."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    proc = start_process(
        "worker",
        [sys.executable, "-m", "workers"],
        {**os.environ, **stack_env},
        log_path,
    )
    LOG_FILES.append(log_path)  # part of what the suite logged: the log scan reads it
    try:
        # Ready once it polls the queue (arq's health-check key): on a loaded machine starting
        # takes a while, and the tests' delivery deadlines must not include it.
        wait_until(proc, lambda: _redis_has(stack_env["REDIS_URL"], f"{stack_env['QUEUE_NAME']}:health-check"),
                   "the worker's first poll of the queue", 120)  # fmt: skip
        yield proc
    finally:
        proc.stop()


def _redis_has(url: str, key: str) -> bool:
    import redis

    with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
        return bool(client.exists(key))


@pytest.fixture(scope="session")
async def api(stack_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The real Litestar app with its lifespan, spoken to over ASGI on the test's own event loop
    (PyMongo's async client is bound to the loop it was made on)."""
    from app.config import get_settings
    from app.main import create_app

    app = create_app(get_settings())
    started, stop = asyncio.Event(), asyncio.Event()

    # The lifespan is entered and left in one task of its own: pytest-asyncio sets a fixture
    # up and tears it down in different tasks, which anyio's task groups do not allow.
    async def hold_lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    holder = asyncio.create_task(hold_lifespan())
    await asyncio.wait([holder, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if holder.done():
        holder.result()  # the lifespan failed: raise its error
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cwallet.test") as client:
            await _seed_catalogue()
            yield client
    finally:
        stop.set()
        await holder


async def _seed_catalogue() -> None:
    from app.catalogue.service import load_catalogue

    await load_catalogue()


@pytest.fixture
async def emulator(fcm_emulator: ManagedProcess) -> AsyncIterator[httpx.AsyncClient]:
    """The session's FCM emulator; a fault a test sets on a token is lifted when the test ends.
    A fault that outlived its test made another test's broadcast to the same province (ID
    numbers take random real province codes) retry that phone past its deadline."""
    faulted: list[str] = []

    async def remember_fault(request: httpx.Request) -> None:
        if request.method == "PUT" and request.url.path.startswith("/emulator/tokens/"):
            faulted.append(request.url.path)

    async with httpx.AsyncClient(
        base_url=fcm_emulator.url or "", timeout=10, event_hooks={"request": [remember_fault]}
    ) as client:
        yield client
        for path in faulted:
            await client.delete(path)
