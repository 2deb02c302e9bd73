"""The capacity plan of docs/scale.md, computed from measured figures (`python -m bench.capacity`).

Inputs are CPU milliseconds per request as the bench measures them (decision 16/25; pass a
results file with `--results bench/results/latest.json` to use a run's own figures), the
traffic of the target (100 million citizens, 6 million daily users, a 3,500 requests/s
peak) and the FCM quota. Outputs: API processes, push workers, shards, Redis memory, and a
second-by-second simulation of one national announcement to 60 million phones sharing the
quota with citizens' own pushes (personal lane first).

Assumptions are named constants below; each is printed with the plan.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --- the target ---------------------------------------------------------------------------
CITIZENS = 100_000_000
DAILY_USERS = 6_000_000
PEAK_RPS = 3_500
# Share of the peak by endpoint (the morning after a national announcement: people open
# the app, read their wallet and inbox, look at their dossiers).
MIX = {"wallet read": 0.45, "inbox/other reads": 0.35, "dossier reads": 0.15, "dossier submission": 0.05}
# --- measured (ms of one core per request; decision 16 quiet run, decision 25) -------------
CPU_MS = {"wallet read": 0.92, "inbox/other reads": 1.2, "dossier reads": 1.5, "dossier submission": 6.0}
PUSH_MS_PER_MESSAGE = 1.0  # worker CPU per FCM message (decision 16: ~1.0 ms)
# --- assumptions --------------------------------------------------------------------------
TARGET_UTILISATION = 0.6  # of each core at peak: headroom for a slow shard, GC, deploys
MONGO_MS_PER_OP = 0.1  # MongoDB CPU per indexed single-document operation (not measured here)
STORE_OPS = {"wallet read": 1.1, "inbox/other reads": 1.5, "dossier reads": 3.0, "dossier submission": 8.0}
CORES_PER_SHARD_PRIMARY = 8
BYTES_PER_CITIZEN = 16_000  # citizen, 3 documents, 2 dossiers, 2 phones, sessions, inbox, access log
DATA_PER_SHARD = 2_000_000_000_000  # 2 TB per replica set keeps the working set's indexes in RAM
FCM_PER_MINUTE = 600_000
ANNOUNCED_PHONES = 60_000_000
PERSONAL_PUSHES_PER_SECOND = 300  # status changes and document news at peak, ~2 phones each


@dataclass
class Plan:
    lines: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.lines.append(text)


def from_results(path: Path) -> dict[str, float]:
    """CPU ms per request of the API from a bench run's wallet and submission figures."""
    figures = json.loads(path.read_text())["figures"]
    found: dict[str, float] = {}
    for f in figures:
        per = f.get("extra", {}).get("cpu_ms_per_request", {}).get("server")
        if per is None:
            continue
        if f["scenario"] in ("wallet read", "wallet api"):
            found["wallet read"] = min(per, found.get("wallet read", per))
        if f["scenario"] == "dossier submit":
            found["dossier submission"] = per
    return found


def simulate_announcement(seconds_max: int = 4 * 3600) -> dict[str, float]:
    """One broadcast to ANNOUNCED_PHONES and a steady personal lane, second by second, under
    the project-wide quota: the personal lane is served first, the broadcast takes the rest."""
    quota = FCM_PER_MINUTE / 60
    bulk_left = float(ANNOUNCED_PHONES)
    personal_backlog = 0.0
    worst_personal_wait = 0.0
    second = 0
    while bulk_left > 0 and second < seconds_max:
        personal_backlog += PERSONAL_PUSHES_PER_SECOND
        personal_sent = min(personal_backlog, quota)
        personal_backlog -= personal_sent
        worst_personal_wait = max(worst_personal_wait, personal_backlog / quota)
        bulk_left -= min(bulk_left, quota - personal_sent)
        second += 1
    return {
        "broadcast_minutes": second / 60,
        "worst_personal_wait_s": worst_personal_wait,
        "bulk_rate": (ANNOUNCED_PHONES - bulk_left) / max(second, 1),
    }


def plan(cpu_ms: dict[str, float]) -> Plan:
    p = Plan()
    api_cores = sum(PEAK_RPS * share * cpu_ms[name] / 1000 for name, share in MIX.items())
    api_processes = math.ceil(api_cores / TARGET_UTILISATION)
    p.say(f"Peak {PEAK_RPS:,} req/s, mix {MIX}")
    p.say(f"API CPU at peak: {api_cores:.2f} cores (ms per request: {cpu_ms})")
    p.say(f"API processes (one core each, ≤{TARGET_UTILISATION:.0%} busy): {api_processes}, +1 for a lost machine")
    store_ops = sum(PEAK_RPS * share * STORE_OPS[name] for name, share in MIX.items())
    store_cores = store_ops * MONGO_MS_PER_OP / 1000
    shards_by_data = math.ceil(CITIZENS * BYTES_PER_CITIZEN / DATA_PER_SHARD)
    shards_by_cpu = math.ceil(store_cores / (CORES_PER_SHARD_PRIMARY * TARGET_UTILISATION))
    p.say(
        f"Store: {store_ops:,.0f} ops/s at peak ≈ {store_cores:.1f} cores at {MONGO_MS_PER_OP} ms/op (assumed); data "
        f"{CITIZENS * BYTES_PER_CITIZEN / 1e12:.1f} TB"
    )
    p.say(
        f"Shards: {max(shards_by_data, shards_by_cpu, 2)} (by data {shards_by_data}, by CPU {shards_by_cpu}), "
        "each a 3-member replica set"
    )
    quota_per_second = FCM_PER_MINUTE / 60
    workers = math.ceil(quota_per_second * PUSH_MS_PER_MESSAGE / 1000 / TARGET_UTILISATION)
    p.say(
        f"Push workers to use the whole FCM quota ({quota_per_second:,.0f} msg/s at {PUSH_MS_PER_MESSAGE} ms each): "
        f"{workers} worker cores"
    )
    sim = simulate_announcement()
    p.say(
        f"Announcement to {ANNOUNCED_PHONES / 1e6:.0f}M phones: {sim['broadcast_minutes']:.0f} minutes at "
        f"{sim['bulk_rate']:,.0f} msg/s; personal pushes ({PERSONAL_PUSHES_PER_SECOND}/s) first in the quota wait at "
        f"most {sim['worst_personal_wait_s']:.2f} s"
    )
    rate_limit_keys = PEAK_RPS * 60  # one window per caller active in the last minute, at most
    batch_jobs = ANNOUNCED_PHONES / 500
    redis_mb = (rate_limit_keys * 200 + batch_jobs * 400) / 1e6
    p.say(
        f"Redis: ~{redis_mb:,.0f} MB of data at peak ({rate_limit_keys:,} rate-limit windows, {batch_jobs:,.0f} "
        "announcement batch jobs if all were queued at once; sessions live in MongoDB): one primary + replica, "
        "1 GB each is plenty; one core handles the ~10k ops/s"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument("--results", type=Path, help="a bench results file whose CPU ms per request to use")
    args = parser.parse_args(argv)
    cpu_ms: dict[str, Any] = dict(CPU_MS)
    if args.results:
        cpu_ms.update(from_results(args.results))
    for line in plan(cpu_ms).lines:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
