"""One attempt at a webhook delivery, and what follows from its answer.

2xx: delivered. 410 Gone: the receiver says it will never take these again, so the
subscription is disabled and the delivery parked. Anything else (another status, a timeout,
a refused connection): tried again after a delay that doubles from WEBHOOK_RETRY_BASE_SECONDS
up to WEBHOOK_RETRY_MAX_SECONDS, with jitter, until WEBHOOK_RETRY_HOURS after the event (or
the replay); then parked. A parked delivery is sent again only by a replay.

At least once: the attempt is recorded after the answer, so a worker killed in between sends
it again; the receiver drops the copy by `webhook-id`. Redirects are not followed (they would
bypass the address check). The answer's body is never read.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import structlog
from bson import ObjectId
from bson.errors import InvalidId

from app.config import Settings
from app.webhooks import address_guard, signing, store
from models.common import utcnow
from models.webhook import DeliveryAttempt

log = structlog.get_logger(__name__)

OutcomeKind = Literal["delivered", "retry", "parked", "gone", "skipped", "busy"]
USER_AGENT = "cwallet-webhooks/1"
# Deliveries in flight per subscription in this process: one slow receiver cannot take every
# slot of the webhook lane from the other agencies.
_in_flight: Counter[str] = Counter()
BUSY_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    # When the job should run again (None: it is finished).
    retry_in: float | None = None


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str | None


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The public authorities httpx trusts by default, and those of WEBHOOK_CA_FILE besides.
    A file that cannot be read stops the worker at its start, not each delivery later."""
    context = httpx.create_ssl_context(trust_env=False)
    if settings.webhook_ca_file:
        try:
            context.load_verify_locations(cafile=settings.webhook_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(
                f"WEBHOOK_CA_FILE ({settings.webhook_ca_file}) holds no readable certificate: {exc}"
            ) from exc
    return context


def make_client(settings: Settings) -> httpx.AsyncClient:
    # trust_env=False: no proxy from the environment may carry deliveries around the address check.
    return httpx.AsyncClient(
        verify=tls_context(settings),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
    )


def retry_delay(attempt_count: int, settings: Settings) -> float:
    """Seconds before the next attempt after `attempt_count` failed ones (±10 % jitter)."""
    delay = min(
        settings.webhook_retry_base_seconds * 2 ** max(0, attempt_count - 1), settings.webhook_retry_max_seconds
    )
    return float(delay * random.uniform(0.9, 1.1))


def secrets_in_force(subscription: dict[str, Any], now: datetime) -> list[str]:
    sub_id = str(subscription["_id"])
    found = [signing.unseal(subscription["secret_sealed"], sub_id)]
    until = subscription.get("previous_secret_expires_at")
    if subscription.get("previous_secret_sealed") and until is not None and _aware(until) > now:
        found.append(signing.unseal(subscription["previous_secret_sealed"], sub_id))
    return [s for s in found if s]


def _aware(moment: datetime) -> datetime:
    # The store hands datetimes back without a zone; they are UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _send(
    client: httpx.AsyncClient, subscription: dict[str, Any], raw: dict[str, Any], settings: Settings, now: datetime
) -> Answer:
    try:
        # Checked again at send time, and the connection pinned to the address checked.
        target = await address_guard.check(subscription["url"], settings)
    except address_guard.AddressRefused as refused:
        return Answer(None, refused.reason)
    keys = secrets_in_force(subscription, now)
    if not keys:
        return Answer(None, "secret-unreadable")
    headers = signing.headers(keys, raw["event_id"], int(now.timestamp()), raw["body"])
    headers["host"] = target.host_header
    extensions = {"sni_hostname": target.server_name} if target.url.startswith("https:") else {}
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            request = client.build_request(
                "POST",
                target.url,
                content=raw["body"].encode(),
                headers=headers,
                extensions=extensions,
                timeout=settings.webhook_timeout_seconds,
            )
            response = await client.send(request, stream=True)
            await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return Answer(None, "timeout")
    except httpx.HTTPError as exc:
        return Answer(None, type(exc).__name__)
    return Answer(response.status_code, None)


async def attempt(
    delivery_id: str, client: httpx.AsyncClient, settings: Settings, now: datetime | None = None
) -> Outcome:
    """Try delivery `delivery_id` once, if it is still pending; record the attempt."""
    try:
        oid = ObjectId(delivery_id)
    except InvalidId:
        return Outcome("skipped")
    raw = await store.pending_delivery(oid)
    if raw is None:
        return Outcome("skipped")  # delivered, parked, or expired meanwhile
    now = now or utcnow()
    subscription = await store.subscription(raw["subscription_id"])
    if subscription is None or subscription["state"] != "active":
        await _park(raw, "subscription-disabled" if subscription else "subscription-deleted")
        return Outcome("parked")
    if now >= _aware(raw["retry_until"]):
        await _park(raw, "retries-exhausted")
        return Outcome("parked")
    key = str(subscription["_id"])
    if _in_flight[key] >= settings.webhook_in_flight_per_subscription:
        return Outcome("busy", BUSY_RETRY_SECONDS)
    _in_flight[key] += 1
    started = time.monotonic()
    try:
        answer = await _send(client, subscription, raw, settings, now)
    finally:
        _in_flight[key] -= 1
        if _in_flight[key] <= 0:
            del _in_flight[key]
    tried = DeliveryAttempt(
        at=now, status_code=answer.status_code, error=answer.error, duration_ms=int((time.monotonic() - started) * 1000)
    )
    outcome = await _record(raw, tried, settings, now)
    log.info(
        "webhook.attempt",
        delivery_id=delivery_id,
        agency=raw["agency_code"],
        event_type=raw["event_type"],
        status_code=answer.status_code,
        error=answer.error,
        outcome=outcome.kind,
    )
    return outcome


async def _record(raw: dict[str, Any], tried: DeliveryAttempt, settings: Settings, now: datetime) -> Outcome:
    code = tried.status_code
    changes: dict[str, Any] = {}
    if code is not None and 200 <= code < 300:
        outcome = Outcome("delivered")
        changes = {"state": "delivered", "delivered_at": now}
    elif code == 410 or tried.error == "address-not-public":
        outcome = Outcome("gone" if code == 410 else "parked")
        changes = {"state": "parked", "parked_reason": "gone" if code == 410 else "address-refused"}
        if code == 410:
            await store.disable_gone(raw["subscription_id"], now)
    else:
        delay = retry_delay(raw["attempt_count"] + 1, settings)
        upcoming = now + timedelta(seconds=delay)
        if upcoming >= _aware(raw["retry_until"]):
            outcome = Outcome("parked")
            changes = {"state": "parked", "parked_reason": "retries-exhausted"}
        else:
            outcome = Outcome("retry", delay)
            changes = {"next_attempt_at": upcoming}
    await store.record_attempt(raw, changes, tried.model_dump())
    return outcome


async def _park(raw: dict[str, Any], reason: str) -> None:
    await store.park(raw["_id"], reason)


async def requeue_lost(enqueue: Callable[[str], Awaitable[bool]], older_than: timedelta, batch: int = 500) -> int:
    """Pending deliveries whose job went missing (Redis lost it, a crash): queue them again.
    The job id dedupes one still queued or deferred."""
    cutoff = utcnow() - older_than
    count = 0
    async for raw in store.pending_before(cutoff, batch):
        if await enqueue(str(raw["_id"])):
            count += 1
    return count
