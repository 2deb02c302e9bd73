"""What every scenario shares: the settings of the run, its servers, the seeded population,
and the one way a wrk measurement is taken."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import DEVNULL, Popen, TimeoutExpired
from typing import Any, TypeVar

from bson import ObjectId
from pymongo import MongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from bench import seed, system
from bench.loadgen import Lines, run_wrk, wrk_argv
from bench.servers import ServerOptions, Stack
from bench.stats import Figure, summarize_profile, wrk_figure
from bench.variants import VARIANTS
from devtools.devstack import DevStackError, ManagedProcess

T = TypeVar("T")


@dataclass(frozen=True)
class Config:
    quick: bool
    seconds: int  # one wrk measurement
    warmup: int  # wrk at concurrency 16 before the measurements of a freshly started server
    population: int  # citizens seeded for the request scenarios
    sample: int  # of them, how many have a session and a token the load generator rotates over
    concurrency: tuple[int, ...]
    submit_concurrency: int
    push_rate: float
    push_seconds: float
    push_grace: float  # how long unanswered events may take after the last one was due
    fanout_devices: int
    queue_messages: int
    growth_sizes: tuple[int, ...]
    growth_concurrency: int
    server: ServerOptions
    wrk_threads: int
    growth_plans: bool = True  # explain and time each query at each size (minutes at 1M on the embedded store)
    profile: bool = False  # py-spy records the server during each wrk measurement
    api_variant: str = "default"  # bench/variants.py: the API with a proposed change applied
    worker_settings: str = "workers.settings.WorkerSettings"  # or one of bench/worker_variants.py
    # The interleaved wallet comparison (bench/scenarios_peer.py): API variants measured
    # beside the default, the concurrencies, and rounds per concurrency (0: 2 quick, 3 full).
    peer_apis: tuple[str, ...] = ()
    peer_concurrency: tuple[int, ...] = (16, 64)
    peer_rounds: int = 0
    # push-during-announcement: rounds of (quiet, alone, during), 0: 2 quick, 3 full.
    lane_rounds: int = 0
    # The statistics scenario's sizes, grown in one store (1M on request: about an hour).
    statistics_sizes: tuple[int, ...] = (10_000, 100_000)
    # fanout: FCM transports measured side by side (bench/scenarios_transports.py), in
    # interleaved rounds (0: 2 quick, 3 full); none: one announcement with the worker's default.
    fcm_transports: tuple[str, ...] = ()
    fanout_rounds: int = 0

    def describe(self) -> dict[str, Any]:
        described = dict(self.__dict__)
        described["server"] = self.server.describe()
        return described

    @property
    def api_target(self) -> str:
        return VARIANTS[self.api_variant]


@dataclass
class Population:
    size: int
    ids: list[ObjectId]  # of the sampled citizens
    tokens: list[str]  # their access tokens, same order


@dataclass
class Context:
    config: Config
    stack: Stack
    workdir: Path
    progress: Callable[[str], None] = seed.stderr_progress
    _population: Population | None = field(default=None, repr=False)
    _services: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def db(self, work: Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[T]]) -> T:
        """Run `work(database)` on a fresh connection (PyMongo's async client is bound to
        the event loop it was made on, and each call here has its own loop)."""

        async def run() -> T:
            client, database = await seed.connect(self.stack.start_store(), self.stack.db_name)
            try:
                return await work(database)
            finally:
                await client.close()

        # Seeding is the bench's own heavy work: off the store's CPUs while it runs (no
        # server is measured then); back with the load generator afterwards.
        system.self_pin(set(self.stack.layout.server))
        try:
            return asyncio.run(run())
        finally:
            system.self_pin(set(self.stack.layout.load))

    def services(self) -> list[dict[str, Any]]:
        if not self._services:
            self._services = self.db(seed.prepare)
        return self._services

    def population(self) -> Population:
        """The citizens the request scenarios read and write, seeded once per run."""
        if self._population is None:
            size, sample = self.config.population, min(self.config.sample, self.config.population)
            services = self.services()
            self.progress(f"Seeding the population for the request scenarios ({size:,} citizens) ...")
            step = max(size // sample, 1)

            async def work(database: AsyncDatabase[dict[str, Any]]) -> Population:
                await seed.seed_citizens(database, 0, size, services, progress=self.progress)
                ids = await seed.citizen_ids(database, range(0, size, step)[:sample])
                tokens = await seed.citizen_tokens(database, ids, self.stack.jwt_secret)
                return Population(size, ids, tokens)

            self._population = self.db(work)
        return self._population

    def store_group(self) -> dict[str, ManagedProcess]:
        """The store's process, for CPU figures of the runs that read it."""
        return {"store": self.stack.store} if self.stack.store is not None else {}

    def lines(self, name: str, rows: Sequence[tuple[str, str | None, str]]) -> Lines:
        return Lines.write(self.workdir / f"{name}.lines", rows)

    def warm_up(self, url: str, lines: Lines, concurrency: int = 16, **kwargs: Any) -> None:
        if self.config.warmup > 0:
            run_wrk(self._argv(url, lines, concurrency=concurrency, seconds=self.config.warmup, **kwargs))

    def _argv(self, url: str, lines: Lines, *, concurrency: int, seconds: int, **kwargs: Any) -> list[str]:
        cpus = ",".join(map(str, sorted(self.stack.layout.load)))
        threads = self.config.wrk_threads
        return wrk_argv(url, lines, concurrency=concurrency, seconds=seconds, threads=threads, cpus=cpus, **kwargs)

    def start_profiler(
        self, server: ManagedProcess, seconds: int, name: str, delay: float = 0.0
    ) -> tuple[Popen[bytes], Path] | None:
        """With --profile: py-spy records `server` for `seconds` (after `delay`), off its CPUs."""
        if not self.config.profile:
            return None
        time.sleep(delay)
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(spy).exists():
            raise DevStackError("--profile needs py-spy: `uv pip install py-spy` (it is not a project dependency)")
        out = self.workdir / "profiles" / f"{_slug(name)}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        cpus = ",".join(map(str, sorted(self.stack.layout.load)))
        argv = ["taskset", "-c", cpus, spy, "record", "--rate", "100", "--duration", str(seconds), "--format", "raw"]
        argv += ["--nonblocking", "--subprocesses", "--output", str(out), "--pid", str(server.pid)]
        return Popen(argv, stdout=DEVNULL, stderr=DEVNULL), out

    @staticmethod
    def profile_summary(proc: Popen[bytes], out: Path) -> dict[str, Any]:
        try:
            proc.wait(timeout=60)
        except TimeoutExpired:
            proc.kill()
            proc.wait()
        if not out.exists():
            return {"error": f"py-spy wrote nothing (exit {proc.returncode}); it needs ptrace rights"}
        return {"file": str(out), **summarize_profile(out.read_text())}

    def measure(
        self,
        scenario: str,
        server: ManagedProcess,
        url: str,
        lines: Lines,
        concurrency: int,
        *,
        others: dict[str, ManagedProcess] | None = None,
        seconds: int | None = None,
        **kwargs: Any,
    ) -> Figure:
        """One wrk run against `server`: rate, latency, errors, CPU of each process, RSS."""
        groups = {"server": server.pid, **{name: p.pid for name, p in (others or {}).items()}}
        meter = system.CpuMeter(groups)
        seconds = seconds or self.config.seconds
        profiler = self.start_profiler(server, seconds, f"{scenario}-c{concurrency}")
        ops_before = store_ops(self)
        meter.start()
        t0 = time.monotonic()
        run = run_wrk(self._argv(url, lines, concurrency=concurrency, seconds=seconds, **kwargs))
        cpu = meter.stop(also_ours=run.cpu_share * (time.monotonic() - t0))
        ops_after = store_ops(self)
        cpu["wrk"] = run.cpu_share
        figure = wrk_figure(scenario, concurrency, run.result)
        figure.cpu = cpu
        if run.result.rate > 0:
            # CPU time per request holds up on a busy machine, where rates and latencies do not.
            figure.extra["cpu_ms_per_request"] = {
                name: round(share * 1000 / run.result.rate, 3) for name, share in cpu.items() if name != "other"
            }
        figure.rss_mb = system.rss_mb(system.process_tree(server.pid))
        figure.settings = {
            **self.config.server.describe(),
            "api": self.config.api_target,
            "seconds": seconds,
            "wrk_threads": max(1, min(self.config.wrk_threads, concurrency)),
            "layout": self.stack.layout.describe(),
        }
        if profiler is not None:
            figure.extra["profile"] = self.profile_summary(*profiler)
        if ops_before is not None and ops_after is not None and run.result.requests:
            # Store operations a request costs, collection by collection (the store's `top`).
            figure.extra["store_ops_per_request"] = system.ops_per_request(
                ops_before, ops_after, run.result.requests, self.stack.db_name
            )
        if run.result.non_2xx:
            figure.note = f"{run.result.non_2xx} answers were not 2xx: see {server.log_path}"
        return figure


def store_ops(ctx: Context) -> dict[str, int] | None:
    """Operations so far per collection (`top`), for operations per request between two readings."""
    return store_top(ctx, "count")


def store_top(ctx: Context, counter: str) -> dict[str, int] | None:
    """The store's `top` so far per collection: its operations (`count`) or the microseconds
    they took (`time`); None when the store does not answer `top`."""
    client: MongoClient[dict[str, Any]] = MongoClient(ctx.stack.start_store(), serverSelectionTimeoutMS=3000)
    try:
        with client:
            totals = client.admin.command("top")["totals"]
    except PyMongoError:
        return None  # a store that does not answer `top` (or a user without the right)
    return {ns: int(v["total"][counter]) for ns, v in totals.items() if isinstance(v, dict) and "total" in v}


@dataclass(frozen=True)
class Interval:
    """What an interval cost: CPU seconds per process group and store operations per
    collection (`top`), over `seconds`; `ops` is None when the store does not answer `top`."""

    seconds: float
    cpu_seconds: dict[str, float]
    ops: dict[str, float] | None
    # The store's time spent on those operations, microseconds per collection (`top`).
    micros: dict[str, float] | None = None

    def shares(self) -> dict[str, float]:
        """CPU as a share of one core, as the figures print it."""
        return {name: used / self.seconds for name, used in self.cpu_seconds.items()} if self.seconds > 0 else {}


class IntervalMeter:
    """CPU of the named process groups and the store's operations between start() and stop()."""

    def __init__(self, ctx: Context, groups: dict[str, int]) -> None:
        self._ctx, self._meter = ctx, system.CpuMeter(groups)
        self._ops: dict[str, int] | None = None
        self._micros: dict[str, int] | None = None
        self._t0 = 0.0

    def start(self) -> None:
        self._ops = store_ops(self._ctx)
        self._micros = store_top(self._ctx, "time")
        self._t0 = time.monotonic()
        self._meter.start()

    def stop(self) -> Interval:
        shares = self._meter.stop()
        seconds = time.monotonic() - self._t0
        after, micros_after = store_ops(self._ctx), store_top(self._ctx, "time")
        ops = micros = None
        db_name = self._ctx.stack.db_name
        if self._ops is not None and after is not None:
            ops = {k: float(v) for k, v in system.ops_per_request(self._ops, after, 1, db_name).items()}
        if self._micros is not None and micros_after is not None:
            micros = {k: float(v) for k, v in system.ops_per_request(self._micros, micros_after, 1, db_name).items()}
        cpu = {name: share * seconds for name, share in shares.items() if name != "other"}
        cpu["other"] = shares.get("other", 0.0) * seconds
        return Interval(seconds, cpu, ops, micros)


def quiet_interval(ctx: Context, groups: dict[str, int], seconds: float) -> Interval:
    """The background of a measurement: the same processes, no load, for `seconds` (the
    workers' crons read and write the store every few seconds)."""
    meter = IntervalMeter(ctx, groups)
    meter.start()
    time.sleep(seconds)
    return meter.stop()


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()


def http_raw(method: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request with the standard library; the answer's status and exact bytes."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"not one of our local servers: {url}")
    request = urllib.request.Request(url, method=method, headers=headers or {})  # noqa: S310 (checked above)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (checked above)
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One request with the standard library (sanity checks before a measurement)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"not one of our local servers: {url}")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 (checked above)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (checked above)
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None
