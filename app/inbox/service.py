"""The citizen's inbox: every notification, rendered in the reader's language."""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId
from bson.errors import InvalidId

from app.errors import Text, not_found
from app.i18n import Language
from app.inbox import store
from app.inbox.schemas import NotificationOut
from app.pagination import Page, cursor_filter, next_cursor
from models.common import utcnow
from models.notification import Notification
from notifications.templates import render

NOTIFICATION = Text("thông báo", "notification")


def localized_params(params: dict[str, str], language: str) -> dict[str, str]:
    """Params stored in both languages (`x_vi`, `x_en`) also become `x` in the one wanted."""
    suffix = f"_{language}"
    return {**params, **{k.removesuffix(suffix): v for k, v in params.items() if k.endswith(suffix)}}


def notification_out(notification: Notification, language: Language) -> NotificationOut:
    # The full text, also for a sensitive matter: the inbox is behind login.
    title, body = render(
        notification.kind,
        language,
        localized_params(notification.params, language),
        about_child="child_id" in notification.data,
    )
    return NotificationOut(
        id=str(notification.id),
        title=title,
        body=body,
        data={**notification.data, "notification_id": str(notification.id)},
        created_at=notification.created_at,
        read_at=notification.read_at,
        category=notification.category,
    )


async def list_inbox(
    citizen_id: PydanticObjectId, language: Language, cursor: str | None, limit: int, *, unread_only: bool = False
) -> Page[NotificationOut]:
    query = {"citizen_id": citizen_id, **cursor_filter(cursor, descending=True)}
    if unread_only:
        query["read_at"] = None
    found = await store.newest(query, limit)
    return Page(
        items=[notification_out(n, language) for n in found], next_cursor=next_cursor([n.id for n in found], limit)
    )


async def unread_count(citizen_id: PydanticObjectId) -> int:
    return await store.unread_count(citizen_id)


async def mark_read(
    citizen_id: PydanticObjectId, notification_id: str, read: bool, language: Language
) -> NotificationOut:
    """Mark one notification read (keeping the first time it was read) or unread again."""
    try:
        oid = PydanticObjectId(notification_id)
    except (InvalidId, TypeError):
        raise not_found(NOTIFICATION) from None
    # The owner is part of the filter: another citizen's id finds nothing, exactly like a wrong id.
    owned = {"_id": oid, "citizen_id": citizen_id}
    notification = await store.mark_read(owned, read)
    if notification is None:
        raise not_found(NOTIFICATION)
    return notification_out(notification, language)


async def mark_all_read(citizen_id: PydanticObjectId) -> int:
    return await store.mark_all_read(citizen_id)


async def purge_expired(retention_days: int) -> int:
    """Delete notifications older than the retention period, read or not."""
    cutoff = utcnow() - timedelta(days=retention_days)
    return await store.delete_older_than(cutoff)
