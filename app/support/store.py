"""The support desk's one module that touches the store (decision 0024: one per area):
lookups, consent codes and assisted sessions. Citizens, staff and wallets are read through
their own areas' store modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from models.common import utcnow
from models.support import AssistedSession, ConsentCode, SupportLookup


async def insert_lookup(entry: SupportLookup) -> None:
    await entry.insert()


async def insert_code(code: ConsentCode) -> None:
    await code.insert()


async def take_code(query: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """One atomic update: a code is used once, even by two desks at the same moment."""
    return await ConsentCode.get_pymongo_collection().find_one_and_update(
        query, {"$set": {"used_at": now}}, return_document=ReturnDocument.AFTER
    )


async def count_failed_attempt(citizen_id: PydanticObjectId | None, now: datetime) -> None:
    """Every wrong try counts against the citizen's live codes."""
    await ConsentCode.get_pymongo_collection().update_many(
        {"citizen_id": citizen_id, "used_at": None, "expires_at": {"$gt": now}}, {"$inc": {"failed_attempts": 1}}
    )


async def insert_session(session: AssistedSession) -> None:
    await session.insert()


async def session_of(session_id: PydanticObjectId, staff_id: str) -> AssistedSession | None:
    return await AssistedSession.find_one({"_id": session_id, "staff_id": staff_id})


async def end_session(session_id: PydanticObjectId, staff_id: str) -> bool:
    """False if the staff member has no such running session."""
    ended = await AssistedSession.get_pymongo_collection().update_one(
        {"_id": session_id, "staff_id": staff_id, "ended_at": None}, {"$set": {"ended_at": utcnow()}}
    )
    return ended.matched_count != 0
