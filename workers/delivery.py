"""Sending one notification to each of the citizen's phones, and recording what came of it.

The job is safe to run twice (arq delivers at least once): devices already sent to are
skipped, and a repeat that does reach FCM carries the same collapse key, so the phone shows
it once. Attempts are counted per device, so a job re-run after a crash, or held back by
quiet hours, spends nobody's retry budget.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Literal

import structlog
from beanie import PydanticObjectId
from bson.errors import InvalidId

from app.citizens import store as citizen_store
from app.inbox import store as inbox_store
from app.inbox.service import localized_params
from app.metrics.figures import Tally
from models.citizen import Device
from models.common import utcnow
from models.notification import DeviceDelivery, Notification
from notifications.fcm import FcmSender
from notifications.push import Push, PushOutcome
from notifications.templates import CRITICAL, MUTABLE_CATEGORIES, render

log = structlog.get_logger(__name__)

BASE_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0

PushState = Literal["sent", "dropped", "pending", "failed"]


class RetryLater(Exception):
    """Some devices got a retryable answer, or quiet hours hold the push; try again after
    `defer` seconds."""

    def __init__(self, defer: float) -> None:
        super().__init__(defer)
        self.defer = defer


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than FCM's Retry-After."""
    ceiling = min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def state_after(outcome: PushOutcome, final_attempt: bool) -> PushState:
    """Where one device stands after FCM's answer to one push."""
    if outcome.kind == "sent":
        return "sent"
    if outcome.kind in ("unregistered", "invalid_token"):
        return "dropped"
    if outcome.kind == "retryable" and not final_attempt:
        return "pending"
    return "failed"


def _push_for(notification: Notification, device: Device) -> Push:
    params = localized_params(notification.params, device.locale)
    title, body = render(
        notification.kind,
        device.locale,
        params,
        neutral=notification.sensitive,
        about_child="child_id" in notification.data,
    )
    return Push(
        token=device.token,
        title=title,
        body=body,
        data={**notification.data, "notification_id": str(notification.id)},
        collapse_id=str(notification.id),
    )


def _overall(deliveries: list[DeviceDelivery]) -> Literal["pending", "sent", "failed"]:
    states = [d.state for d in deliveries]
    if "pending" in states:
        return "pending"
    if "failed" in states and "sent" not in states:
        return "failed"
    return "sent"  # sent somewhere, or nowhere left to send (no device, dropped, muted)


async def _hold(notification: Notification, until: datetime, tally: Tally) -> None:
    now = utcnow()
    await inbox_store.hold(notification.id, until, now)
    if notification.held_until is None:
        tally.add("held")
    log.info("notification_held", notification_id=str(notification.id), seconds=round((until - now).total_seconds()))
    raise RetryLater((until - now).total_seconds())


async def send_notification(
    sender: FcmSender, notification_id: str, *, max_attempts: int, tally: Tally | None = None
) -> str:
    """One attempt at delivering a notification. Raises RetryLater when some devices should be
    tried again (or quiet hours hold it); returns the notification's state otherwise."""
    tally = tally if tally is not None else Tally()
    try:
        notification = await inbox_store.notification(PydanticObjectId(notification_id))
    except InvalidId:
        return "missing"
    if notification is None or notification.state != "pending":
        return notification.state if notification else "missing"

    preferences, push_allowed, citizen_devices = await inbox_store.recipient(notification.citizen_id)
    muted = (
        preferences is not None
        and notification.category in MUTABLE_CATEGORIES
        and notification.category in preferences.muted
    ) or not push_allowed
    # Consent to push withdrawn: nothing goes to FCM (a third party), critical or not; the
    # inbox still has every notification.
    if not muted and notification.category != CRITICAL and preferences and preferences.quiet_hours:
        until = preferences.quiet_hours.held_until(utcnow())
        if until is not None:
            await _hold(notification, until, tally)

    devices = {d.id: d for d in citizen_devices if d.id is not None}
    deliveries = {d.device_id: d for d in notification.deliveries}
    for device_id in devices:
        deliveries.setdefault(device_id, DeviceDelivery(device_id=device_id))
    for delivery in deliveries.values():
        # A device removed since the notification was made cannot be reached any more.
        if delivery.state == "pending" and delivery.device_id not in devices:
            delivery.state = "dropped"
        elif delivery.state == "pending" and muted:
            delivery.state = "muted"
            tally.add("muted")
    targets = [(deliveries[i], device) for i, device in devices.items() if deliveries[i].state == "pending"]

    outcomes = await sender.send([_push_for(notification, device) for _, device in targets]) if targets else []
    now = utcnow()
    retry_after: float | None = None
    for (delivery, device), outcome in zip(targets, outcomes, strict=True):
        delivery.attempts += 1
        delivery.updated_at = now
        delivery.error_code = outcome.error_code
        delivery.state = state_after(outcome, final_attempt=delivery.attempts >= max_attempts)
        if outcome.kind == "sent":
            delivery.message_name = outcome.message_name
        tally.outcome(delivery.state, outcome.error_code)
        if delivery.state == "dropped":
            await citizen_store.drop_device(device.id, device.token)  # type: ignore[arg-type]
        if outcome.kind == "retryable" and outcome.retry_after_seconds:
            retry_after = max(retry_after or 0.0, outcome.retry_after_seconds)

    listed = list(deliveries.values())
    state = _overall(listed)
    attempt = max((d.attempts for d in listed if d.state == "pending"), default=0)
    defer = backoff_seconds(attempt, retry_after) if state == "pending" else 0.0
    # Only the delivery fields are written: the citizen may mark the notification read meanwhile.
    await inbox_store.set_delivery(
        notification.id,
        {
            "deliveries": [d.model_dump() for d in listed],
            "state": state,
            "attempts": max((d.attempts for d in listed), default=0),
            "updated_at": now,
            "next_attempt_at": now + timedelta(seconds=defer),
            "held_until": None,
        },
    )
    states = [d.state for d in listed]
    log.info(
        "notification_attempt",
        notification_id=notification_id,
        state=state,
        sent=states.count("sent"),
        dropped=states.count("dropped"),
        failed=states.count("failed"),
        pending=states.count("pending"),
        muted=states.count("muted"),
        errors=sorted({o.error_code for o in outcomes if o.error_code}),
    )
    if state == "pending":
        raise RetryLater(defer)
    return state
