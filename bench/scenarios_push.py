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
from bench.context import Context, http_json, store_ops
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


def status_to_push(ctx: Context) -> list[Figure]:
    population = ctx.population()
    rate, seconds = ctx.config.push_rate, ctx.config.push_seconds
    count = max(int(rate * seconds), 1)
    service = _service(ctx, EVENT_SERVICE)
    ctx.progress(f"Status to push: {count} agency events at {rate:g}/s, timed from the agency's answer to the push")
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

        async def post_event(client: httpx.AsyncClient, code: str) -> int:
            answer = await client.post(
                f"/api/v1/agency/dossiers/{code}/events", json={"event_id": f"{code}-received", "status": "received"}
            )
            return answer.status_code

        async def generate() -> list[Sent]:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
                # Warm-up: a few events whose pushes must arrive before the clock starts.
                for code in codes[:warm]:
                    if (status := await post_event(client, code)) != 200:
                        raise DevStackError(f"an agency event answered {status}: see {api.log_path}")
                _wait_for_pushes(emulator_url, set(codes[:warm]), worker, 60)
                reset_emulator(emulator_url)
                measured = codes[warm:]
                return await steady_rate(
                    lambda i: post_event(client, measured[i]),
                    rate=rate,
                    count=len(measured),
                    grace=ctx.config.push_grace,
                )

        meter = system.CpuMeter({"api": api.pid, "worker": worker.pid, **store_groups(ctx)})
        meter.start()
        ops_before = store_ops(ctx)
        sent = asyncio.run(generate())
        arrived = _wait_for_pushes(emulator_url, {codes[warm + s.index] for s in sent if s.status == 200}, worker, 30)
        cpu = meter.stop()
        ops_after = store_ops(ctx)
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
    push.cpu, push.rss_mb = cpu, rss
    push.settings = {
        **ctx.config.server.describe(),
        "rate": rate,
        "seconds": seconds,
        "worker": "arq, workers.settings",
    }
    push.extra = {"events": len(sent), "pushed": len(latencies), "missing": missing, "worker_rss_mb": worker_rss}
    if ops_before is not None and ops_after is not None and sent:
        # Both the API's and the worker's operations, per event (the warm-up's are not counted).
        push.extra["store_ops_per_event"] = system.ops_per_request(ops_before, ops_after, len(sent), ctx.stack.db_name)
    if missing or failed:
        errors = Counter(s.error or f"HTTP {s.status}" for s in sent if s.status != 200)
        push.extra["event_errors"] = dict(errors.most_common(5))
        push.note = f"{failed} events not answered 200 ({dict(errors.most_common(2))}), {missing} pushes not received"
    answers = [(s.answered - s.started) * 1000 for s in sent if s.status == 200]
    answer = latency_figure("agency event answer", f"{rate:g}/s", answers, span, unit="req/s", errors=failed)
    lag = [(s.started - s.scheduled) * 1000 for s in sent]
    answer.extra = {"generator_lag_p99_ms": percentile(lag, 99) if lag else None}
    answer.note = (
        f"open loop from one asyncio client; its start lag p99 was {answer.extra['generator_lag_p99_ms']:.1f} ms"
    )
    return [push, answer]


def _wait_for_pushes(emulator_url: str, codes: set[str], worker: ManagedProcess, timeout: float) -> dict[str, float]:
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
