"""The inbox's one module that touches the store (decision 0024: one per area): notifications,
preferences, and the outbox entries other areas leave on their documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from beanie import Document, PydanticObjectId
from bson import ObjectId
from pymongo import InsertOne
from pymongo.errors import DuplicateKeyError

from app import grouped_writes
from app.in_lists import pieces
from models.citizen import Citizen, Device, is_closed
from models.common import utcnow
from models.consent import Consent, consent_given
from models.notification import Notification, OutboxSweepMark
from models.preferences import NotificationPreferences

PREFERENCES = NotificationPreferences.Settings.name
DEVICES = Device.Settings.name
CONSENTS = Consent.Settings.name
OUTBOX_MARK = "outbox"


async def notification(notification_id: PydanticObjectId) -> Notification | None:
    return await Notification.get(notification_id)


async def preferences_of(citizen_id: PydanticObjectId) -> NotificationPreferences | None:
    return await NotificationPreferences.find_one(NotificationPreferences.citizen_id == citizen_id)


async def recipient(citizen_id: PydanticObjectId) -> tuple[NotificationPreferences | None, bool, list[Device]]:
    """What a push to the citizen needs, in one read (one aggregate from the citizen, joined
    on the indexed `citizen_id` of each collection): the preferences, whether the latest
    push decision allows pushes (none recorded: allowed, models/consent.py), the devices."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": citizen_id}},
        {"$project": {"_id": 1}},
        {"$lookup": {"from": PREFERENCES, "localField": "_id", "foreignField": "citizen_id", "as": "preferences"}},
        {"$lookup": {"from": DEVICES, "localField": "_id", "foreignField": "citizen_id", "as": "devices"}},
        {
            "$lookup": {
                "from": CONSENTS,
                "localField": "_id",
                "foreignField": "citizen_id",
                "pipeline": [{"$match": {"purpose": "push_notifications"}}, {"$sort": {"_id": -1}}, {"$limit": 1}],
                "as": "consent",
            }
        },
    ]
    found = await (await Citizen.get_pymongo_collection().aggregate(pipeline)).to_list()
    if not found:
        # No citizen record (erased meanwhile): each part as its own collection says.
        devices = await Device.find(Device.citizen_id == citizen_id).to_list()
        return await preferences_of(citizen_id), await consent_given(citizen_id, "push_notifications"), devices
    joined = found[0]
    preferences = NotificationPreferences.model_validate(joined["preferences"][0]) if joined["preferences"] else None
    consent = bool(joined["consent"][0]["granted"]) if joined["consent"] else True
    return preferences, consent, [Device.model_validate(d) for d in joined["devices"]]


async def preferences_of_many(citizen_ids: list[Any]) -> list[NotificationPreferences]:
    found: list[NotificationPreferences] = []
    for piece in pieces(citizen_ids):  # app/in_lists.py
        found += await NotificationPreferences.find({"citizen_id": {"$in": list(piece)}}).to_list()
    return found


async def hold(notification_id: PydanticObjectId | None, until: datetime, now: datetime) -> None:
    """Quiet hours: the notification waits until `until`."""
    await Notification.get_pymongo_collection().update_one(
        {"_id": notification_id},
        {"$set": {"held_until": until, "next_attempt_at": until, "updated_at": now}},
    )


async def set_delivery(notification_id: PydanticObjectId | None, fields: dict[str, Any]) -> None:
    """Only the delivery fields are written: the citizen may mark the notification read meanwhile."""
    await Notification.get_pymongo_collection().update_one({"_id": notification_id}, {"$set": fields})


async def waiting(now: datetime) -> tuple[dict[str, Any] | None, int]:
    """The oldest notification waiting to be sent (its `created_at`), and how many wait. One
    held for quiet hours is waiting on purpose, not late."""
    query = {"state": "pending", "$or": [{"held_until": None}, {"held_until": {"$lte": now}}]}
    collection = Notification.get_pymongo_collection()
    oldest = await collection.find_one(query, {"created_at": 1}, sort=[("created_at", 1)])
    return oldest, await collection.count_documents(query)


# --- the citizen's inbox ------------------------------------------------------------------


async def newest(query: dict[str, Any], limit: int) -> list[Notification]:
    return await Notification.find(query).sort("-_id").limit(limit).to_list()


async def unread_count(citizen_id: PydanticObjectId) -> int:
    return await Notification.get_pymongo_collection().count_documents({"citizen_id": citizen_id, "read_at": None})


async def mark_read(owned: dict[str, Any], read: bool) -> Notification | None:
    """Read (keeping the first time it was read) or unread again; the notification after it."""
    collection = Notification.get_pymongo_collection()
    if read:
        await collection.update_one({**owned, "read_at": None}, {"$set": {"read_at": utcnow()}})
    else:
        await collection.update_one(owned, {"$set": {"read_at": None}})
    return await Notification.find_one(owned)


async def mark_all_read(citizen_id: PydanticObjectId) -> int:
    result = await Notification.get_pymongo_collection().update_many(
        {"citizen_id": citizen_id, "read_at": None}, {"$set": {"read_at": utcnow()}}
    )
    return result.modified_count


async def delete_older_than(cutoff: datetime) -> int:
    result = await Notification.get_pymongo_collection().delete_many({"created_at": {"$lt": cutoff}})
    return result.deleted_count


async def put_preferences(citizen_id: PydanticObjectId, fields: dict[str, Any]) -> None:
    await NotificationPreferences.get_pymongo_collection().update_one(
        {"citizen_id": citizen_id},
        {"$set": fields, "$setOnInsert": {"citizen_id": citizen_id}},
        upsert=True,
    )


# --- outboxes → notifications -------------------------------------------------------------


async def document(model: type[Document], document_id: Any) -> dict[str, Any] | None:
    """The document as stored, by `_id`."""
    found: dict[str, Any] | None = await model.get_pymongo_collection().find_one({"_id": document_id})
    return found


async def outbox_entries_between(model: type[Document], since: datetime, until: datetime) -> list[dict[str, Any]]:
    """`_id`, owner, agency and outbox entries' keys, kinds and times of the documents with an
    entry made in [since, until), through the `outbox.created_at` index."""
    found = model.get_pymongo_collection().find(
        {"outbox.created_at": {"$gte": since, "$lt": until}},
        {"citizen_id": 1, "agency_code": 1, "outbox.key": 1, "outbox.kind": 1, "outbox.created_at": 1},
    )
    return await found.to_list()


async def notification_keys_between(since: datetime, until: datetime) -> set[str]:
    """The keys of the notifications made for entries of [since, until): a notification carries
    its entry's `created_at`."""
    found = Notification.get_pymongo_collection().find({"created_at": {"$gte": since, "$lt": until}}, {"key": 1})
    return {raw["key"] async for raw in found}


async def outbox_sweep_mark() -> datetime | None:
    found = await OutboxSweepMark.get_pymongo_collection().find_one({"_id": OUTBOX_MARK})
    return found["until"] if found else None


async def move_outbox_sweep_mark(until: datetime) -> None:
    """Forward only: two sweeps at once leave the later of their marks."""
    await OutboxSweepMark.get_pymongo_collection().update_one(
        {"_id": OUTBOX_MARK}, {"$max": {"until": until}}, upsert=True
    )


async def upsert_notification(key: str, fields: dict[str, Any]) -> tuple[ObjectId, bool]:
    """The notification of this key (made now, or by an earlier run), and whether it is new.
    An insert that the unique key index refuses on a replay: cheaper for the store than an
    upsert, which looks the key up before every insert (decision 0031)."""
    notification_id = ObjectId()
    try:
        await grouped_writes.of(Notification).write(InsertOne({"_id": notification_id, **fields, "key": key}))
        return notification_id, True
    except DuplicateKeyError:
        # A replay: the notification made the first time.
        found = await Notification.get_pymongo_collection().find_one({"key": key}, {"_id": 1})
        if found is None:
            raise  # refused for another reason than this key
        return ObjectId(found["_id"]), False


async def account_closed(citizen_id: ObjectId) -> bool:
    """Closed by its citizen (app/privacy/service.py), or gone."""
    return is_closed(await Citizen.get_pymongo_collection().find_one({"_id": citizen_id}, {"closed_at": 1}))


async def guardian_ids(citizen_id: ObjectId) -> list[ObjectId]:
    raw = await Citizen.get_pymongo_collection().find_one({"_id": citizen_id}, {"guardian_ids": 1})
    return list(raw.get("guardian_ids") or []) if raw else []


async def pending_ids(cutoff: datetime, batch: int) -> AsyncIterator[ObjectId]:
    """Pending notifications not attempted since `cutoff`."""
    pending = (
        Notification.get_pymongo_collection()
        .find({"state": "pending", "next_attempt_at": {"$lt": cutoff}}, {"_id": 1})
        .limit(batch)
    )
    async for raw in pending:
        yield raw["_id"]
