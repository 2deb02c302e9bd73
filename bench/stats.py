"""Pure helpers: percentiles, figures, ratios, the printed table, wrk's output, query plans.

Nothing here touches a process, a socket or the clock, so all of it is unit-tested
(tests/unit/bench/).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

WRK_MARKER = "BENCH_JSON "
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_size(text: str) -> int:
    """'10k' → 10_000, '1M' → 1_000_000, '2500' → 2500."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 10k, 100k, 1M or 2500)")
    number, unit = float(match.group(1)), match.group(2).lower()
    value = number * {"": 1, "k": 1_000, "m": 1_000_000}[unit]
    if value < 1 or value != int(value):
        raise ValueError(f"not a whole, positive size: {text!r}")
    return int(value)


def parse_sizes(text: str) -> list[int]:
    """'10k,100k' → [10000, 100000], sorted and without repeats."""
    return sorted({parse_size(part) for part in text.split(",") if part.strip()})


def human_size(value: int) -> str:
    """10_000 → '10k', 1_000_000 → '1M', 2500 → '2500'."""
    if value >= 1_000_000 and value % 1_000_000 == 0:
        return f"{value // 1_000_000}M"
    if value >= 1_000 and value % 1_000 == 0:
        return f"{value // 1_000}k"
    return str(value)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def progress_marks(total: int, steps: int = 10) -> list[int]:
    """The counts at which to print a progress line: about every 1/steps of `total`."""
    if total <= 0:
        return []
    return sorted({max(1, round(total * i / steps)) for i in range(1, steps + 1)})


@dataclass
class Figure:
    """One measured line of the table, with what it was measured under."""

    scenario: str
    concurrency: int | str
    rate: float | None  # requests or messages a second
    unit: str = "req/s"
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    rss_mb: float | None = None
    count: int = 0
    errors: int = 0
    ratios: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # share of one core, per process group
    note: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def latency_figure(
    scenario: str,
    concurrency: int | str,
    latencies_ms: Sequence[float],
    seconds: float,
    *,
    unit: str = "msg/s",
    errors: int = 0,
) -> Figure:
    """A figure from individual latencies measured by the bench itself (not wrk)."""
    count = len(latencies_ms)
    return Figure(
        scenario=scenario,
        concurrency=concurrency,
        rate=count / seconds if seconds > 0 else None,
        unit=unit,
        p50_ms=percentile(latencies_ms, 50) if count else None,
        p95_ms=percentile(latencies_ms, 95) if count else None,
        p99_ms=percentile(latencies_ms, 99) if count else None,
        count=count,
        errors=errors,
    )


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    latency_ms: dict[str, float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def parse_wrk(stdout: str) -> WrkResult:
    """Read the JSON line our Lua `done()` prints (bench/lua/common.lua)."""
    for line in stdout.splitlines():
        if line.startswith(WRK_MARKER):
            raw = json.loads(line[len(WRK_MARKER) :])
            break
    else:
        raise ValueError("wrk printed no result line; is the Lua script's done() in place?")
    errors = raw["errors"]
    socket_errors = sum(int(errors[k]) for k in ("connect", "read", "write", "timeout"))
    # With no request finished, wrk's histogram is empty and reads 0: no latency, not zero.
    latency = {str(k): float(v) / 1000.0 for k, v in raw["latency_us"].items()} if raw["requests"] else {}
    return WrkResult(
        requests=int(raw["requests"]),
        seconds=float(raw["duration_us"]) / 1_000_000,
        errors=socket_errors + int(errors["status"]),
        non_2xx=int(errors["status"]),
        latency_ms=latency,
    )


def wrk_figure(scenario: str, concurrency: int, result: WrkResult) -> Figure:
    lat = result.latency_ms
    return Figure(
        scenario=scenario,
        concurrency=concurrency,
        rate=result.rate,
        p50_ms=lat.get("50"),
        p95_ms=lat.get("95"),
        p99_ms=lat.get("99"),
        count=result.requests,
        errors=result.errors,
    )


def plan_summary(explain: Mapping[str, Any]) -> dict[str, Any]:
    """What a query plan says about index use: the stage chain, the index names, and
    how many keys and documents were examined for how many returned."""
    planner = explain.get("queryPlanner", {})
    stage: Mapping[str, Any] | None = planner.get("winningPlan")
    chain: list[str] = []
    indexes: list[str] = []
    while isinstance(stage, Mapping):
        name = str(stage.get("stage", "?"))
        if name == "IXSCAN" and stage.get("indexName"):
            indexes.append(str(stage["indexName"]))
        chain.append(name)
        stage = stage.get("inputStage") or (stage.get("inputStages") or [None])[0]
    stats = explain.get("executionStats", {})
    return {
        "stages": " > ".join(chain),
        "indexes": indexes,
        "uses_index": bool(indexes) and "COLLSCAN" not in chain,
        "keys_examined": stats.get("totalKeysExamined"),
        "docs_examined": stats.get("totalDocsExamined"),
        "returned": stats.get("nReturned"),
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def format_table(figures: Iterable[Figure]) -> str:
    """The table `make bench` prints: one line per figure."""
    figures = list(figures)
    header = (
        "scenario",
        "conc",
        "rate",
        "unit",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "RSS MB",
        "ratios",
        "cpu (share of a core)",
    )
    rows = [header]
    for f in figures:
        ratios = " ".join(f"{k}={v:.2f}" for k, v in f.ratios.items())
        cpu = " ".join(f"{k}={v:.0%}" for k, v in f.cpu.items())
        rows.append(
            (
                f.scenario,
                str(f.concurrency),
                _fmt(f.rate, 0 if (f.rate or 0) >= 100 else 1),
                f.unit,
                _fmt(f.p50_ms, 2),
                _fmt(f.p95_ms, 2),
                _fmt(f.p99_ms, 2),
                str(f.errors),
                _fmt(f.rss_mb, 0),
                ratios or "-",
                cpu or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {2, 4, 5, 6, 7, 8}
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  [{f.scenario} c={f.concurrency}] {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def add_ratios(figures: Sequence[Figure]) -> None:
    """Ratios measured within one run: each request figure against the ceiling at the same
    concurrency (rate and RSS), the wallet against the raw store read, and an announcement's
    send rate against the emulator's own ceiling (HTTP/2, as the sender speaks to it)."""
    ceiling = {f.concurrency: f for f in figures if f.scenario == "ceiling"}
    raw = {f.concurrency: f for f in figures if f.scenario == "raw read"}
    emulator = next((f for f in figures if f.scenario == "emulator ceiling h2"), None)
    for figure in figures:
        values: dict[str, float | None] = {}
        reference = ceiling.get(figure.concurrency)
        if figure.unit == "req/s" and figure.scenario != "ceiling" and reference is not None:
            values["vs_ceiling"] = ratio(figure.rate, reference.rate)
            values["rss_vs_ceiling"] = ratio(figure.rss_mb, reference.rss_mb)
        if figure.scenario == "wallet read" and figure.concurrency in raw:
            values["vs_raw"] = ratio(figure.rate, raw[figure.concurrency].rate)
        if figure.scenario == "announcement" and emulator is not None:
            values["vs_emulator"] = ratio(figure.rate, emulator.rate)
        figure.ratios.update({k: v for k, v in values.items() if v is not None})


_BOILERPLATE = ("<frozen runpy>", "asyncio/", "threading.py", "uvicorn/", "click/", "concurrent/futures/")


def summarize_profile(collapsed: str, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """A py-spy `--format raw` profile (one "frame;frame;... count" a line) as the frames
    holding most samples: by own time ("self"), and including callees ("total"), the
    event-loop and server plumbing left out of the latter."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    packages: dict[str, int] = {}
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + count
        package = _package_of(frames[-1])
        packages[package] = packages.get(package, 0) + count
        for frame in set(frames):
            if not any(b in frame for b in _BOILERPLATE):
                total[frame] = total.get(frame, 0) + count
    if samples == 0:
        return {"self": [], "total": [], "self_by_package": []}

    def ranked(counts: dict[str, int]) -> list[tuple[str, float]]:
        best = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
        return [(frame, round(count / samples, 3)) for frame, count in best]

    return {"self": ranked(own), "total": ranked(total), "self_by_package": ranked(packages)}


_FRAME_FILE = re.compile(r"\(([^)]*?):\d+\)$")


def _package_of(frame: str) -> str:
    """ "send (httpx/_client.py:1629)" → "httpx": where own time goes, library by library."""
    found = _FRAME_FILE.search(frame)
    return (found.group(1) if found else frame).split("/")[0] or "?"


_H2LOAD_FINISHED = re.compile(r"finished in ([\d.]+)(us|ms|s)")
_H2LOAD_UNITS = {"us": 1_000_000, "ms": 1_000, "s": 1}
_H2LOAD_REQUESTS = re.compile(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed")


def parse_h2load(stdout: str, log: str = "") -> WrkResult:
    """h2load's summary, and its --log-file (start µs, status, duration µs per request)."""
    finished = _H2LOAD_FINISHED.search(stdout)
    counts = _H2LOAD_REQUESTS.search(stdout)
    if finished is None or counts is None:
        raise ValueError("h2load printed no summary (is the URL right, does the server speak h2c?)")
    seconds = float(finished.group(1)) / _H2LOAD_UNITS[finished.group(2)]
    # h2load's `failed` counts every request that did not succeed, errored ones included.
    _total, _started, _done, succeeded, failed = (int(g) for g in counts.groups())
    durations: list[float] = []
    non_2xx = 0
    for line in log.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].isdigit():
            durations.append(int(parts[2]) / 1000)
            non_2xx += not 200 <= int(parts[1]) < 300
    latency = {str(q): percentile(durations, q) for q in (50, 90, 95, 99)} if durations else {}
    return WrkResult(
        requests=succeeded, seconds=seconds, errors=failed, non_2xx=non_2xx,
        latency_ms=latency,
    )  # fmt: skip
