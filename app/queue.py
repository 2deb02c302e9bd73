"""Job names and enqueue helpers. Jobs are named, never imported: app/ never imports workers/."""

from __future__ import annotations

import structlog
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from redis.exceptions import RedisError

from app.config import Settings

log = structlog.get_logger(__name__)

SEND_NOTIFICATION = "send_notification"


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


async def open_pool(settings: Settings) -> ArqRedis:
    return await create_pool(redis_settings(settings), default_queue_name=settings.queue_name)


def notification_job_id(notification_id: str) -> str:
    return f"notify:{notification_id}"


async def enqueue_notification(pool: ArqRedis, notification_id: str) -> bool:
    """Queue the push for one notification. Safe to call twice: the job id dedupes.

    A Redis failure is not the caller's failure: the notification is already stored as
    pending and the sweeper queues it once Redis is back.
    """
    try:
        await pool.enqueue_job(SEND_NOTIFICATION, notification_id, _job_id=notification_job_id(notification_id))
    except (RedisError, OSError) as exc:
        log.warning("enqueue_failed", job=SEND_NOTIFICATION, error_type=type(exc).__name__)
        return False
    return True
