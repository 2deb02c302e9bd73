"""The webhook lane's jobs: one delivery attempt per job, and the sweeper of lost deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import Retry

from app.config import get_settings
from app.queue import enqueue_webhook_delivery
from app.webhooks import delivery


async def open_webhook_client(ctx: dict[str, Any]) -> None:
    ctx["webhook_client"] = delivery.make_client(get_settings())


async def close_webhook_client(ctx: dict[str, Any]) -> None:
    client = ctx.pop("webhook_client", None)
    if client is not None:
        await client.aclose()


async def deliver_webhook_job(ctx: dict[str, Any], delivery_id: str) -> str:
    outcome = await delivery.attempt(delivery_id, ctx["webhook_client"], get_settings())
    if outcome.retry_in is not None:
        # The same job id stays queued (deferred) until then, so nothing queues a second copy.
        raise Retry(defer=outcome.retry_in)
    return outcome.kind


async def sweep_webhooks_job(ctx: dict[str, Any]) -> int:
    settings = get_settings()
    pool = ctx["redis"]
    return await delivery.requeue_lost(
        lambda delivery_id: enqueue_webhook_delivery(pool, delivery_id),
        timedelta(seconds=settings.sweep_grace_seconds),
    )
