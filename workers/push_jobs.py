"""The push pipeline's arq jobs: personal notifications, announcements, the sweeper and the
inbox purge. Thin wrappers: the work is in workers/delivery.py and workers/announcements.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from arq import Retry

from app.config import get_settings
from app.inbox.outbox_sweep import sweep
from app.inbox.service import purge_expired
from app.metrics.figures import Tally
from notifications.fcm import FcmSender
from notifications.quota import FcmQuota
from workers.announcements import plan_announcement, send_batch, sweep_announcements
from workers.delivery import RetryLater, send_notification
from workers.pacing import Pacing

log = structlog.get_logger(__name__)
settings = get_settings()


# send_each_async calls of up to 500 an announcement sender has in flight in one process.
BULK_CALLS_IN_FLIGHT = 1
# Announcement batches queued at once across all workers.
IN_FLIGHT = max(1, settings.announcement_batches_in_flight)
BATCH_DEVICES = max(1, settings.announcement_batch_devices)
# Each batch first lets citizens' own pushes go, within a cap (workers/pacing.py).
PACING = Pacing(
    max_wait_seconds=max(0.0, settings.announcement_yield_max_seconds),
    poll_seconds=max(0.01, settings.announcement_yield_poll_seconds),
    above=max(0, settings.announcement_yield_above),
    slice_devices=max(1, settings.announcement_yield_slice_devices),
)


def make_senders(ctx: dict[str, Any]) -> None:
    """The worker's FCM senders, both drawing on the project-wide quota kept in Redis: one for
    personal notifications, one for announcements, each with its own HTTP/2 connection, so a
    broadcast never queues a citizen's dossier news behind thousands of its own streams."""
    quota = FcmQuota(ctx["redis"], settings.fcm_project_id, settings.fcm_quota_per_minute)
    common: dict[str, Any] = {
        "quota": quota,
        "h2c": settings.fcm_endpoint_h2c,
        "transport": settings.fcm_transport,
        "connections": max(1, settings.fcm_connections),
    }
    ctx["sender"] = FcmSender(settings.fcm_project_id, settings.fcm_credentials, settings.fcm_endpoint, **common)
    ctx["bulk_sender"] = FcmSender(
        settings.fcm_project_id,
        settings.fcm_credentials,
        settings.fcm_endpoint,
        app_name="cwallet-bulk",
        max_concurrent_calls=BULK_CALLS_IN_FLIGHT,
        **common,
    )
    # The broadcasts' own rate, below the project's quota, leaving the store and the CPUs
    # headroom for citizens' pushes (decision 0025); unset: the quota alone paces them.
    per_minute = int(settings.announcement_max_per_second * 60)
    key = f"{settings.fcm_project_id}:announcements"
    ctx["announcement_rate"] = FcmQuota(ctx["redis"], key, per_minute) if per_minute > 0 else None


async def close_senders(ctx: dict[str, Any]) -> None:
    for name in ("sender", "bulk_sender"):
        if name in ctx:
            await ctx[name].aclose()


async def send_notification_job(ctx: dict[str, Any], notification_id: str) -> str:
    tally = Tally()
    try:
        return await send_notification(
            ctx["sender"], notification_id, max_attempts=settings.notification_max_attempts, tally=tally
        )
    except RetryLater as later:
        raise Retry(defer=later.defer) from None
    finally:
        await tally.flush(ctx["redis"], settings.queue_name)


async def plan_announcement_job(ctx: dict[str, Any], announcement_id: str) -> str:
    return await plan_announcement(
        ctx["redis"],
        announcement_id,
        in_flight=IN_FLIGHT,
        batch_devices=BATCH_DEVICES,
        # Well inside the job timeout: a long broadcast is planned in several rounds.
        round_seconds=settings.worker_job_timeout_seconds / 3,
        pacing=PACING,
    )


async def send_announcement_batch_job(ctx: dict[str, Any], batch_id: str) -> str:
    tally = Tally()
    try:
        return await send_batch(
            ctx["bulk_sender"],
            ctx["redis"],
            batch_id,
            max_attempts=settings.notification_max_attempts,
            in_flight=IN_FLIGHT,
            tally=tally,
            pacing=PACING,
            rate=ctx.get("announcement_rate"),
        )
    except RetryLater as later:
        raise Retry(defer=later.defer) from None
    finally:
        await tally.flush(ctx["redis"], settings.queue_name)


async def sweep_job(ctx: dict[str, Any]) -> dict[str, int]:
    grace = timedelta(seconds=settings.sweep_grace_seconds)
    counts = await sweep(ctx["redis"], older_than=grace)
    announcements = await sweep_announcements(ctx["redis"], older_than=grace, in_flight=IN_FLIGHT)
    counts |= {f"announcement_{name}": value for name, value in announcements.items()}
    if any(counts.values()):
        log.info("sweep", **counts)
    return counts


async def purge_inbox_job(ctx: dict[str, Any]) -> int:
    purged = await purge_expired(settings.inbox_retention_days)
    if purged:
        log.info("inbox_purged", notifications=purged, retention_days=settings.inbox_retention_days)
    return purged
