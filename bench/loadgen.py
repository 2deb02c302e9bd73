"""Load generators: wrk (compiled, from Debian) for request rates, and a small steady-rate
asyncio client for the status-to-push scenario, whose rate is fixed and low (e.g. 50/s).

wrk runs under `taskset` on the load CPUs, never on the server's. Its own CPU use is
measured and reported, so a reader can see it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.stats import WrkResult, parse_wrk

LUA_SCRIPT = Path(__file__).parent / "lua" / "rotate.lua"


@dataclass(frozen=True)
class Lines:
    """A request file for rotate.lua: one (path, authorization, substitution) per line."""

    path: Path

    @staticmethod
    def write(path: Path, rows: Sequence[tuple[str, str | None, str]]) -> Lines:
        for p, auth, subst in rows:
            if "\t" in p + (auth or "") + subst or "\n" in p + (auth or "") + subst:
                raise ValueError("request lines must not contain tabs or newlines")
        path.write_text("".join(f"{p}\t{auth or '-'}\t{subst}\n" for p, auth, subst in rows))
        return Lines(path)


def wrk_argv(
    url: str,
    lines: Lines,
    *,
    concurrency: int,
    seconds: int,
    threads: int,
    cpus: str,
    method: str = "GET",
    body: Path | None = None,
    idempotent: bool = False,
) -> list[str]:
    threads = max(1, min(threads, concurrency))
    return [
        "taskset", "-c", cpus,
        "wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", str(LUA_SCRIPT), url, "--",
        str(lines.path), method, str(body) if body else "-", "idem" if idempotent else "-",
    ]  # fmt: skip


@dataclass(frozen=True)
class WrkRun:
    result: WrkResult
    cpu_share: float  # wrk's own CPU use over the run, as a share of one core


def run_wrk(argv: list[str], *, during: Callable[[], None] | None = None) -> WrkRun:
    """Run wrk to completion; `during` is called once while it runs (e.g. to sample RSS)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if during is not None:
        time.sleep(0.5)
        during()
    stdout, stderr = proc.communicate()
    elapsed = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}): {stderr.strip() or stdout.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return WrkRun(parse_wrk(stdout), cpu / max(elapsed, 1e-9))


@dataclass(frozen=True)
class Sent:
    index: int
    scheduled: float  # time.time() when it was due
    started: float
    answered: float
    status: int  # 0: no answer (an error, or cancelled after the grace period)
    error: str = ""


async def steady_rate(
    send: Callable[[int], Awaitable[int]],
    *,
    rate: float,
    count: int,
    max_in_flight: int = 1000,
    grace: float = 30.0,
) -> list[Sent]:
    """Call `send(i)` for i in 0..count-1 at a steady `rate` a second, open loop: a slow
    answer never delays the next call (up to `max_in_flight` outstanding). Calls still
    unanswered `grace` seconds after the last one was due are cancelled and kept with
    status 0, like calls that failed, so a system that cannot keep up ends the run."""
    results: dict[int, Sent] = {}
    gate = asyncio.Semaphore(max_in_flight)
    t0 = time.time() + 0.05

    async def one(i: int, due: float) -> None:
        started = time.time()
        try:
            async with gate:
                started = time.time()
                status = await send(i)
        except asyncio.CancelledError:
            results[i] = Sent(i, due, started, time.time(), 0, "no answer within the grace period")
            raise
        except Exception as exc:  # a failed call is a figure, not a crash
            results[i] = Sent(i, due, started, time.time(), 0, f"{type(exc).__name__}: {exc}"[:200])
            return
        results[i] = Sent(i, due, started, time.time(), status)

    tasks = []
    for i in range(count):
        due = t0 + i / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    _, late = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    return [results[i] for i in sorted(results)]
