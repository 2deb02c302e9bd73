"""arq WorkerSettings: the push job and the sweeper cron.

Run with `arq workers.settings.WorkerSettings`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import structlog
from arq import Retry
from arq.cron import CronJob, cron
from arq.worker import func

from app import db
from app.config import get_settings
from app.inbox.outbox import sweep
from app.logs import configure_worker_logging
from app.queue import SEND_NOTIFICATION, redis_settings
from notifications.fcm import FcmSender
from workers.delivery import RetryLater, send_notification

log = structlog.get_logger(__name__)
settings = get_settings()
# Leave arq one more try than we use, so our last attempt always runs and records `failed`
# instead of arq dropping the job silently.
MAX_TRIES = settings.notification_max_attempts + 1
# A crash between steps leaves work behind for at most about this long.
SWEEP_GRACE = timedelta(seconds=30)


async def startup(ctx: dict[str, Any]) -> None:
    configure_worker_logging()
    ctx["mongo"] = await db.connect(settings)
    ctx["sender"] = FcmSender(settings.fcm_project_id, settings.fcm_credentials, settings.fcm_endpoint)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["sender"].aclose()
    await ctx["mongo"].close()


async def send_notification_job(ctx: dict[str, Any], notification_id: str) -> str:
    try:
        return await send_notification(
            ctx["sender"], notification_id, attempt=ctx["job_try"], max_attempts=settings.notification_max_attempts
        )
    except RetryLater as later:
        raise Retry(defer=later.defer) from None


async def sweep_job(ctx: dict[str, Any]) -> dict[str, int]:
    counts = await sweep(ctx["redis"], older_than=SWEEP_GRACE)
    if any(counts.values()):
        log.info("sweep", **counts)
    return counts


class WorkerSettings:
    functions: ClassVar[list[Any]] = [
        # Registered under the name app/queue.py enqueues, so app/ never imports workers/.
        func(send_notification_job, name=SEND_NOTIFICATION, max_tries=MAX_TRIES),
    ]
    cron_jobs: ClassVar[list[CronJob]] = [
        cron(sweep_job, second={0, 15, 30, 45}, run_at_startup=True, unique=True),  # type: ignore[arg-type]
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(settings)
    queue_name = settings.queue_name
    # No kept results: the job id must guard only while a job is queued or running, so the
    # sweeper can queue a notification again once its job is gone.
    keep_result = 0
    max_jobs = 50
    job_timeout = 60
    poll_delay = 0.1
    allow_abort_jobs = False
    health_check_interval = 30


__all__ = ["WorkerSettings"]
