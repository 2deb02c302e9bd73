"""Starting the real processes a scenario measures, each pinned to its CPU set.

The building blocks are the dev stack's (`devtools.devstack`): the same embedded store, FCM
emulator and process groups that `make run` and the test suite use, on free ports.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from bench import system
from devtools.devstack import (
    REPO_ROOT,
    DevStackError,
    ManagedProcess,
    free_port,
    http_answers,
    start_embedded_mongo,
    start_fcm_emulator,
    start_process,
    wait_until,
)

CEILING_TARGET = "bench.apps:create_ceiling_app"
RAW_READ_TARGET = "bench.apps:create_raw_read_app"
PEER_TARGET = "bench.peer:create_peer_app"
FCM_PROJECT_ID = "cwallet-bench"
DEFAULT_WORKER = "workers.settings.WorkerSettings"


@dataclass(frozen=True)
class Layout:
    """Which CPUs each kind of process may use. On two cores the default keeps the API
    (and the worker) on one core, and the load generator, the store and the emulator, which
    stand in for other machines, on the other."""

    server: frozenset[int]
    load: frozenset[int]
    store: frozenset[int]
    # The FCM emulator, which stands in for Google's servers; by default beside the store.
    emulator: frozenset[int] | None = None

    @property
    def fcm(self) -> frozenset[int]:
        return self.emulator if self.emulator is not None else self.store

    def describe(self) -> dict[str, str]:
        cpus = {name: getattr(self, name) for name in ("server", "load", "store")} | {"emulator": self.fcm}
        return {name: ",".join(map(str, sorted(chosen))) for name, chosen in cpus.items()}

    @staticmethod
    def default() -> Layout:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            one = frozenset(cpus)
            return Layout(one, one, one)
        half = len(cpus) // 2
        server, rest = frozenset(cpus[:half]), frozenset(cpus[half:])
        return Layout(server=server, load=rest, store=rest)


@dataclass(frozen=True)
class ServerOptions:
    server: str = "uvicorn"  # or granian
    workers: int = 1
    access_log: bool = False  # as the Dockerfile runs it (uvicorn defaults to True)

    def describe(self) -> dict[str, object]:
        return {"server": self.server, "workers": self.workers, "access_log": self.access_log}


def server_argv(options: ServerOptions, target: str, port: int) -> list[str]:
    """The command line of the ASGI server, as production would run it (bar host and port)."""
    if options.server == "uvicorn":
        argv = [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(options.workers), "--log-level", "warning", "--no-proxy-headers"]
        return argv + ([] if options.access_log else ["--no-access-log"])
    if options.server == "granian":
        if importlib.util.find_spec("granian") is None:
            raise DevStackError("granian is not installed: `uv pip install granian` (it is not a project dependency).")
        argv = [str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--factory", target]
        argv += [
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--log-level",
            "warning",
        ]
        return argv + (["--access-log"] if options.access_log else ["--no-access-log"])
    raise DevStackError(f"unknown server {options.server!r}: use uvicorn or granian")


@dataclass
class Stack:
    """The servers of one benchmark run; `close()` stops every process it started."""

    workdir: Path
    layout: Layout
    redis_url: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    secrets_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Appended to the store's URL for the processes measured (e.g. "maxPoolSize=20").
    mongo_options: str = ""
    # A MongoDB to measure instead of the embedded store (BENCH_MONGODB_URL); the run's
    # database in it is dropped at the end.
    external_store: str = field(default_factory=lambda: os.environ.get("BENCH_MONGODB_URL", ""))
    # A database already there in that store (BENCH_MONGODB_DB): measured as it is (the growth
    # scenario grows it from what it holds) and never dropped.
    existing_db: str = field(default_factory=lambda: os.environ.get("BENCH_MONGODB_DB", ""))
    store: ManagedProcess | None = None
    emulator: ManagedProcess | None = None
    _started: list[ManagedProcess] = field(default_factory=list)

    @property
    def db_name(self) -> str:
        return self.existing_db or f"bench_{self.run_id}"

    @property
    def queue_name(self) -> str:
        return f"cwallet:bench:{self.run_id}"

    def start_store(self, name: str = "mongo") -> str:
        if self.external_store:
            return self.external_store
        if self.store is None:
            self.store = start_embedded_mongo(self.workdir / name, log_path=self.workdir / f"{name}.log")
            self._started.append(self.store)
            system.pin(self.store.pid, set(self.layout.store))
        assert self.store.url is not None
        return self.store.url

    def start_emulator(self) -> str:
        if self.emulator is None:
            self.emulator = start_fcm_emulator(project_id=FCM_PROJECT_ID, log_path=self.workdir / "fcm.log")
            self._started.append(self.emulator)
            system.pin(self.emulator.pid, set(self.layout.fcm))
        assert self.emulator.url is not None
        return self.emulator.url

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "MONGODB_URL": with_options(self.start_store(), self.mongo_options),
                "MONGODB_DB": self.db_name,
                "REDIS_URL": self.redis_url,
                "QUEUE_NAME": self.queue_name,
                "FCM_PROJECT_ID": FCM_PROJECT_ID,
                "JWT_SECRET": self.jwt_secret,
                # Production refuses the development defaults (app/config.py).
                "SECRETS_KEY": self.secrets_key,
                "PAYMENT_SECRET": self.secrets_key[::-1],
                "ENVIRONMENT": "production",
                "REQUESTS_PER_MINUTE_AGENCY": "0",  # one agency token drives the worklist scenario
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.emulator is not None:
            env["FCM_ENDPOINT"] = self.emulator.url or ""
        return env

    def start_server(self, name: str, target: str, options: ServerOptions, ready_path: str) -> ManagedProcess:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = ["taskset", "-c", _cpus(self.layout.server), *server_argv(options, target, port)]
        proc = start_process(name, argv, self.env(), self.workdir / f"{name}.log", url=url)
        self._started.append(proc)
        wait_until(proc, lambda: http_answers(url + ready_path), f"{ready_path} answering", 60)
        return proc

    def start_worker(
        self, name: str = "worker", settings: str = DEFAULT_WORKER, *, checkout: Path | None = None, **env: str
    ) -> ManagedProcess:
        """`env`: settings of this worker alone (FCM_TRANSPORT=direct, ...); `checkout`: run the
        worker code of another checkout of this repository (a before/after in one run)."""
        argv = ["taskset", "-c", _cpus(self.layout.server), sys.executable, "-m", "workers", settings]
        log = self.workdir / f"{name}.log"
        proc = start_process(name, argv, {**self.env(), **env}, log, cwd=checkout or REPO_ROOT)
        self._started.append(proc)
        return proc

    def start_python(self, name: str, module_argv: Sequence[str]) -> ManagedProcess:
        argv = ["taskset", "-c", _cpus(self.layout.server), sys.executable, "-m", *module_argv]
        proc = start_process(name, argv, self.env(), self.workdir / f"{name}.log")
        self._started.append(proc)
        return proc

    def stop(self, proc: ManagedProcess) -> None:
        proc.stop()
        with contextlib.suppress(ValueError):
            self._started.remove(proc)

    @contextlib.contextmanager
    def running(self, proc: ManagedProcess) -> Iterator[ManagedProcess]:
        try:
            yield proc
        finally:
            self.stop(proc)

    def close(self) -> None:
        for proc in reversed(self._started):
            proc.stop()
        self._started.clear()
        self.store = self.emulator = None
        if self.external_store and not self.existing_db:
            client: MongoClient[dict[str, object]] = MongoClient(self.external_store)
            with contextlib.suppress(PyMongoError), client:
                client.drop_database(self.db_name)


def with_options(url: str, options: str) -> str:
    if not options:
        return url
    return url + ("&" if "?" in url else "/?" if url.count("/") == 2 else "?") + options


def _cpus(cpus: frozenset[int]) -> str:
    return ",".join(map(str, sorted(cpus)))


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "h2load", "taskset") if shutil.which(tool) is None]
    if missing:
        raise DevStackError(
            f"missing: {', '.join(missing)}. `make bench` installs them with apt-get when it can "
            "(apt-get install wrk nghttp2-client util-linux)."
        )
