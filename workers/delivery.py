"""Sending one notification to each of the citizen's phones, and recording what came of it.

The job is safe to run twice (arq delivers at least once): devices already sent to are
skipped, and a repeat that does reach FCM carries the same collapse key, so the phone shows
it once.
"""

from __future__ import annotations

import random
from datetime import timedelta

import structlog
from beanie import PydanticObjectId
from bson.errors import InvalidId

from app.inbox.service import localized_params
from models.citizen import Device
from models.common import utcnow
from models.notification import DeviceDelivery, Notification
from notifications.fcm import FcmSender
from notifications.push import Push, PushOutcome
from notifications.templates import render

log = structlog.get_logger(__name__)

BASE_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0


class RetryLater(Exception):
    """Some devices got a retryable answer; try again after `defer` seconds."""

    def __init__(self, defer: float) -> None:
        super().__init__(defer)
        self.defer = defer


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than FCM's Retry-After."""
    ceiling = min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def _push_for(notification: Notification, device: Device) -> Push:
    title, body = render(notification.kind, device.locale, localized_params(notification.params, device.locale))
    return Push(
        token=device.token,
        title=title,
        body=body,
        data={**notification.data, "notification_id": str(notification.id)},
        collapse_id=str(notification.id),
    )


def _apply(delivery: DeviceDelivery, outcome: PushOutcome, final_attempt: bool) -> None:
    delivery.attempts += 1
    delivery.updated_at = utcnow()
    delivery.error_code = outcome.error_code
    if outcome.kind == "sent":
        delivery.state = "sent"
        delivery.message_name = outcome.message_name
    elif outcome.kind in ("unregistered", "invalid_token"):
        delivery.state = "dropped"
    elif outcome.kind == "retryable" and not final_attempt:
        delivery.state = "pending"
    else:
        delivery.state = "failed"


async def send_notification(sender: FcmSender, notification_id: str, attempt: int, max_attempts: int) -> str:
    """One attempt at delivering a notification. Raises RetryLater when some devices should be
    tried again; returns the notification's state otherwise."""
    try:
        notification = await Notification.get(PydanticObjectId(notification_id))
    except InvalidId:
        return "missing"
    if notification is None or notification.state != "pending":
        return notification.state if notification else "missing"

    devices = {
        d.id: d for d in await Device.find(Device.citizen_id == notification.citizen_id).to_list() if d.id is not None
    }
    deliveries = {d.device_id: d for d in notification.deliveries}
    for device_id in devices:
        deliveries.setdefault(device_id, DeviceDelivery(device_id=device_id))
    targets = [
        (deliveries[device_id], device)
        for device_id, device in devices.items()
        if deliveries[device_id].state == "pending"
    ]
    for delivery in deliveries.values():
        # A device removed since the notification was made cannot be reached any more.
        if delivery.state == "pending" and delivery.device_id not in devices:
            delivery.state = "dropped"

    final_attempt = attempt >= max_attempts
    outcomes = await sender.send([_push_for(notification, device) for _, device in targets]) if targets else []
    retry_after: float | None = None
    for (delivery, device), outcome in zip(targets, outcomes, strict=True):
        _apply(delivery, outcome, final_attempt)
        if delivery.state == "dropped":
            # Only this token: if the phone re-registered meanwhile under a new id, it stays.
            await Device.get_pymongo_collection().delete_one({"_id": device.id, "token": device.token})
        if outcome.kind == "retryable" and outcome.retry_after_seconds:
            retry_after = max(retry_after or 0.0, outcome.retry_after_seconds)

    states = [d.state for d in deliveries.values()]
    if "pending" in states:
        state = "pending"
    elif "sent" in states or not states or all(s == "dropped" for s in states):
        state = "sent"
    else:
        state = "failed"
    now = utcnow()
    defer = backoff_seconds(attempt, retry_after) if state == "pending" else 0.0
    # Only the delivery fields are written: the citizen may mark the notification read meanwhile.
    await Notification.get_pymongo_collection().update_one(
        {"_id": notification.id},
        {
            "$set": {
                "deliveries": [d.model_dump() for d in deliveries.values()],
                "state": state,
                "attempts": attempt,
                "updated_at": now,
                "next_attempt_at": now + timedelta(seconds=defer),
            }
        },
    )
    log.info(
        "notification_attempt",
        notification_id=notification_id,
        attempt=attempt,
        state=state,
        sent=states.count("sent"),
        dropped=states.count("dropped"),
        failed=states.count("failed"),
        pending=states.count("pending"),
        errors=sorted({o.error_code for o in outcomes if o.error_code}),
    )
    if state == "pending":
        raise RetryLater(defer)
    return state
