"""Job names and enqueue helpers. Jobs are named, never imported: app/ never imports workers/."""

from __future__ import annotations

import structlog
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from redis.exceptions import RedisError

from app.config import Settings

log = structlog.get_logger(__name__)

SEND_NOTIFICATION = "send_notification"
PLAN_ANNOUNCEMENT = "plan_announcement"
SEND_ANNOUNCEMENT_BATCH = "send_announcement_batch"
DELIVER_WEBHOOK = "deliver_webhook"


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


async def open_pool(settings: Settings) -> ArqRedis:
    return await create_pool(redis_settings(settings), default_queue_name=settings.queue_name)


def announcement_queue(queue_name: str) -> str:
    """Announcements (bulk fan-out) have a queue of their own, so a citizen's own push never
    waits behind a national broadcast's batches (decision 0025): one queue per concern."""
    return f"{queue_name}:announcements"


def yielding_key(queue_name: str, announcement_id: str) -> str:
    """Set while an announcement waits for citizens' own pushes (workers/pacing.py); its
    progress shows it."""
    return f"{announcement_queue(queue_name)}:yielding:{announcement_id}"


def notification_job_id(notification_id: str) -> str:
    return f"notify:{notification_id}"


async def enqueue(pool: ArqRedis, job: str, *args: str, job_id: str, queue_name: str | None = None) -> bool:
    """Queue a job by name; False when Redis is unreachable, or the job id is queued already.

    A Redis failure is not the caller's failure: what the job does is stored first, and the
    sweeper queues it again once Redis is back.
    """
    try:
        queued = await pool.enqueue_job(job, *args, _job_id=job_id, _queue_name=queue_name)
    except (RedisError, OSError) as exc:
        log.warning("enqueue_failed", job=job, error_type=type(exc).__name__)
        return False
    return queued is not None


async def enqueue_notification(pool: ArqRedis, notification_id: str) -> bool:
    """Queue the push for one notification. Safe to call twice: the job id dedupes."""
    return await enqueue(pool, SEND_NOTIFICATION, notification_id, job_id=notification_job_id(notification_id))


async def enqueue_announcement_plan(pool: ArqRedis, announcement_id: str, batches_planned: int) -> bool:
    """Queue (a further round of) the planning of an announcement's batches."""
    job_id = f"announce-plan:{announcement_id}:{batches_planned}"
    queue = announcement_queue(pool.default_queue_name)
    return await enqueue(pool, PLAN_ANNOUNCEMENT, announcement_id, job_id=job_id, queue_name=queue)


async def enqueue_announcement_batch(pool: ArqRedis, batch_id: str) -> bool:
    queue = announcement_queue(pool.default_queue_name)
    return await enqueue(pool, SEND_ANNOUNCEMENT_BATCH, batch_id, job_id=f"announce:{batch_id}", queue_name=queue)


def webhook_queue(queue_name: str) -> str:
    """Webhook deliveries have a lane of their own: a slow receiver holds none of the citizens'
    pushes (decisions 0025, 0028)."""
    return f"{queue_name}:webhooks"


def webhook_job_id(delivery_id: str) -> str:
    return f"webhook:{delivery_id}"


async def enqueue_webhook_delivery(pool: ArqRedis, delivery_id: str) -> bool:
    """Queue one webhook delivery. Safe to call twice: the job id dedupes while it is queued."""
    queue = webhook_queue(pool.default_queue_name)
    return await enqueue(pool, DELIVER_WEBHOOK, delivery_id, job_id=webhook_job_id(delivery_id), queue_name=queue)
