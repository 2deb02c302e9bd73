"""An agency's webhook subscriptions: saved, read, changed, rotated, pinged, and their delivery
log with replay. Every query names the agency: another agency's subscription answers exactly
like an unknown one (404)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Any

from arq import ArqRedis
from bson import ObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from app.config import Settings
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.pagination import Page, cursor_filter, next_cursor
from app.queue import enqueue_webhook_delivery
from app.webhooks import address_guard, signing, store
from app.webhooks.fanout import publish
from app.webhooks.schemas import (
    AttemptOut,
    CreatedSubscriptionOut,
    DeliveryOut,
    RotatedWebhookSecretOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from models.common import utcnow
from models.webhook import EVENT_TYPES, PING, WebhookSubscription

SUBSCRIPTION = Text("đăng ký webhook", "webhook subscription")
DELIVERY = Text("lần gửi webhook", "webhook delivery")

URL_REFUSED = {
    "malformed-url": Text("Địa chỉ URL không hợp lệ.", "The URL is not valid."),
    "scheme-not-allowed": Text("Chỉ chấp nhận địa chỉ https://.", "Only https:// URLs are accepted."),
    "https-required": Text("Chỉ chấp nhận địa chỉ https://.", "Only https:// URLs are accepted."),
    "host-not-found": Text(
        "Không phân giải được tên máy chủ; hãy kiểm tra lại tên miền.", "The host name does not resolve; check it."
    ),
    "address-not-public": Text(
        "Địa chỉ trỏ vào mạng nội bộ (riêng, loopback hoặc link-local); hãy dùng một địa chỉ công khai.",
        "The address points into a private network (private, loopback or link-local); use a public address.",
    ),
}


def too_many(limit: int) -> AppError:
    return AppError(
        409,
        "too-many-subscriptions",
        Text("Quá nhiều đăng ký webhook", "Too many webhook subscriptions"),
        Text(
            "Cơ quan đã có {limit} đăng ký webhook. Hãy xoá một đăng ký không dùng rồi thử lại.",
            "The agency already has {limit} webhook subscriptions. Delete one it no longer uses, then try again.",
        ),
        params={"limit": limit},
    )


ROTATION_RACE = AppError(
    409,
    "concurrent-rotation",
    Text("Khoá bí mật vừa được đổi", "Secret changed meanwhile"),
    Text(
        "Một yêu cầu khác vừa đổi khoá bí mật của đăng ký này. Hãy dùng khoá mới nhất bạn nhận được, hoặc đổi lại.",
        "Another request rotated this subscription's secret meanwhile. Use the newest secret you received, or "
        "rotate again.",
    ),
)


def _oid(value: str, what: Text) -> ObjectId:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise not_found(what) from None


def _event_types(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise invalid_input(
            [
                FieldProblem(
                    "event_types",
                    Text("Loại sự kiện không có: {unknown}. Các loại: {known}.", "Unknown: {unknown}. Known: {known}."),
                    {"unknown": ", ".join(unknown), "known": ", ".join(EVENT_TYPES)},
                )
            ]
        )
    return sorted(set(types))


async def _checked_url(url: str, settings: Settings) -> str:
    try:
        await address_guard.check(url, settings)
    except address_guard.AddressRefused as refused:
        raise invalid_input([FieldProblem("url", URL_REFUSED[refused.reason])]) from None
    return url


def subscription_out(raw: dict[str, Any]) -> SubscriptionOut:
    until = raw.get("previous_secret_expires_at")
    return SubscriptionOut(
        id=str(raw["_id"]),
        url=raw["url"],
        event_types=list(raw["event_types"]),
        description=raw.get("description"),
        enabled=raw["state"] == "active",
        disabled_reason=raw.get("disabled_reason"),
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        previous_secret_valid_until=until if until is not None and until > utcnow() else None,
    )


def delivery_out(raw: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(
        id=str(raw["_id"]),
        event_id=raw["event_id"],
        event_type=raw["event_type"],
        state=raw["state"],
        attempt_count=raw["attempt_count"],
        created_at=raw["created_at"],
        next_attempt_at=raw["next_attempt_at"] if raw["state"] == "pending" else None,
        delivered_at=raw.get("delivered_at"),
        parked_reason=raw.get("parked_reason"),
        replays=raw.get("replays", 0),
        attempts=[AttemptOut(a["at"], a.get("status_code"), a.get("error"), a["duration_ms"]) for a in raw["attempts"]],
        body=raw["body"],
    )


async def _own(agency_code: str, subscription_id: str) -> dict[str, Any]:
    raw = await store.agencys_subscription(_oid(subscription_id, SUBSCRIPTION), agency_code)
    if raw is None:
        raise not_found(SUBSCRIPTION)
    return raw


async def create(agency_code: str, data: SubscriptionIn, settings: Settings) -> CreatedSubscriptionOut:
    types = _event_types(data.event_types)
    url = await _checked_url(data.url, settings)
    new_id = ObjectId()
    secret = signing.new_secret()
    now = utcnow()
    doc = WebhookSubscription(
        agency_code=agency_code,
        url=url,
        event_types=types,
        description=(data.description or "").strip() or None,
        secret_sealed=signing.seal(secret, str(new_id)),
        created_at=now,
        updated_at=now,
    ).model_dump(exclude={"id", "revision_id", "slot"})
    doc["slot"] = await _take_a_slot(agency_code, {"_id": new_id, **doc}, settings.webhook_subscriptions_per_agency)
    out = subscription_out({"_id": new_id, **doc})
    return CreatedSubscriptionOut(**{f: getattr(out, f) for f in out.__struct_fields__}, secret=secret)


async def _take_a_slot(agency_code: str, document: dict[str, Any], limit: int) -> int:
    """Insert the subscription into a free place of the agency's `limit`; 409 when none is left."""
    while True:
        free = sorted(set(range(limit)) - await store.taken_slots(agency_code))
        if not free:
            raise too_many(limit)
        try:
            await store.insert_subscription({**document, "slot": free[0]})
        except DuplicateKeyError:
            continue  # another creation took that place meanwhile: look again
        return free[0]


async def list_for(agency_code: str) -> list[SubscriptionOut]:
    return [subscription_out(raw) async for raw in store.subscriptions_of(agency_code)]


async def get(agency_code: str, subscription_id: str) -> SubscriptionOut:
    return subscription_out(await _own(agency_code, subscription_id))


async def update(
    agency_code: str, subscription_id: str, data: SubscriptionPatch, settings: Settings
) -> SubscriptionOut:
    raw = await _own(agency_code, subscription_id)
    changes: dict[str, Any] = {"updated_at": utcnow()}
    if data.url is not None:
        changes["url"] = await _checked_url(data.url, settings)
    if data.event_types is not None:
        changes["event_types"] = _event_types(data.event_types)
    if data.description is not None:
        changes["description"] = data.description.strip() or None
    if data.enabled is not None:
        changes |= {"state": "active", "disabled_reason": None} if data.enabled else {"state": "disabled"}
        if not data.enabled and raw["state"] == "active":
            changes["disabled_reason"] = "agency"
    await store.set_subscription(raw["_id"], changes)
    return subscription_out({**raw, **changes})


async def delete(agency_code: str, subscription_id: str) -> None:
    raw = await _own(agency_code, subscription_id)
    await store.delete_subscription(raw["_id"])
    # Pending deliveries park themselves when they next run (their subscription is gone).


async def rotate_secret(agency_code: str, subscription_id: str, settings: Settings) -> RotatedWebhookSecretOut:
    """A new secret; the current one keeps signing beside it for WEBHOOK_SECRET_OVERLAP_HOURS."""
    raw = await _own(agency_code, subscription_id)
    secret = signing.new_secret()
    until = utcnow() + timedelta(hours=settings.webhook_secret_overlap_hours)
    # Compare-and-set on the current secret: two racing rotations cannot both demote it.
    rotated = await store.replace_secret(
        raw["_id"],
        raw["secret_sealed"],
        {
            "secret_sealed": signing.seal(secret, str(raw["_id"])),
            "previous_secret_sealed": raw["secret_sealed"],
            "previous_secret_expires_at": until,
            "updated_at": utcnow(),
        },
    )
    if not rotated:
        raise ROTATION_RACE
    return RotatedWebhookSecretOut(secret=secret, previous_secret_valid_until=until)


async def ping(agency_code: str, subscription_id: str, pool: ArqRedis) -> DeliveryOut:
    """A `webhook.ping` event to this subscription alone, whatever it takes (if it is enabled)."""
    raw = await _own(agency_code, subscription_id)
    if raw["state"] != "active":
        raise AppError(
            409,
            "subscription-disabled",
            Text("Đăng ký webhook đang tắt", "Webhook subscription disabled"),
            Text(
                "Đăng ký này đang tắt (lý do: {reason}). Hãy bật lại (PATCH enabled=true) rồi thử lại.",
                "This subscription is disabled (reason: {reason}). Enable it again (PATCH enabled=true), then retry.",
            ),
            params={"reason": raw.get("disabled_reason") or "-"},
        )
    key = f"ping:{raw['_id']}:{secrets.token_hex(8)}"
    made = await publish(
        agency_code, key, PING, {"subscription_id": str(raw["_id"])}, utcnow(), pool, subscription_id=raw["_id"]
    )
    delivery = await store.delivery(made[0])
    assert delivery is not None
    return delivery_out(delivery)


async def deliveries(
    agency_code: str, subscription_id: str, state: str | None, cursor: str | None, limit: int
) -> Page[DeliveryOut]:
    return await _deliveries_of(await _own(agency_code, subscription_id), state, cursor, limit)


async def with_deliveries(
    agency_code: str, subscription_id: str, state: str | None, cursor: str | None, limit: int
) -> tuple[SubscriptionOut, Page[DeliveryOut]]:
    """One subscription and a page of its delivery log, the subscription read once."""
    raw = await _own(agency_code, subscription_id)
    return subscription_out(raw), await _deliveries_of(raw, state, cursor, limit)


async def each_with_latest(agency_code: str, limit: int) -> list[tuple[SubscriptionOut, list[DeliveryOut]]]:
    """Every subscription of the agency with its `limit` newest deliveries."""
    raws = [raw async for raw in store.subscriptions_of(agency_code)]
    pages = await asyncio.gather(*(_deliveries_of(raw, None, None, limit) for raw in raws))
    return [(subscription_out(raw), page.items) for raw, page in zip(raws, pages, strict=True)]


async def _deliveries_of(raw: dict[str, Any], state: str | None, cursor: str | None, limit: int) -> Page[DeliveryOut]:
    query: dict[str, Any] = {"subscription_id": raw["_id"], **cursor_filter(cursor, descending=True)}
    if state:
        query["state"] = state
    found = await store.newest_deliveries(query, limit)
    return Page(items=[delivery_out(d) for d in found], next_cursor=next_cursor([d["_id"] for d in found], limit))


async def replay(
    agency_code: str, subscription_id: str, delivery_id: str, pool: ArqRedis, settings: Settings
) -> DeliveryOut:
    """Send a delivery again (delivered or parked) with a new retry window. While it is pending
    a replay changes nothing: concurrent replays send it once."""
    raw = await _own(agency_code, subscription_id)
    oid = _oid(delivery_id, DELIVERY)
    now = utcnow()
    replayed = await store.replay(
        oid,
        raw["_id"],
        {
            "state": "pending",
            "next_attempt_at": now,
            "retry_until": now + timedelta(hours=settings.webhook_retry_hours),
            "parked_reason": None,
        },
    )
    delivery = await store.subscriptions_delivery(oid, raw["_id"])
    if delivery is None:
        raise not_found(DELIVERY)
    if replayed:
        await enqueue_webhook_delivery(pool, delivery_id)
    return delivery_out(delivery)
