"""An agency event → one delivery per subscription that takes it → a queued job.

Called by the outbox flush (app/inbox/outbox.py) for entries of kind `agency_event`, which
were written in the same update as the change; every step is idempotent (the delivery is
upserted by subscription and event id, the job id dedupes), so the flush after the request
and the sweeper after a crash may both run it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
from arq import ArqRedis
from bson import ObjectId

from app.config import get_settings
from app.queue import enqueue_webhook_delivery
from app.webhooks import store
from models.common import utcnow
from models.dossier import OutboxEntry
from models.webhook import event_id


def body_of(event: str, event_type: str, at: datetime, data: dict[str, str]) -> str:
    payload = {"id": event, "type": event_type, "timestamp": at.isoformat(), "data": data}
    return msgspec.json.encode(payload).decode()


def _takes(subscription: dict[str, Any], event_type: str, subscription_id: ObjectId | None) -> bool:
    if subscription_id is not None:
        return bool(subscription["_id"] == subscription_id)
    return event_type in (subscription.get("event_types") or ())


async def publish(
    agency_code: str,
    key: str,
    event_type: str,
    data: dict[str, str],
    at: datetime,
    pool: ArqRedis,
    *,
    subscription_id: ObjectId | None = None,
    again: bool = False,
) -> list[ObjectId]:
    """Deliveries of one event to the agency's active subscriptions that take `event_type`
    (or to the one subscription named, whatever it takes: a ping). `again`: look for each
    delivery before making it, which is cheaper for the store when it exists (the sweeper's
    second look) than an upsert that finds it."""
    event = event_id(key)
    body = body_of(event, event_type, at, data)
    now = utcnow()
    window = timedelta(hours=get_settings().webhook_retry_hours)
    made: list[ObjectId] = []
    for subscription in await store.active_subscriptions(agency_code):
        if not _takes(subscription, event_type, subscription_id):
            continue
        if again and await store.delivery_state(subscription["_id"], event) is not None:
            continue  # made the first time; its own job and the deliveries' sweeper see to it
        await store.upsert_delivery(
            subscription["_id"],
            event,
            {
                "subscription_id": subscription["_id"],
                "agency_code": agency_code,
                "event_id": event,
                "event_type": event_type,
                "body": body,
                "state": "pending",
                "attempt_count": 0,
                "attempts": [],
                "next_attempt_at": now,
                "retry_until": now + window,
                "replays": 0,
                "created_at": now,
                "delivered_at": None,
                "parked_reason": None,
            },
        )
        found = await store.delivery_state(subscription["_id"], event)
        if found is not None and found["state"] == "pending":
            await enqueue_webhook_delivery(pool, str(found["_id"]))
            made.append(ObjectId(found["_id"]))
    return made


async def fan_out(raw: dict[str, Any], entry: OutboxEntry, pool: ArqRedis, *, again: bool = False) -> list[ObjectId]:
    """The deliveries of a dossier's agency event (an outbox entry of kind `agency_event`).
    `again`: the sweeper's look, where most deliveries exist already."""
    params = dict(entry.params)
    event_type = params.pop("event_type")
    data = {"dossier_code": raw["code"], "service_code": raw["service_code"], **params}
    return await publish(raw["agency_code"], entry.key, event_type, data, entry.created_at, pool, again=again)


async def has_listeners(agency_code: str | None) -> bool:
    """Whether the agency has an active subscription (from the process's memory)."""
    return bool(agency_code) and bool(await store.active_subscriptions(agency_code or ""))
