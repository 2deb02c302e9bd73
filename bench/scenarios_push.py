"""Push scenarios: status to push (agency event → phone), and fan-out (messages a second a
worker sends, beside the emulator's own ceiling)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from typing import Any

import httpx

from bench import seed, system
from bench.context import Context, Interval, IntervalMeter, http_json, quiet_interval
from bench.loadgen import Sent, steady_rate
from bench.stats import Figure, latency_figure, percentile
from devtools.devstack import DevStackError, ManagedProcess

EVENT_SERVICE = "RESIDENCE_REGISTRATION"
EMULATOR_BEARER = "local-fcm-token"


def _emulator_messages(url: str) -> list[dict[str, Any]]:
    status, body = http_json("GET", f"{url}/emulator/messages")
    if status != 200:
        raise DevStackError(f"the FCM emulator answered {status} to /emulator/messages")
    messages: list[dict[str, Any]] = body["messages"]
    return messages


def reset_emulator(url: str) -> None:
    http_json("DELETE", f"{url}/emulator/messages")


def _service(ctx: Context, code: str) -> dict[str, Any]:
    return next(s for s in ctx.services() if s["code"] == code)


async def post_event(client: httpx.AsyncClient, code: str) -> int:
    """The agency's `received` event on dossier `code`; its answer's status."""
    answer = await client.post(
        f"/api/v1/agency/dossiers/{code}/events", json={"event_id": f"{code}-received", "status": "received"}
    )
    return answer.status_code


def status_to_push(ctx: Context) -> list[Figure]:
    population = ctx.population()
    rate, seconds = ctx.config.push_rate, ctx.config.push_seconds
    count = max(int(rate * seconds), 1)
    service = _service(ctx, EVENT_SERVICE)
    ctx.progress(
        f"Status to push: {count} agency events at {rate:g}/s, timed from the agency's answer and from its request"
    )
    emulator_url = ctx.stack.start_emulator()
    warm = 5
    owners = [population.ids[i % len(population.ids)] for i in range(count + warm)]
    tag = f"P{secrets.token_hex(3).upper()}"
    codes = ctx.db(lambda database: seed.submitted_dossiers(database, owners, service, tag))
    api = ctx.stack.start_server("api-push", ctx.config.api_target, ctx.config.server, "/health/live")
    worker = ctx.stack.start_worker("worker-push", ctx.config.worker_settings)
    token = seed.agency_token(service["agency_code"], ctx.stack.jwt_secret)
    try:
        url = api.url or ""
        warm_up(url, token, codes[:warm], emulator_url, worker)
        groups = {"api": api.pid, "worker": worker.pid, **store_groups(ctx)}
        # The crons' own store operations over an interval as long as the events', subtracted below.
        quiet = quiet_interval(ctx, groups, seconds)
        meter = IntervalMeter(ctx, groups)
        meter.start()
        measured = codes[warm:]
        sent = asyncio.run(open_loop(url, token, measured, rate, ctx.config.push_grace))
        arrived = wait_for_pushes(emulator_url, {measured[s.index] for s in sent if s.status == 200}, worker, 30)
        block = meter.stop()
        rss = system.rss_mb(system.process_tree(api.pid))
        worker_rss = system.rss_mb(system.process_tree(worker.pid))
    finally:
        ctx.stack.stop(worker)
        ctx.stack.stop(api)
        reset_emulator(emulator_url)
    measured_codes = codes[warm:]
    latencies = [
        (arrived[measured_codes[s.index]] - s.answered) * 1000
        for s in sent
        if s.status == 200 and measured_codes[s.index] in arrived
    ]
    failed = sum(1 for s in sent if s.status != 200)
    missing = sum(1 for s in sent if s.status == 200 and measured_codes[s.index] not in arrived)
    span = max(s.answered for s in sent) - min(s.scheduled for s in sent)
    push = latency_figure("status→push", f"{rate:g}/s", latencies, span, errors=failed + missing)
    push.cpu, push.rss_mb = block.shares(), rss
    push.settings = {
        **ctx.config.server.describe(),
        "rate": rate,
        "seconds": seconds,
        "worker": "arq, workers.settings",
    }
    push.extra = {"events": len(sent), "pushed": len(latencies), "missing": missing, "worker_rss_mb": worker_rss}
    if sent:
        # Both the API's and the worker's operations per event, the warm-up's not counted, and
        # net of the crons' (decision 16, 2026-12-02).
        push.extra.update(per_event_costs(block, quiet, len(sent)))
    if missing or failed:
        errors = Counter(s.error or f"HTTP {s.status}" for s in sent if s.status != 200)
        push.extra["event_errors"] = dict(errors.most_common(5))
        push.note = f"{failed} events not answered 200 ({dict(errors.most_common(2))}), {missing} pushes not received"
    answers = [(s.answered - s.started) * 1000 for s in sent if s.status == 200]
    # The citizen's wait from the agency's request: the push is queued before the answer
    # leaves, so the figure from the answer flatters a slow answer (and can go below zero).
    from_request = [
        (arrived[measured_codes[s.index]] - s.started) * 1000
        for s in sent
        if s.status == 200 and measured_codes[s.index] in arrived
    ]
    whole = latency_figure("agency event→push", f"{rate:g}/s", from_request, span, errors=failed + missing)
    answer = latency_figure("agency event answer", f"{rate:g}/s", answers, span, unit="req/s", errors=failed)
    lag = [(s.started - s.scheduled) * 1000 for s in sent]
    answer.extra = {"generator_lag_p99_ms": percentile(lag, 99) if lag else None}
    answer.note = (
        f"open loop from one asyncio client; its start lag p99 was {answer.extra['generator_lag_p99_ms']:.1f} ms"
    )
    return [push, whole, answer]


def per_event_costs(block: Interval, quiet: Interval, events: int) -> dict[str, Any]:
    """Store operations (per collection, and in all) and CPU milliseconds (per process group)
    that one event cost: raw, and net of a quiet interval's background scaled to the block."""
    costs: dict[str, Any] = {}
    cpu = system.net_per_event(block.cpu_seconds, quiet.cpu_seconds, block.seconds, quiet.seconds, events)
    costs["cpu_ms_per_event"] = {k: round(v * 1000, 2) for k, v in cpu.items() if k != "other"}
    if block.ops is not None:
        costs["store_ops_per_event_raw"] = {k: round(v / events, 3) for k, v in block.ops.items()}
        costs["store_ops_per_event_raw_total"] = round(sum(block.ops.values()) / events, 2)
    if block.micros is not None:
        # Where the store's time goes, collection by collection (its `top`), background included.
        costs["store_ms_per_event_raw"] = {k: round(v / events / 1000, 2) for k, v in block.micros.items() if v > 0}
    if block.ops is not None and quiet.ops is not None:
        net = system.net_per_event(block.ops, quiet.ops, block.seconds, quiet.seconds, events)
        costs["store_ops_per_event"] = net
        costs["store_ops_per_event_total"] = round(sum(net.values()), 2)
        costs["quiet_ops_per_second"] = round(sum(quiet.ops.values()) / quiet.seconds, 2)
    return costs


def warm_up(url: str, token: str, codes: list[str], emulator_url: str, worker: ManagedProcess) -> None:
    """A few events whose pushes must arrive before any clock starts."""

    async def send() -> None:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            for code in codes:
                if (status := await post_event(client, code)) != 200:
                    raise DevStackError(f"an agency event on {code} answered {status}: see the API's log")

    asyncio.run(send())
    wait_for_pushes(emulator_url, set(codes), worker, 60)
    reset_emulator(emulator_url)


async def open_loop(url: str, token: str, codes: list[str], rate: float, grace: float) -> list[Sent]:
    """One agency event per code at a steady `rate`, open loop (bench/loadgen.py)."""
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        return await steady_rate(lambda i: post_event(client, codes[i]), rate=rate, count=len(codes), grace=grace)


def wait_for_pushes(emulator_url: str, codes: set[str], worker: ManagedProcess, timeout: float) -> dict[str, float]:
    """Poll the emulator until a push arrived for each dossier code; returns code → received_at."""
    deadline = time.monotonic() + timeout
    arrived: dict[str, float] = {}
    while True:
        for message in _emulator_messages(emulator_url):
            code = (message.get("data") or {}).get("dossier_code")
            if code in codes and code not in arrived:
                arrived[code] = float(message["received_at"])
        if len(arrived) >= len(codes) or time.monotonic() > deadline:
            return arrived
        if not worker.alive():
            raise DevStackError(f"the worker died:\n{worker.log_tail()}")
        time.sleep(1.0)  # each poll lists every message the emulator kept


def store_groups(ctx: Context) -> dict[str, int]:
    groups = {}
    if ctx.stack.store is not None:
        groups["store"] = ctx.stack.store.pid
    if ctx.stack.emulator is not None:
        groups["emulator"] = ctx.stack.emulator.pid
    return groups
