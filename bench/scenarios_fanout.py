"""Fan-out: an announcement to many devices through the real path (API → arq worker →
firebase-admin → emulator), beside the emulator's own ceiling under bare HTTP/2 and HTTP/1.1
clients; and one worker draining a queue of personal notifications."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.queue import enqueue_notification, open_pool
from bench import seed, system
from bench.context import Context, http_json
from bench.loadgen import run_wrk, wrk_argv
from bench.scenarios_push import reset_emulator, store_groups
from bench.servers import FCM_PROJECT_ID
from bench.stats import Figure, WrkResult, parse_h2load, wrk_figure
from devtools.devstack import DevStackError, ManagedProcess

EMULATOR_BEARER = "local-fcm-token"
SEND_PATH = f"/v1/projects/{FCM_PROJECT_ID}/messages:send"


def emulator_body(device: str = "@@") -> str:
    """A send request like firebase-admin's; rotate.lua puts each line's token for "@@"."""
    message = {
        "token": device,
        "notification": {"title": "Thông báo từ Cổng Dịch vụ công", "body": "Hệ thống sẽ bảo trì từ 22:00."},
        "data": {"type": "announcement", "notification_id": "bench-announcement-0001"},
        "android": {"collapse_key": "bench-announcement-0001"},
        "apns": {"headers": {"apns-collapse-id": "bench-announcement-0001"}},
    }
    return json.dumps({"message": message}, ensure_ascii=False)


def record_counts(emulator_url: str) -> None:
    """Counters per token instead of message copies: a broadcast keeps no 100,000 copies."""
    status, _ = http_json("PUT", f"{emulator_url}/emulator/settings", {"record": "counts"})
    if status != 200:
        raise DevStackError(f"the FCM emulator refused record=counts ({status}): is it the current one?")


def emulator_ceilings(ctx: Context) -> list[Figure]:
    """The emulator alone under compiled clients: h2load over HTTP/2 with prior knowledge (as
    the sender speaks to it) and wrk over HTTP/1.1. The emulator is the server here, so the
    clients run on the server's CPUs and the emulator keeps its own."""
    emulator_url = ctx.stack.start_emulator()
    assert ctx.stack.emulator is not None
    record_counts(emulator_url)
    cpus = ",".join(map(str, sorted(ctx.stack.layout.server)))
    body = ctx.workdir / "emulator.json"
    figures = []

    body.write_text(emulator_body("bench-h2load"))
    log = ctx.workdir / "h2load.log"
    requests = max(2_000, 1_500 * ctx.config.seconds)
    argv = ["taskset", "-c", cpus, "h2load", "-n", str(requests), "-c", "1", "-m", "100", "-d", str(body)]
    argv += ["-H", f"authorization: Bearer {EMULATOR_BEARER}", "-H", "content-type: application/json"]
    argv += [f"--log-file={log}", emulator_url + SEND_PATH]
    meter = system.CpuMeter({"emulator": ctx.stack.emulator.pid})
    meter.start()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    cpu = meter.stop()
    result = parse_h2load(done.stdout, log.read_text() if log.exists() else "")
    figures.append(_ceiling_figure(ctx, "emulator ceiling h2", "1×100 streams", result, cpu, "h2load, h2c"))

    body.write_text(emulator_body())
    rows = [(SEND_PATH, f"Bearer {EMULATOR_BEARER}", f"bench-wrk-{i:06d}") for i in range(5000)]
    lines = ctx.lines("emulator", rows)
    argv = wrk_argv(
        emulator_url, lines, concurrency=64, seconds=ctx.config.seconds, threads=1, cpus=cpus, method="POST", body=body
    )
    meter.start()
    t0 = time.monotonic()
    run = run_wrk(argv)
    cpu = meter.stop(also_ours=run.cpu_share * (time.monotonic() - t0))
    cpu["wrk"] = run.cpu_share
    figures.append(_ceiling_figure(ctx, "emulator ceiling h1", 64, run.result, cpu, "wrk, HTTP/1.1 keep-alive"))
    reset_emulator(emulator_url)
    return figures


def _ceiling_figure(
    ctx: Context, scenario: str, concurrency: int | str, result: WrkResult, cpu: dict[str, float], client: str
) -> Figure:
    assert ctx.stack.emulator is not None
    figure = wrk_figure(scenario, 1, result)
    figure.concurrency, figure.unit, figure.cpu = concurrency, "msg/s", cpu
    figure.rss_mb = system.rss_mb(system.process_tree(ctx.stack.emulator.pid))
    figure.settings = {"client": client, "record": "counts"}
    return figure


async def _admin_token(database: AsyncDatabase[dict[str, Any]], jwt_secret: str) -> str:
    return await seed.staff_token(database, jwt_secret, role="admin")


def admin_token(ctx: Context) -> str:
    return ctx.db(lambda database: _admin_token(database, ctx.stack.jwt_secret))


ANNOUNCEMENT = {
    "title": {"vi": "Thông báo bảo trì", "en": "Maintenance notice"},
    "body": {"vi": "Hệ thống bảo trì từ 22:00 đến 23:00.", "en": "Maintenance from 22:00 to 23:00."},
}


def post_announcement(url: str, token: str) -> str:
    """`POST /api/v1/admin/announcements` to every device, with a fresh Idempotency-Key; its id."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-{secrets.token_hex(8)}"}
    status, created = http_json("POST", f"{url}/api/v1/admin/announcements", ANNOUNCEMENT, headers)
    if status not in (200, 201):
        raise DevStackError(f"the announcement answered {status}: {created}")
    return str(created["id"])


def announcement_state(url: str, announcement_id: str, token: str) -> dict[str, Any]:
    """The announcement as an admin sees it: `state` and `progress`."""
    status, shown = http_json(
        "GET", f"{url}/api/v1/admin/announcements/{announcement_id}", headers={"Authorization": f"Bearer {token}"}
    )
    if status != 200:
        raise DevStackError(f"the announcement's progress answered {status}: {shown}")
    return dict(shown)


def announcement(ctx: Context) -> Figure:
    """`POST /api/v1/admin/announcements` to everyone, through the API and one arq worker,
    timed from the API's answer to the last batch done."""
    devices = ctx.config.fanout_devices
    ctx.services()
    emulator_url = ctx.stack.start_emulator()
    ctx.db(lambda database: seed.devices_without_citizens(database, devices, ctx.progress))
    token = admin_token(ctx)
    api = ctx.stack.start_server("api-announce", ctx.config.api_target, ctx.config.server, "/health/live")
    worker = ctx.stack.start_worker("worker-announce", ctx.config.worker_settings)
    record_counts(emulator_url)
    url = api.url or ""
    meter = system.CpuMeter({"worker": worker.pid, "api": api.pid, **store_groups(ctx)})
    try:
        meter.start()
        announcement_id = post_announcement(url, token)
        t0 = time.monotonic()
        # --profile: the worker, from the first batches on, for about half the broadcast.
        profiler = ctx.start_profiler(worker, max(int(devices / 2000), 3), "announcement-worker", delay=2.0)
        shown = wait_for_announcement(url, announcement_id, token, worker, devices, ctx)
        seconds = time.monotonic() - t0
        cpu = meter.stop()
        profile = ctx.profile_summary(*profiler) if profiler is not None else None
        rss = system.rss_mb(system.process_tree(worker.pid))
        received = http_json("GET", f"{emulator_url}/emulator/counts")[1]
    finally:
        ctx.stack.stop(worker)
        ctx.stack.stop(api)
        reset_emulator(emulator_url)
    progress = shown["progress"]
    figure = Figure("announcement", "1 worker", progress["sent"] / seconds, unit="msg/s", count=progress["sent"])
    figure.errors = progress["failed"] + progress["pending"] + max(devices - progress["devices"], 0)
    figure.cpu, figure.rss_mb = cpu, rss
    figure.settings = {"path": "POST /api/v1/admin/announcements → arq (workers.settings) → FcmSender → emulator"}
    figure.extra = {"devices": devices, "progress": progress, "emulator": received}
    figure.extra["cpu_ms_per_message"] = {
        k: round(v * 1000 * seconds / max(progress["sent"], 1), 3) for k, v in cpu.items()
    }
    figure.note = "timed from the API's answer to the last batch done, planning included; one worker process"
    if profile is not None:
        figure.extra["profile"] = profile
    return figure


def wait_for_announcement(
    url: str, announcement_id: str, token: str, worker: ManagedProcess, devices: int, ctx: Context
) -> dict[str, Any]:
    deadline = time.monotonic() + max(600.0, devices / 50)
    last_report = 0.0
    while True:
        shown = announcement_state(url, announcement_id, token)
        if shown["state"] == "done":
            return shown
        if not worker.alive():
            raise DevStackError(f"the worker died:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            raise DevStackError(f"the announcement was not done in time: {shown['progress']}")
        if time.monotonic() - last_report > 15:
            last_report = time.monotonic()
            ctx.progress(f"    announcement: {shown['progress']['sent']:,} of {devices:,} devices sent")
        time.sleep(1.0)


def queue_drain(ctx: Context) -> Figure:
    """Today's path for personal notifications, one job each: how fast one arq worker drains
    a queue of notifications to citizens with one phone each."""
    population = ctx.population()
    count = ctx.config.queue_messages
    ctx.progress(f"Personal notifications: {count:,} queued, one arq worker ...")
    ctx.stack.start_emulator()
    owners = [population.ids[i % len(population.ids)] for i in range(count + 1)]
    ids = ctx.db(lambda database: _seed_notifications(database, owners))
    worker = ctx.stack.start_worker("worker-drain", ctx.config.worker_settings)
    settings = Settings(redis_url=ctx.stack.redis_url, queue_name=ctx.stack.queue_name)

    async def drain() -> tuple[float, int]:
        client, database = await seed.connect(ctx.stack.start_store(), ctx.stack.db_name)
        pool = await open_pool(settings)
        try:
            notifications = database["notifications"]
            await enqueue_notification(pool, str(ids[0]))  # the worker is up once this one is done
            await _until(lambda: _done(notifications, ids[:1]), 1, worker, 60)
            t0 = time.monotonic()
            for nid in ids[1:]:
                await enqueue_notification(pool, str(nid))
            # Redis says when the queue is empty; only then is the store asked, so the bench's
            # own polling (a count over 5,000 ids) does not take the store's CPU meanwhile.
            await _until(lambda: _queued(pool, ctx.stack.queue_name), 0, worker, 600, at_most=True)
            await _until(lambda: _done(notifications, ids[1:]), len(ids) - 1, worker, 600)
            elapsed = time.monotonic() - t0
            found = notifications.find({"_id": {"$in": ids[1:]}}, {"state": 1})
            states = Counter([raw["state"] async for raw in found])
            return elapsed, states.get("sent", 0)
        finally:
            await pool.aclose()
            await client.close()

    meter = system.CpuMeter({"worker": worker.pid, **store_groups(ctx)})
    try:
        meter.start()
        elapsed, sent = asyncio.run(drain())
        cpu = meter.stop()
        rss = system.rss_mb(system.process_tree(worker.pid))
    finally:
        ctx.stack.stop(worker)
        reset_emulator(ctx.stack.start_emulator())
    figure = Figure("notification queue", "1 worker", count / elapsed, unit="msg/s", count=count, errors=count - sent)
    figure.cpu, figure.rss_mb = cpu, rss
    figure.settings = {"worker": "arq workers.settings", "jobs": "one per notification"}
    figure.note = "one job per citizen notification (reload, devices, send, record); throughput only"
    return figure


def fan_out(ctx: Context) -> list[Figure]:
    devices = ctx.config.fanout_devices
    ctx.progress(f"Fan-out: the emulator's ceilings, then an announcement to {devices:,} devices ...")
    return [*emulator_ceilings(ctx), announcement(ctx), queue_drain(ctx)]


async def _done(notifications: Any, ids: list[ObjectId]) -> int:
    count: int = await notifications.count_documents({"_id": {"$in": ids}, "state": {"$ne": "pending"}})
    return count


async def _queued(pool: Any, queue_name: str) -> int:
    count: int = await pool.zcard(queue_name)
    return count


async def _until(check: Any, target: int, worker: ManagedProcess, seconds: float, *, at_most: bool = False) -> None:
    """Wait until `check()` reaches `target` (or falls to it, with `at_most`)."""
    deadline = time.monotonic() + seconds
    while (await check() > target) if at_most else (await check() < target):
        if not worker.alive():
            raise DevStackError(f"the worker died:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            raise DevStackError(f"the worker did not finish in {seconds:.0f} s:\n{worker.log_tail()}")
        await asyncio.sleep(0.2)


async def _seed_notifications(database: AsyncDatabase[dict[str, Any]], owners: list[ObjectId]) -> list[ObjectId]:
    """Pending notifications as the outbox makes them (app/inbox/outbox.py), one per owner."""
    now = datetime.now(UTC)
    tag = secrets.token_hex(3)
    template = seed.template(
        _notification_model(),
        citizen_id=ObjectId(),
        key="-",
        kind="dossier_status",
        params={
            "dossier_code": "-",
            "status": "received",
            "service_name_vi": "Đăng ký thường trú",
            "service_name_en": "Permanent residence registration",
        },
        data={"type": "dossier_status", "dossier_code": "-", "status": "received"},
        created_at=now,
        updated_at=now,
        next_attempt_at=now,
    )
    ids = [ObjectId() for _ in owners]
    docs = []
    for n, (nid, owner) in enumerate(zip(ids, owners, strict=True)):
        code = f"HS-Q{tag}-{n:07d}"
        docs.append(
            {
                **template,
                "_id": nid,
                "citizen_id": owner,
                "key": f"dossier:{code}:received",
                "params": {**template["params"], "dossier_code": code},
                "data": {**template["data"], "dossier_code": code},
            }
        )
    await database["notifications"].insert_many(docs, ordered=False)
    return ids


def _notification_model() -> Any:
    from models.notification import Notification

    return Notification
