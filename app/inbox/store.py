"""The inbox's one module that touches the store (decision 0024: one per area).

The area's other modules still hold their own calls, listed in tests/unit/test_store_access.py
until they move here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from models.notification import Notification
from models.preferences import NotificationPreferences


async def notification(notification_id: PydanticObjectId) -> Notification | None:
    return await Notification.get(notification_id)


async def preferences_of(citizen_id: PydanticObjectId) -> NotificationPreferences | None:
    return await NotificationPreferences.find_one(NotificationPreferences.citizen_id == citizen_id)


async def preferences_of_many(citizen_ids: list[Any]) -> list[NotificationPreferences]:
    return await NotificationPreferences.find({"citizen_id": {"$in": citizen_ids}}).to_list()


async def hold(notification_id: PydanticObjectId | None, until: datetime, now: datetime) -> None:
    """Quiet hours: the notification waits until `until`."""
    await Notification.get_pymongo_collection().update_one(
        {"_id": notification_id},
        {"$set": {"held_until": until, "next_attempt_at": until, "updated_at": now}},
    )


async def set_delivery(notification_id: PydanticObjectId | None, fields: dict[str, Any]) -> None:
    """Only the delivery fields are written: the citizen may mark the notification read meanwhile."""
    await Notification.get_pymongo_collection().update_one({"_id": notification_id}, {"$set": fields})
