"""Status to push during an announcement (issue 18): a citizen's push must not queue behind a
national broadcast. The status → push latency of bench/scenarios_push.py is measured in
blocks, alternately alone and while an announcement fans out through the same worker (its
own arq queue, decision 25), round after round in one run, each round after a quiet interval
that gives the crons' background. Only in-run ratios are results (decision 16)."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bench import seed
from bench.context import Context, Interval, IntervalMeter, http_json, quiet_interval
from bench.loadgen import Sent
from bench.scenarios_fanout import admin_token, announcement_state, post_announcement, wait_for_announcement
from bench.scenarios_push import (
    EVENT_SERVICE,
    _service,
    open_loop,
    per_event_costs,
    reset_emulator,
    store_groups,
    wait_for_pushes,
    warm_up,
)
from bench.stats import Figure, latency_figure
from devtools.devstack import DevStackError, ManagedProcess

TARGET = 1.5  # issue 18: p99 during a 100k-device announcement ≤ 1.5 × p99 without one
KINDS = ("alone", "during")
# Worker variants whose announcements run in a second process, and that process's settings
# (bench/worker_variants.py; named, not imported, like bench/cli.py's).
_VARIANTS = "bench.worker_variants."
ANNOUNCEMENT_PROCESS = {
    f"{_VARIANTS}WithoutAnnouncementLaneWorkerSettings": f"{_VARIANTS}AnnouncementLaneWorkerSettings",
}


@dataclass
class Block:
    """One block of events: their push latencies and what the block cost."""

    kind: str
    latencies_ms: list[float]
    events: int
    failed: int
    missing: int
    outside: int  # "during": events answered when the announcement was not (or no longer) sending
    interval: Interval
    answers_ms: list[float]  # the agency's answers: the API and the store, without the worker
    sent_per_second: float | None = None  # "during": the announcement's own rate over the block
    broadcast_sent: int = 0  # "during": the announcement's messages sent while the block was measured


def split_by_window(
    events: Sequence[tuple[float, float | None]], start: float, end: float | None
) -> tuple[list[float], int]:
    """Latencies (ms) of the events sent within [start, end), from (sent, arrived) pairs
    (arrived None: no push); and how many events fell outside the window."""
    inside, outside = [], 0
    for sent, arrived in events:
        if sent < start or (end is not None and sent >= end):
            outside += 1
        elif arrived is not None:
            inside.append((arrived - sent) * 1000)
    return inside, outside


def lane_ratio(alone_p99: float | None, during_p99: float | None, target: float = TARGET) -> tuple[float | None, bool]:
    """p99 during ÷ p99 alone, and whether it is within `target`."""
    if not alone_p99 or during_p99 is None:
        return None, False
    ratio = during_p99 / alone_p99
    return round(ratio, 2), ratio <= target


def round_ratios(
    alone_p99s: Sequence[float | None], during_p99s: Sequence[float | None]
) -> tuple[list[float | None], float | None]:
    """p99 during ÷ p99 alone round by round (each round's two blocks ran minutes apart, so
    a neighbour's burst moves both less than it moves the pooled figures), and their median."""
    ratios = [lane_ratio(a, d)[0] for a, d in zip(alone_p99s, during_p99s, strict=True)]
    known = [r for r in ratios if r is not None]
    return ratios, round(statistics.median(known), 2) if known else None


def combined(intervals: Sequence[Interval]) -> Interval:
    """Several intervals as one: their lengths, CPU seconds, store operations and their time summed."""
    cpu: dict[str, float] = {}
    for interval in intervals:
        for name, used in interval.cpu_seconds.items():
            cpu[name] = cpu.get(name, 0.0) + used
    return Interval(
        sum(i.seconds for i in intervals),
        cpu,
        _summed([i.ops for i in intervals]),
        _summed([i.micros for i in intervals]),
    )


def _summed(counters: Sequence[dict[str, float] | None]) -> dict[str, float] | None:
    """Per-name sums of several counters; None if any is unknown."""
    total: dict[str, float] = {}
    for counter in counters:
        if counter is None:
            return None
        for name, value in counter.items():
            total[name] = total.get(name, 0.0) + value
    return total


def broadcast_store_costs(interval: Interval, sent: int) -> dict[str, float]:
    """What the broadcast's own collections (`announcement*`: summaries, device lists, outcome
    records) cost the store per message sent in `interval`: operations, and the milliseconds
    the store's command handler took on them (`top`'s time: wall time, so waits for its locks
    and its GIL are in it); their mean per operation; and how many of them were in progress on
    average (the time ÷ the interval). Planning's reads of `devices` and `preferences` are not
    counted (the agency's events read them too)."""
    if interval.ops is None or sent <= 0:
        return {}
    ops = sum(v for k, v in interval.ops.items() if k.startswith("announcement"))
    costs = {"broadcast_store_ops_per_msg": round(ops / sent, 4)}
    if interval.micros is not None:
        micros = sum(v for k, v in interval.micros.items() if k.startswith("announcement"))
        costs["broadcast_store_ms_per_msg"] = round(micros / 1000 / sent, 4)
        costs["broadcast_store_ms_per_op"] = round(micros / 1000 / ops, 3) if ops else 0.0
        costs["broadcast_store_in_flight"] = round(micros / 1e6 / interval.seconds, 3) if interval.seconds else 0.0
    return costs


@dataclass
class _Run:
    ctx: Context
    url: str
    agency: str  # the agency's token
    admin: str  # an admin's token, for the announcements
    emulator_url: str
    worker: ManagedProcess
    groups: dict[str, int]
    rate: float
    devices: int


def push_during_announcement(ctx: Context) -> list[Figure]:
    population = ctx.population()
    rate, seconds, devices = ctx.config.push_rate, ctx.config.push_seconds, ctx.config.fanout_devices
    rounds = ctx.config.lane_rounds or (2 if ctx.config.quick else 3)
    per_block, warm = max(int(rate * seconds), 1), 5
    ctx.progress(
        f"Push during an announcement: {rounds} rounds of a quiet {seconds:g} s, then {per_block} agency events "
        f"at {rate:g}/s alone and {per_block} during an announcement to {devices:,} devices (order alternating)"
    )
    service = _service(ctx, EVENT_SERVICE)
    emulator_url = ctx.stack.start_emulator()
    # Personal pushes are timed from their copies; the fan-out scenario may have left `counts`.
    http_json("PUT", f"{emulator_url}/emulator/settings", {"record": "full"})
    _seed_audience(ctx, devices)
    admin = admin_token(ctx)
    owners = [population.ids[i % len(population.ids)] for i in range(warm + 2 * rounds * per_block)]
    tag = f"L{secrets.token_hex(3).upper()}"
    codes = ctx.db(lambda database: seed.submitted_dossiers(database, owners, service, tag))
    api = ctx.stack.start_server("api-lanes", ctx.config.api_target, ctx.config.server, "/health/live")
    worker = ctx.stack.start_worker("worker-lanes", ctx.config.worker_settings)
    companion = ANNOUNCEMENT_PROCESS.get(ctx.config.worker_settings)
    announcer = ctx.stack.start_worker("worker-lanes-announcements", companion) if companion else None
    agency = seed.agency_token(service["agency_code"], ctx.stack.jwt_secret)
    blocks: dict[str, list[Block]] = {kind: [] for kind in KINDS}
    quiets: list[Interval] = []
    try:
        groups = {"api": api.pid, "worker": worker.pid, **store_groups(ctx)}
        if announcer is not None:
            groups["announcer"] = announcer.pid
        run = _Run(ctx, api.url or "", agency, admin, emulator_url, worker, groups, rate, devices)
        warm_up(run.url, agency, codes[:warm], emulator_url, worker)
        chunks = iter(codes[warm + n * per_block : warm + (n + 1) * per_block] for n in range(2 * rounds))
        for r in range(rounds):
            quiets.append(quiet_interval(ctx, groups, seconds))
            for kind in KINDS if r % 2 == 0 else KINDS[::-1]:
                block = _block(run, kind, next(chunks))
                blocks[kind].append(block)
                p99 = latency_figure(kind, "", block.latencies_ms, 1.0).p99_ms if block.latencies_ms else None
                ctx.progress(f"  round {r + 1} {kind}: {len(block.latencies_ms)} pushes, p99 {p99 or 0:.0f} ms")
    finally:
        if announcer is not None:
            ctx.stack.stop(announcer)
        ctx.stack.stop(worker)
        ctx.stack.stop(api)
        reset_emulator(emulator_url)
    return _figures(ctx, blocks, combined(quiets), rounds)


def _seed_audience(ctx: Context, devices: int) -> None:
    """The announcement's phones, once per store (the fan-out scenario seeds the same ones)."""

    async def work(database: Any) -> None:
        if not await database["devices"].find_one({"token": "bench-fanout-000000000"}, {"_id": 1}):
            await seed.devices_without_citizens(database, devices, ctx.progress)

    ctx.db(work)


def _block(run: _Run, kind: str, codes: list[str]) -> Block:
    announcement_id, start, sent_before, broadcast_sent = None, 0.0, 0, 0
    if kind == "during":
        announcement_id = post_announcement(run.url, run.admin)
        start = _first_batch_sent(run, announcement_id)
        sent_before = announcement_state(run.url, announcement_id, run.admin)["progress"]["sent"]
    meter = IntervalMeter(run.ctx, run.groups)
    meter.start()
    sent, watched = asyncio.run(_events(run, codes, announcement_id))
    ok = {codes[s.index] for s in sent if s.status == 200}
    if announcement_id is None:
        arrived = wait_for_pushes(run.emulator_url, ok, run.worker, 60)
        interval = meter.stop()
    else:
        # Stopped before the rest of the broadcast: its cost is in this block only while it overlaps.
        interval = meter.stop()
        broadcast_sent = announcement_state(run.url, announcement_id, run.admin)["progress"]["sent"] - sent_before
        wait_for_announcement(run.url, announcement_id, run.admin, run.worker, run.devices, run.ctx)
        arrived = wait_for_pushes(run.emulator_url, ok, run.worker, 60)
    reset_emulator(run.emulator_url)
    end = broadcast_end(watched)
    # From the agency's request, not its answer: the push is queued before the answer leaves,
    # so an answer held back by other work would make the push look early (decision 16,
    # 2026-12-03 afternoon).
    pairs = [(s.started, arrived.get(codes[s.index])) for s in sent if s.status == 200]
    latencies, outside = split_by_window(pairs, start, end)
    if outside:
        run.ctx.progress(f"    {outside} events outside the broadcast: raise --fanout-devices or lower --push-seconds")
    answers, _ = split_by_window([(s.started, s.answered) for s in sent if s.status == 200], start, end)
    failed = sum(1 for s in sent if s.status != 200)
    block = Block(kind, latencies, len(sent), failed, len(ok) - len(arrived), outside, interval, answers)
    block.broadcast_sent = broadcast_sent
    sending = [w for w in watched if w[2]]
    if len(sending) >= 2:
        (t0, sent0, _), (t1, sent1, _) = sending[0], sending[-1]
        block.sent_per_second = (sent1 - sent0) / (t1 - t0) if t1 > t0 else None
    return block


def _first_batch_sent(run: _Run, announcement_id: str) -> float:
    """Wait until the broadcast is sending (planning done, a batch out); that moment."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        shown = announcement_state(run.url, announcement_id, run.admin)
        if shown["progress"]["sent"] > 0 or shown["state"] == "done":
            return time.time()
        if not run.worker.alive():
            raise DevStackError(f"the worker died:\n{run.worker.log_tail()}")
        time.sleep(0.2)
    raise DevStackError("the announcement sent nothing within 120 s")


async def _events(
    run: _Run, codes: list[str], announcement_id: str | None
) -> tuple[list[Sent], list[tuple[float, int, bool]]]:
    """The block's events; with an announcement, its progress beside them each second as
    (time, messages sent, still sending)."""
    watched: list[tuple[float, int, bool]] = []

    async def watch() -> None:
        headers = {"Authorization": f"Bearer {run.admin}"}
        async with httpx.AsyncClient(base_url=run.url, headers=headers, timeout=30) as client:
            while True:
                shown = (await client.get(f"/api/v1/admin/announcements/{announcement_id}")).json()
                watched.append((time.time(), shown["progress"]["sent"], shown["state"] != "done"))
                if shown["state"] == "done":
                    return
                await asyncio.sleep(1.0)

    watcher = asyncio.create_task(watch()) if announcement_id else None
    try:
        sent = await open_loop(run.url, run.agency, codes, run.rate, run.ctx.config.push_grace)
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    return sent, watched


def broadcast_end(watched: Sequence[tuple[float, int, bool]]) -> float | None:
    """From progress samples (time, messages sent, still sending): when the broadcast was
    last seen sending before it was seen done (0.0 if never seen sending), None if it
    was still sending at the last sample."""
    last_sending = 0.0
    for at, _, sending in watched:
        if not sending:
            return last_sending
        last_sending = at
    return None


def _figures(ctx: Context, blocks: dict[str, list[Block]], quiet: Interval, rounds: int) -> list[Figure]:
    rate = ctx.config.push_rate
    figures: dict[str, Figure] = {}
    for kind, kind_blocks in blocks.items():
        latencies = [ms for b in kind_blocks for ms in b.latencies_ms]
        interval = combined([b.interval for b in kind_blocks])
        events = sum(b.events for b in kind_blocks)
        name = "status→push alone" if kind == "alone" else "status→push during announcement"
        figure = latency_figure(
            name, f"{rate:g}/s", latencies, interval.seconds, errors=sum(b.failed + b.missing for b in kind_blocks)
        )
        figure.cpu = interval.shares()
        figure.settings = {
            "rate": rate,
            "seconds": ctx.config.push_seconds,
            "rounds": rounds,
            "worker": ctx.config.worker_settings,
        }
        figure.extra = {
            "events": events,
            "pushed": len(latencies),
            "outside_the_broadcast": sum(b.outside for b in kind_blocks),
            "p99_per_round_ms": [latency_figure(kind, "", b.latencies_ms, 1.0).p99_ms for b in kind_blocks],
            # The agency's answer alone: if it grows too, the shared store or CPU is in the way,
            # not (only) the worker.
            "answer_p50_p99_ms": _p50_p99([ms for b in kind_blocks for ms in b.answers_ms]),
            **per_event_costs(interval, quiet, events),
        }
        if kind == "during":
            figure.extra["devices"] = ctx.config.fanout_devices
            figure.extra["announcement_msg_per_s"] = [round(b.sent_per_second or 0, 1) for b in kind_blocks]
            figure.extra.update(broadcast_store_costs(interval, sum(b.broadcast_sent for b in kind_blocks)))
        if interval.micros is not None and interval.seconds:
            figure.extra["store_in_flight"] = round(sum(interval.micros.values()) / 1e6 / interval.seconds, 3)
        figures[kind] = figure
    alone, during = figures["alone"], figures["during"]
    ratio, met = lane_ratio(alone.p99_ms, during.p99_ms)
    per_round, median_ratio = round_ratios(alone.extra["p99_per_round_ms"], during.extra["p99_per_round_ms"])
    if ratio is not None:
        during.ratios["p99_vs_alone"] = ratio
    if median_ratio is not None:
        during.ratios["median_round_p99_vs_alone"] = median_ratio
    during.extra["p99_vs_alone_per_round"] = per_round
    verdict = "met" if met else "not met"
    during.note = (
        f"p99 during ÷ alone = {ratio if ratio is not None else '-'} pooled, {per_round} round by round "
        f"(target ≤ {TARGET:g}: {verdict}); CPU and store operations per event include the broadcast's own "
        "while it overlapped"
    )
    if alone.errors or during.errors:
        during.note += f"; {alone.errors} + {during.errors} events unanswered or unpushed: saturated, lower the rate"
    for figure in (alone, during):
        cpu, ops = figure.extra["cpu_ms_per_event"], figure.extra.get("store_ops_per_event_total")
        shown = " ".join(f"{k} {v:g}" for k, v in cpu.items())
        ctx.progress(
            f"  {figure.scenario}: p50/p95/p99 {_ms(figure.p50_ms)}/{_ms(figure.p95_ms)}/{_ms(figure.p99_ms)} ms; "
            f"CPU ms per event {shown}; store ops per event {ops} (net of the quiet interval); "
            f"agency's answer p50/p99 {[_ms(v) for v in figure.extra['answer_p50_p99_ms']]} ms"
        )
    costs = {k: v for k, v in during.extra.items() if k.startswith("broadcast_store")}
    busy = [figure.extra.get("store_in_flight") for figure in (alone, during)]
    ctx.progress(
        f"  broadcast's store work per message: {costs}; store commands in progress on average alone, during: {busy}"
    )
    ctx.progress(f"  {during.note}")
    return [alone, during]


def _p50_p99(values: list[float]) -> list[float | None]:
    figure = latency_figure("", "", values, 1.0)
    return [figure.p50_ms, figure.p99_ms]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
