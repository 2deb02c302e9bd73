"""The escalation's one module that touches the store (decision 0024: one per area).

Escalation sits below every area it reads (app/inbox writes the plans it follows), so its
reads of citizens and dossiers, its SMS log and the letters it posts are here, not in those
areas' store modules. When a step is due and what it does is app/escalation/service.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from bson import ObjectId

from models.citizen import Citizen, Device, is_closed
from models.dossier import Dossier
from models.escalation import EscalationStep
from models.notification import Notification
from models.postal import PostalLetter
from models.sms import SmsMessage

# --- notifications and their plans -------------------------------------------------------


async def close_read(scope: dict[str, Any], now: datetime) -> None:
    """Read notices leave the plan: nothing more is owed for them."""
    await Notification.get_pymongo_collection().update_many(
        {**scope, "escalation.next_at": {"$lte": now}, "read_at": {"$ne": None}},
        {"$set": {"escalation.next_at": None}},
    )


async def due(scope: dict[str, Any], now: datetime, batch: int) -> AsyncIterator[dict[str, Any]]:
    """Unread notices whose step is due, at most `batch`."""
    found = (
        Notification.get_pymongo_collection()
        .find({**scope, "escalation.next_at": {"$lte": now}, "read_at": None})
        .limit(batch)
    )
    async for raw in found:
        yield raw


async def claim(notification_id: Any, next_at: datetime | None, until: datetime) -> bool:
    """Move the step's `next_at` on to `until`; False if another runner took it, or it was read."""
    claimed = await Notification.get_pymongo_collection().update_one(
        {"_id": notification_id, "escalation.next_at": next_at, "read_at": None},
        {"$set": {"escalation.next_at": until}},
    )
    return claimed.modified_count == 1


async def record(
    notification_id: ObjectId, step: EscalationStep | None, next_at: datetime | None, sms_attempts: int | None = None
) -> None:
    update: dict[str, Any] = {"$set": {"escalation.next_at": next_at}}
    if sms_attempts is not None:
        update["$set"]["escalation.sms_attempts"] = sms_attempts
    if step is not None:
        update["$push"] = {"escalation.steps": step.model_dump()}
    await Notification.get_pymongo_collection().update_one({"_id": notification_id}, update)


# --- who and where ------------------------------------------------------------------------


async def sms_recipient(citizen_id: Any) -> tuple[str, str]:
    """The citizen's phone (empty if none, no citizen, or the account closed: its number was
    replaced by a placeholder) and the language of their app: that of the phone registered for
    push most recently, Vietnamese if none is."""
    citizen = await Citizen.get_pymongo_collection().find_one({"_id": citizen_id}, {"phone": 1, "closed_at": 1})
    phone: str = "" if is_closed(citizen) else (citizen or {}).get("phone") or ""
    newest = await Device.get_pymongo_collection().find_one(
        {"citizen_id": citizen_id}, {"locale": 1}, sort=[("updated_at", -1)]
    )
    return phone, (newest or {}).get("locale") or "vi"


async def citizen_name(citizen_id: Any) -> str:
    citizen = await Citizen.get_pymongo_collection().find_one({"_id": citizen_id}, {"full_name": 1})
    name: str = (citizen or {}).get("full_name", "")
    return name


async def delivery_address(dossier_code: str) -> str | None:
    """The address the dossier's result goes to, if it has one."""
    dossier = await Dossier.get_pymongo_collection().find_one({"code": dossier_code}, {"delivery": 1})
    address: str | None = ((dossier or {}).get("delivery") or {}).get("address")
    return address


# --- the SMS log and the letters ----------------------------------------------------------


async def sms_sent_since(citizen_id: Any, since: datetime) -> int:
    return await SmsMessage.get_pymongo_collection().count_documents(
        {"citizen_id": citizen_id, "state": "sent", "created_at": {"$gt": since}}
    )


async def log_sms(
    notification_id: Any, on_insert: dict[str, Any], state: str, provider_id: str | None, attempt: dict[str, Any]
) -> None:
    """The notice's one SMS log entry, with this attempt."""
    await SmsMessage.get_pymongo_collection().update_one(
        {"notification_id": notification_id},
        {
            "$setOnInsert": on_insert,
            "$set": {"state": state, "provider_id": provider_id},
            "$push": {"attempts": attempt},
        },
        upsert=True,
    )


async def post_letter(letter: PostalLetter) -> Any | None:
    """The notice's one letter (made unless it exists); its `_id`."""
    letters = PostalLetter.get_pymongo_collection()
    await letters.update_one(
        {"notification_id": letter.notification_id},
        {"$setOnInsert": letter.model_dump(exclude={"id", "revision_id"})},
        upsert=True,
    )
    found = await letters.find_one({"notification_id": letter.notification_id}, {"_id": 1})
    return found["_id"] if found else None
