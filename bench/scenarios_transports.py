"""The announcement through each FCM transport (FCM_TRANSPORT, notifications/fcm.py), in
interleaved rounds on one store, one API and one emulator: `--fcm-transports
firebase-admin,direct`.

The machine is shared, so what is compared is messages per second of the worker's own CPU
(from /proc: the worker's process tree), measured round after round, transport after
transport, and reported as the median over the rounds and the ratio of each transport to the
first one named. Each worker is started for its round and timed only once it polls its
announcement queue, so its start-up is not counted.
"""

from __future__ import annotations

import signal
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from app.queue import announcement_queue
from bench import seed, system
from bench.context import Context, http_json
from bench.scenarios_fanout import (
    admin_token,
    emulator_ceilings,
    post_announcement,
    queue_drain,
    record_counts,
    wait_for_announcement,
)
from bench.scenarios_fanout import fan_out as one_announcement
from bench.scenarios_push import reset_emulator, store_groups
from bench.stats import Figure
from devtools.devstack import ManagedProcess, wait_until

ROUNDS = (2, 3)  # (--quick, full)


@dataclass(frozen=True)
class Run:
    transport: str
    sent: int
    failed: int
    seconds: float
    worker_cpu_seconds: float
    cpu: dict[str, float]

    @property
    def per_core(self) -> float:
        """Messages sent per second of the worker's CPU."""
        return self.sent / max(self.worker_cpu_seconds, 1e-9)

    @property
    def wall(self) -> float:
        return self.sent / max(self.seconds, 1e-9)


def fan_out(ctx: Context) -> list[Figure]:
    """The fanout scenario: with --fcm-transports, the announcement once per transport per
    round between the emulator's ceilings and the queue drain; without, as it always was."""
    if not ctx.config.fcm_transports:
        return one_announcement(ctx)
    ctx.progress("Fan-out: the emulator's ceilings, then the announcement through each FCM transport ...")
    return [*emulator_ceilings(ctx), *transport_comparison(ctx), queue_drain(ctx)]


def transport_comparison(ctx: Context) -> list[Figure]:
    transports = ctx.config.fcm_transports
    rounds = ctx.config.fanout_rounds or ROUNDS[0 if ctx.config.quick else 1]
    devices = ctx.config.fanout_devices
    ctx.progress(f"Announcement to {devices:,} devices, interleaved: {', '.join(transports)}; {rounds} rounds ...")
    ctx.services()
    emulator_url = ctx.stack.start_emulator()
    ctx.db(lambda database: seed.devices_without_citizens(database, devices, ctx.progress))
    token = admin_token(ctx)
    api = ctx.stack.start_server("api-transports", ctx.config.api_target, ctx.config.server, "/health/live")
    runs: list[Run] = []
    try:
        for n in range(rounds):
            for transport in transports:
                run = _announce(ctx, api.url or "", emulator_url, token, transport, f"{n}")
                ctx.progress(
                    f"    round {n + 1} {transport:<15} {run.per_core:>7,.0f} msg/s per worker core "
                    f"({run.wall:,.0f} msg/s, worker {run.cpu['worker']:.0%} of a core, {run.failed} failed)"
                )
                runs.append(run)
    finally:
        ctx.stack.stop(api)
    return _figures(runs, transports, devices)


def _announce(ctx: Context, url: str, emulator_url: str, token: str, transport: str, tag: str) -> Run:
    health = f"{announcement_queue(ctx.stack.queue_name)}:health-check"
    client = redis.Redis.from_url(ctx.stack.redis_url)
    try:
        client.delete(health)
        # "direct@/path": the direct transport with another checkout's worker code (before/after).
        fcm_transport, _, checkout = transport.partition("@")
        name = f"worker-{transport}-{tag}".replace("/", "-")
        worker = ctx.stack.start_worker(
            name, ctx.config.worker_settings, checkout=Path(checkout) if checkout else None, FCM_TRANSPORT=fcm_transport
        )
        wait_until(worker, lambda: bool(client.exists(health)), "its announcement queue polled", 60)
    finally:
        client.close()
    record_counts(emulator_url)
    meter = system.CpuMeter({"worker": worker.pid, **store_groups(ctx)})
    try:
        cpu_before = _cpu_seconds(worker)
        meter.start()
        announcement_id = post_announcement(url, token)
        t0 = time.monotonic()
        # --profile: the whole broadcast, planning included (py-spy stops at the last batch),
        # so each part's share of the samples is its share of the CPU per message.
        seconds_at_most = max(int(ctx.config.fanout_devices / 100), 5)
        profiler = ctx.start_profiler(worker, seconds_at_most, f"announcement-{transport}-{tag}")
        shown = wait_for_announcement(url, announcement_id, token, worker, ctx.config.fanout_devices, ctx)
        seconds = time.monotonic() - t0
        cpu = meter.stop()
        worker_cpu = _cpu_seconds(worker) - cpu_before
        if profiler is not None:
            profiler[0].send_signal(signal.SIGINT)  # py-spy writes what it has and exits
            summary = ctx.profile_summary(*profiler)
            ctx.progress(f"    profile of the {transport} worker: {summary.get('file', summary)}")
        received = http_json("GET", f"{emulator_url}/emulator/counts")[1]
    finally:
        ctx.stack.stop(worker)
        reset_emulator(emulator_url)
    progress = shown["progress"]
    if received.get("messages") not in (None, progress["sent"]):
        ctx.progress(f"    warning: the emulator counted {received.get('messages')}, the worker {progress['sent']}")
    return Run(transport, progress["sent"], progress["failed"] + progress["pending"], seconds, worker_cpu, cpu)


def _cpu_seconds(worker: ManagedProcess) -> float:
    return system.cpu_seconds(system.process_tree(worker.pid))


def _figures(runs: list[Run], transports: tuple[str, ...], devices: int) -> list[Figure]:
    figures = []
    medians: dict[str, float] = {}
    for transport in transports:
        mine = [r for r in runs if r.transport == transport]
        medians[transport] = statistics.median(r.per_core for r in mine)
        figure = Figure(
            f"announcement {transport}",
            "1 worker",
            medians[transport],
            unit="msg/core-s",
            count=sum(r.sent for r in mine),
            errors=sum(r.failed for r in mine),
        )
        figure.cpu = {k: statistics.median(r.cpu.get(k, 0.0) for r in mine) for k in mine[0].cpu}
        figure.settings = {"FCM_TRANSPORT": transport, "devices": devices, "rounds": len(mine)}
        figure.extra = {
            "per_core_by_round": [round(r.per_core) for r in mine],
            "wall_msg_s_by_round": [round(r.wall) for r in mine],
            "worker_cpu_ms_per_message": round(1000 / medians[transport], 3),
        }
        by_round = ", ".join(f"{r.per_core:,.0f}" for r in mine)
        wall = statistics.median(r.wall for r in mine)
        figure.note = (
            f"messages per second of worker CPU (median of {len(mine)} interleaved rounds; by round "
            f"{by_round}); wall {wall:,.0f} msg/s"
        )
        figures.append(figure)
    first = transports[0]
    reference = [r for r in runs if r.transport == first]
    for figure, transport in zip(figures, transports, strict=True):
        if transport == first:
            continue
        figure.ratios[f"vs_{first}"] = medians[transport] / medians[first]
        # Each round's ratio too: the rounds are interleaved, so a round's pair saw the same load.
        mine = [r for r in runs if r.transport == transport]
        by_round = [round(r.per_core / ref.per_core, 2) for r, ref in zip(mine, reference, strict=True)]
        figure.extra[f"vs_{first}_by_round"] = by_round
        figure.note += f"; vs {first} by round {', '.join(f'{x:.2f}' for x in by_round)}"
    return figures
