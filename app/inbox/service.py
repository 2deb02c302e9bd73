"""The citizen's inbox: every notification, rendered in the reader's language."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.i18n import Language
from app.inbox.schemas import NotificationOut
from app.pagination import Page, cursor_filter, next_cursor
from models.notification import Notification
from notifications.templates import render


def localized_params(params: dict[str, str], language: str) -> dict[str, str]:
    """Params stored in both languages (`x_vi`, `x_en`) also become `x` in the one wanted."""
    suffix = f"_{language}"
    return {**params, **{k.removesuffix(suffix): v for k, v in params.items() if k.endswith(suffix)}}


def notification_out(notification: Notification, language: Language) -> NotificationOut:
    title, body = render(notification.kind, language, localized_params(notification.params, language))
    return NotificationOut(
        id=str(notification.id),
        title=title,
        body=body,
        data={**notification.data, "notification_id": str(notification.id)},
        created_at=notification.created_at,
        read_at=notification.read_at,
    )


async def list_inbox(
    citizen_id: PydanticObjectId, language: Language, cursor: str | None, limit: int
) -> Page[NotificationOut]:
    query = {"citizen_id": citizen_id, **cursor_filter(cursor, descending=True)}
    found = await Notification.find(query).sort("-_id").limit(limit).to_list()
    return Page(
        items=[notification_out(n, language) for n in found], next_cursor=next_cursor([n.id for n in found], limit)
    )
