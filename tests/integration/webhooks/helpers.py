"""Subscribing, reading the delivery log, and checking signatures the receiver's way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import msgspec
from bson import ObjectId
from standardwebhooks import Webhook

from models.webhook import EVENT_TYPES
from tests.integration.push.helpers import wait_for
from tests.integration.webhooks.receiver import Received
from tests.support import remember_secrets

BASE = "/api/v1/agency/webhooks"


async def subscribe(
    api: httpx.AsyncClient, agency: Any, url: str, types: tuple[str, ...] = EVENT_TYPES
) -> dict[str, Any]:
    answer = await api.post(BASE, json={"url": url, "event_types": list(types)}, headers=agency.headers)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    remember_secrets(body["secret"])
    return body


def verified(secret: str, received: Received) -> dict[str, Any]:
    """The payload, once the Standard Webhooks library (not our code) has checked its signature."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


async def deliveries(api: httpx.AsyncClient, agency: Any, subscription_id: str) -> list[dict[str, Any]]:
    answer = await api.get(f"{BASE}/{subscription_id}/deliveries", headers=agency.headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def settled(api: httpx.AsyncClient, agency: Any, subscription_id: str, count: int) -> list[dict[str, Any]]:
    """Wait until the log holds `count` deliveries and none is pending any more."""

    async def check() -> list[dict[str, Any]] | None:
        found = await deliveries(api, agency, subscription_id)
        done = len(found) >= count and all(d["state"] != "pending" for d in found)
        return found if done else None

    return await wait_for(check, f"{count} webhook deliveries settled")


async def pending_delivery(subscription_id: str, agency_code: str, retry_until_hours: float) -> tuple[str, Any]:
    """A delivery made as the fan-out makes it, but not queued: the test runs its attempts
    itself, with a clock of its own, and the worker leaves it alone (its next attempt is due
    an hour from now)."""
    from models.common import utcnow
    from models.webhook import WebhookDelivery

    now = utcnow()
    delivery = WebhookDelivery(
        subscription_id=ObjectId(subscription_id),  # type: ignore[arg-type]
        agency_code=agency_code,
        event_id=f"evt_test{ObjectId()}",
        event_type="webhook.ping",
        body=msgspec.json.encode({"type": "webhook.ping"}).decode(),
        next_attempt_at=now + timedelta(hours=1),
        retry_until=now + timedelta(hours=retry_until_hours),
        created_at=now,
    )
    await delivery.insert()
    return str(delivery.id), now
