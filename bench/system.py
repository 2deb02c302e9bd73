"""The machine, the versions, and what processes use: CPU pinning, CPU time and RSS.

Everything is read from /proc, so no extra package is needed (Linux only, like `taskset`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "litestar",
    "msgspec",
    "pymongo",
    "beanie",
    "secantusdb",
    "uvicorn",
    "uvloop",
    "httptools",
    "granian",
    "arq",
    "redis",
    "firebase-admin",
    "httpx",
)
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def machine() -> dict[str, Any]:
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": _os_name(),
    }


def _os_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.system()


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["wrk"] = wrk_version()
    found["redis-server"] = _first_line([shutil.which("redis-server") or "redis-server", "--version"])
    return found


def wrk_version() -> str | None:
    line = _first_line(["wrk", "--version"])
    return line.split(" Copyright")[0] if line else None


def _first_line(argv: list[str]) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else None


# --- processes ----------------------------------------------------------------------------


def _children_of(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and every descendant still running (uvicorn's and granian's workers)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        if Path(f"/proc/{current}").exists():
            tree.append(current)
            todo += _children_of(current)
    return tree


def pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of `pid` and of its descendants to `cpus` (what `taskset -a -p` does);
    processes they start later inherit it."""
    for proc in process_tree(pid):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{proc}/task").iterdir():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(task.name), cpus)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLOCK_TICKS


def rss_mb(pids: list[int], *, peak: bool = False) -> float:
    """Resident memory of these processes together (VmHWM, the peak, with `peak=True`)."""
    key = "VmHWM:" if peak else "VmRSS:"
    total_kb = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(key):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


def machine_busy_seconds() -> float:
    """CPU time all processes on the machine have used since boot (from /proc/stat)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        user, nice, system_, _idle, _iowait, irq, softirq, steal = fields[:8]
        return (user + nice + system_ + irq + softirq + steal) / _CLOCK_TICKS
    return 0.0


@dataclass
class CpuMeter:
    """CPU used by named process groups over an interval, as a share of one core, and by
    everything else on the machine ("other": a busy neighbour makes the figures noisy)."""

    groups: dict[str, int]  # name → leader pid

    def __post_init__(self) -> None:
        self._start: dict[str, float] = {}
        self._machine = 0.0
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._machine = machine_busy_seconds()
        self._start = {name: cpu_seconds(process_tree(pid)) for name, pid in self.groups.items()}

    def stop(self, *, also_ours: float = 0.0) -> dict[str, float]:
        """`also_ours`: CPU seconds of our own processes outside the groups (wrk, measured apart)."""
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        used = {name: cpu_seconds(process_tree(pid)) - self._start.get(name, 0.0) for name, pid in self.groups.items()}
        machine = machine_busy_seconds() - self._machine
        shares = {name: seconds / elapsed for name, seconds in used.items()}
        shares["other"] = max(machine - sum(used.values()) - also_ours, 0.0) / elapsed
        return shares


def self_pin(cpus: set[int]) -> None:
    """Pin this (the bench's own) process: its seeding and Python load generators."""
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, cpus)


def python() -> str:
    return sys.executable


def ops_per_request(before: dict[str, int], after: dict[str, int], requests: int, db_name: str) -> dict[str, float]:
    """Store operations per request in each collection of `db_name`, from two readings of
    the store's `top` counters; collections with none left out."""
    prefix = f"{db_name}."
    per_request = {
        ns.removeprefix(prefix): round((count - before.get(ns, 0)) / requests, 3)
        for ns, count in after.items()
        if ns.startswith(prefix) and count > before.get(ns, 0)
    }
    return dict(sorted(per_request.items(), key=lambda item: -item[1]))


def net_per_event(
    block: dict[str, float], quiet: dict[str, float], block_seconds: float, quiet_seconds: float, events: int
) -> dict[str, float]:
    """Per event, what a block of `events` cost beyond the background: each counter of
    `block` minus the same counter of a `quiet` interval (no events, the same processes
    running: the crons' store operations and CPU) scaled to the block's length. A negative
    figure is left as it is: it says the background moved between the two intervals."""
    if events <= 0:
        return {}
    scale = block_seconds / quiet_seconds if quiet_seconds > 0 else 0.0
    net = {name: round((value - quiet.get(name, 0.0) * scale) / events, 3) for name, value in block.items()}
    return dict(sorted(net.items(), key=lambda item: -item[1]))
