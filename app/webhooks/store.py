"""The webhooks' one module that touches the store (decision 0024: one per area).

Agencies' subscriptions and their deliveries. What is sent, when, and what an answer means
is decided in app/webhooks/service.py, app/webhooks/fanout.py and app/webhooks/delivery.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.webhooks import subscriptions_cache
from models.webhook import ATTEMPTS_KEPT, WebhookDelivery, WebhookSubscription

# --- subscriptions ------------------------------------------------------------------------
# Every write below that changes which subscriptions are active, or what they take, is
# announced (app/webhooks/subscriptions_cache.py): API processes remember them.


async def agencys_subscription(subscription_id: ObjectId, agency_code: str) -> dict[str, Any] | None:
    """The agency is in the query: another agency's subscription answers like an unknown one."""
    found: dict[str, Any] | None = await WebhookSubscription.get_pymongo_collection().find_one(
        {"_id": subscription_id, "agency_code": agency_code}
    )
    return found


async def subscription(subscription_id: Any) -> dict[str, Any] | None:
    return await WebhookSubscription.get_pymongo_collection().find_one({"_id": subscription_id})


async def taken_slots(agency_code: str) -> set[int]:
    collection = WebhookSubscription.get_pymongo_collection()
    return {raw.get("slot", 0) async for raw in collection.find({"agency_code": agency_code}, {"slot": 1})}


async def insert_subscription(document: dict[str, Any]) -> None:
    """Raises DuplicateKeyError when another creation took the same slot first."""
    await WebhookSubscription.get_pymongo_collection().insert_one(document)
    await subscriptions_cache.announce_changed()


async def subscriptions_of(agency_code: str) -> AsyncIterator[dict[str, Any]]:
    """The agency's subscriptions, oldest first."""
    async for raw in WebhookSubscription.get_pymongo_collection().find({"agency_code": agency_code}).sort("_id", 1):
        yield raw


async def active_subscriptions(agency_code: str) -> list[dict[str, Any]]:
    """The agency's active subscriptions, their `_id` and `event_types`, from the process's
    memory when it has them (shared: read them, never change them)."""
    found = await subscriptions_cache.CACHE.get(agency_code, _read_active_subscriptions)
    return found or []


async def _read_active_subscriptions(agency_code: str) -> list[dict[str, Any]]:
    """On the (agency_code, state) index, which the embedded store walks only when the query
    names exactly its fields, so the caller picks the event types (decision 0016)."""
    found = WebhookSubscription.get_pymongo_collection().find(
        {"agency_code": agency_code, "state": "active"}, {"_id": 1, "event_types": 1}
    )
    return [raw async for raw in found]


async def set_subscription(subscription_id: Any, changes: dict[str, Any]) -> None:
    await WebhookSubscription.get_pymongo_collection().update_one({"_id": subscription_id}, {"$set": changes})
    await subscriptions_cache.announce_changed()


async def delete_subscription(subscription_id: Any) -> None:
    await WebhookSubscription.get_pymongo_collection().delete_one({"_id": subscription_id})
    await subscriptions_cache.announce_changed()


async def replace_secret(subscription_id: Any, current_sealed: Any, changes: dict[str, Any]) -> bool:
    """Compare-and-set on the current secret: False if another rotation changed it meanwhile."""
    result = await WebhookSubscription.get_pymongo_collection().update_one(
        {"_id": subscription_id, "secret_sealed": current_sealed}, {"$set": changes}
    )
    return result.modified_count == 1


async def disable_gone(subscription_id: Any, now: datetime) -> None:
    """The receiver answered 410 Gone."""
    await WebhookSubscription.get_pymongo_collection().update_one(
        {"_id": subscription_id, "state": "active"},
        {"$set": {"state": "disabled", "disabled_reason": "gone", "updated_at": now}},
    )
    await subscriptions_cache.announce_changed()


# --- deliveries ---------------------------------------------------------------------------


async def delivery(delivery_id: Any) -> dict[str, Any] | None:
    return await WebhookDelivery.get_pymongo_collection().find_one({"_id": delivery_id})


async def pending_delivery(delivery_id: ObjectId) -> dict[str, Any] | None:
    return await WebhookDelivery.get_pymongo_collection().find_one({"_id": delivery_id, "state": "pending"})


async def subscriptions_delivery(delivery_id: ObjectId, subscription_id: Any) -> dict[str, Any] | None:
    return await WebhookDelivery.get_pymongo_collection().find_one(
        {"_id": delivery_id, "subscription_id": subscription_id}
    )


async def newest_deliveries(query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        await WebhookDelivery.get_pymongo_collection().find(query).sort("_id", -1).limit(limit).to_list()
    )
    return found


async def upsert_delivery(subscription_id: Any, event_id: str, document: dict[str, Any]) -> None:
    """One delivery per subscription and event, whoever makes it first."""
    with contextlib.suppress(DuplicateKeyError):  # a racing flush made it first: the same delivery
        await WebhookDelivery.get_pymongo_collection().update_one(
            {"subscription_id": subscription_id, "event_id": event_id}, {"$setOnInsert": document}, upsert=True
        )


async def delivery_state(subscription_id: Any, event_id: str) -> dict[str, Any] | None:
    """The delivery's `_id` and `state`."""
    return await WebhookDelivery.get_pymongo_collection().find_one(
        {"subscription_id": subscription_id, "event_id": event_id}, {"_id": 1, "state": 1}
    )


async def replay(delivery_id: ObjectId, subscription_id: Any, changes: dict[str, Any]) -> bool:
    """Pending again, unless it is pending already (then False: concurrent replays send it once)."""
    result = await WebhookDelivery.get_pymongo_collection().update_one(
        {"_id": delivery_id, "subscription_id": subscription_id, "state": {"$ne": "pending"}},
        {"$set": changes, "$inc": {"replays": 1}},
    )
    return result.modified_count == 1


async def record_attempt(raw: dict[str, Any], changes: dict[str, Any], attempt: dict[str, Any]) -> None:
    """The attempt and its outcome, if no other attempt was recorded since `raw` was read."""
    await WebhookDelivery.get_pymongo_collection().update_one(
        {"_id": raw["_id"], "state": "pending", "attempt_count": raw["attempt_count"]},
        {
            "$set": changes,
            "$inc": {"attempt_count": 1},
            "$push": {"attempts": {"$each": [attempt], "$slice": -ATTEMPTS_KEPT}},
        },
    )


async def park(delivery_id: Any, reason: str) -> None:
    await WebhookDelivery.get_pymongo_collection().update_one(
        {"_id": delivery_id, "state": "pending"}, {"$set": {"state": "parked", "parked_reason": reason}}
    )


async def pending_before(cutoff: datetime, batch: int) -> AsyncIterator[dict[str, Any]]:
    """Up to `batch` pending deliveries due before `cutoff` (their `_id` only)."""
    found = (
        WebhookDelivery.get_pymongo_collection()
        .find({"state": "pending", "next_attempt_at": {"$lt": cutoff}}, {"_id": 1})
        .limit(batch)
    )
    async for raw in found:
        yield raw
