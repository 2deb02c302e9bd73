"""arq WorkerSettings: the jobs and the cron jobs of every area. A new cron job is one line.

Run with `python -m workers` (workers/__main__.py: arq's worker, riding out Redis outages).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any, ClassVar

import structlog
from arq.cron import CronJob, cron
from arq.worker import Worker, func

from app import db
from app.config import get_settings, require_production_secrets
from app.dossiers.deadlines import overdue_job
from app.dossiers.expected import expected_late_job
from app.logs import configure_worker_logging
from app.queue import (
    DELIVER_WEBHOOK,
    PLAN_ANNOUNCEMENT,
    SEND_ANNOUNCEMENT_BATCH,
    SEND_NOTIFICATION,
    announcement_queue,
    redis_settings,
    webhook_queue,
)
from app.statistics.rollup import rollup_job
from app.wallet import page_cache as wallet_pages
from workers.audit import seal_audit_job
from workers.escalation_jobs import close_sms_sender, escalation_job, open_sms_sender
from workers.event_loop import use_uvloop_when_run_by_arq
from workers.push_jobs import (
    close_senders,
    make_senders,
    plan_announcement_job,
    purge_inbox_job,
    send_announcement_batch_job,
    send_notification_job,
    sweep_job,
)
from workers.redis_outages import OutageTolerantWorker, riding_out_outages, serving_started
from workers.reminders import wallet_upkeep_job
from workers.retention_jobs import retention_job
from workers.webhook_jobs import close_webhook_client, deliver_webhook_job, open_webhook_client, sweep_webhooks_job

log = structlog.get_logger(__name__)
settings = get_settings()
require_production_secrets(settings)
use_uvloop_when_run_by_arq()
# Attempts are counted per device (workers/delivery.py), so arq's count only has to leave
# room for them plus a few quiet-hour holds; a job that runs out anyway is queued again by the
# sweeper, since its notification is still pending.
MAX_TRIES = settings.notification_max_attempts + 4
# The sweeper's schedule: every `sweep_every_seconds` of each minute.
SWEEP_SECONDS = set(range(0, 60, max(1, settings.sweep_every_seconds)))


ANNOUNCEMENT_FUNCTIONS: list[Any] = [
    func(plan_announcement_job, name=PLAN_ANNOUNCEMENT, max_tries=MAX_TRIES),
    func(send_announcement_batch_job, name=SEND_ANNOUNCEMENT_BATCH, max_tries=MAX_TRIES),
]


def lane_worker(ctx: dict[str, Any], queue_name: str, max_jobs: int, **work: Any) -> Worker:
    """A second arq worker in this process, on a queue of its own, sharing the Redis pool, the
    store client and the senders. Its own queue keeps bulk work out of the citizens' pushes'
    lane (decision 0025); its own worker keeps long jobs' timeouts out of that lane too: arq
    holds a killed worker's job for the longest timeout of its worker's functions plus 10 s,
    so a 10-minute cron beside send_notification would delay a crashed push by 10 minutes."""
    return OutageTolerantWorker(
        queue_name=queue_name,
        redis_pool=ctx["redis"],
        ctx=ctx,
        handle_signals=False,
        keep_result=0,
        max_jobs=max_jobs,
        job_timeout=settings.worker_job_timeout_seconds,
        poll_delay=0.1,
        allow_abort_jobs=False,
        health_check_interval=30,
        **work,
    )


def announcement_worker(ctx: dict[str, Any]) -> Worker:
    # Batches are few and long (≤500 devices each); the quota in Redis paces them anyway.
    return lane_worker(
        ctx,
        announcement_queue(settings.queue_name),
        max(2, settings.announcement_batches_in_flight),
        functions=ANNOUNCEMENT_FUNCTIONS,
    )


def statistics_worker(ctx: dict[str, Any]) -> Worker:
    # Statistics rollups each minute (a first run over a large store may take minutes); the
    # expected-date warnings twice an hour (decision 26).
    return lane_worker(
        ctx,
        f"{settings.queue_name}:statistics",
        1,
        functions=[],
        cron_jobs=[
            cron(rollup_job, second={40}, unique=True, timeout=600),  # type: ignore[arg-type]
            cron(expected_late_job, minute={13, 43}, second={0}, unique=True, timeout=600),  # type: ignore[arg-type]
        ],
    )


def webhook_worker(ctx: dict[str, Any]) -> Worker:
    # Calls to outside parties that may be slow or down (agencies' webhook receivers, the SMS
    # provider) wait here, never in the pushes' lane; each attempt is bounded by
    # WEBHOOK_TIMEOUT_SECONDS and each subscription by its in-flight cap (app/webhooks/delivery.py).
    # Retries are deferred jobs (arq Retry), so the try count must cover a day of doubling
    # delays and the waits of a busy subscription.
    return lane_worker(
        ctx,
        webhook_queue(settings.queue_name),
        20,
        functions=[func(deliver_webhook_job, name=DELIVER_WEBHOOK, max_tries=1000)],
        cron_jobs=[
            cron(sweep_webhooks_job, second=SWEEP_SECONDS, unique=True),  # type: ignore[arg-type]
            # Unread critical notices: SMS, then a letter (app/escalation/service.py).
            cron(escalation_job, second={50}, unique=True),  # type: ignore[arg-type]
        ],
    )


LANES = {"announcement": announcement_worker, "statistics": statistics_worker, "webhooks": webhook_worker}


async def startup(ctx: dict[str, Any]) -> None:
    configure_worker_logging()
    serving_started()  # from here on, a lost Redis is waited for, not fatal
    ctx["mongo"] = await db.connect(settings)
    wallet_pages.publish_with(ctx["redis"])  # the worker's wallet writes reach the API's pages
    make_senders(ctx)
    await open_webhook_client(ctx)
    await open_sms_sender(ctx)
    ctx["lanes"] = []
    for make in LANES.values():
        lane = make(ctx)
        ctx["lanes"].append((lane, asyncio.create_task(lane.main())))


async def shutdown(ctx: dict[str, Any]) -> None:
    for lane, polling in ctx.pop("lanes", []):
        # What arq does on SIGTERM: cancel the running jobs (they run again after their
        # timeout) and stop polling. Not lane.close(): the Redis pool is the main worker's.
        # handle_sig cancels only a main task arq started itself; the polling task is ours to
        # cancel, or the process would wait on it forever after a SIGTERM.
        lane.handle_sig(signal.SIGTERM)
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await ctx["redis"].delete(lane.health_check_key)
    await close_senders(ctx)
    await close_webhook_client(ctx)
    await close_sms_sender(ctx)
    await ctx["mongo"].close()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [
        # Registered under the name app/queue.py enqueues, so app/ never imports workers/.
        func(send_notification_job, name=SEND_NOTIFICATION, max_tries=MAX_TRIES),
        # Announcement jobs are queued on their own queue (announcement_worker); registered here
        # too, so any left in this queue by a version before the split still run.
        *ANNOUNCEMENT_FUNCTIONS,
    ]
    cron_jobs: ClassVar[list[CronJob]] = [
        cron(sweep_job, second=SWEEP_SECONDS, run_at_startup=True, unique=True),  # type: ignore[arg-type]
        cron(purge_inbox_job, hour={19}, minute={41}, second={0}, unique=True),  # type: ignore[arg-type]  # 02:41 VN
        cron(retention_job, hour={19}, minute={51}, second={0}, unique=True),  # type: ignore[arg-type]  # 02:51 VN
        cron(seal_audit_job, second=set(range(0, 60, 5)), unique=True),  # type: ignore[arg-type]
        cron(wallet_upkeep_job, minute={7}, second={0}, unique=True),  # type: ignore[arg-type]
        cron(overdue_job, minute=set(range(0, 60, 5)), second={20}, unique=True),  # type: ignore[arg-type]
    ]
    on_startup = startup
    on_shutdown = shutdown
    # Rides out a Redis restart instead of exiting (workers/redis_outages.py).
    redis_settings = riding_out_outages(redis_settings(settings))
    queue_name = settings.queue_name
    # No kept results: the job id must guard only while a job is queued or running, so the
    # sweeper can queue a notification again once its job is gone.
    keep_result = 0
    max_jobs = 50
    job_timeout = settings.worker_job_timeout_seconds
    # arq finds new jobs by polling Redis: a push waits half of this on average before any
    # worker sees it. 0.1 s made it most of the status-to-push p50 (decision 16); 50 polls a
    # second cost a worker about 2 % of a core.
    poll_delay = 0.02
    allow_abort_jobs = False
    health_check_interval = 30


__all__ = ["WorkerSettings"]
