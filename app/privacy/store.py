"""Privacy's one module that touches the store (decision 0024: one per area): consents, and
what a citizen's export and account closure read and delete across the collections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document, PydanticObjectId

from app.wallet import page_cache
from models.citizen import AuthSession, Citizen, closed_phone
from models.consent import Consent
from models.wallet import WalletDocument


async def latest_consent(citizen_id: PydanticObjectId, purpose: str) -> Consent | None:
    latest = await Consent.find({"citizen_id": citizen_id, "purpose": purpose}).sort("-_id").limit(1).to_list()
    return latest[0] if latest else None


async def insert_consent(consent: Consent) -> None:
    await consent.insert()


async def citizen(citizen_id: PydanticObjectId) -> Citizen | None:
    return await Citizen.get(citizen_id)


async def raw_citizen(citizen_id: PydanticObjectId) -> dict[str, Any] | None:
    return await Citizen.get_pymongo_collection().find_one({"_id": citizen_id})


async def raw_of(model: type[Document], citizen_id: PydanticObjectId, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record of the citizen in one collection, oldest first, as stored."""
    cursor = model.get_pymongo_collection().find({"citizen_id": citizen_id, **extra}).sort("_id", 1)
    return [raw async for raw in cursor]


async def delete_all_of(model: type[Document], citizen_id: PydanticObjectId) -> int:
    result = await model.get_pymongo_collection().delete_many({"citizen_id": citizen_id})
    if model is WalletDocument:
        await page_cache.announce_changed([citizen_id])
    return result.deleted_count


async def revoke_sessions(citizen_id: PydanticObjectId, now: datetime) -> int:
    sessions = await AuthSession.get_pymongo_collection().update_many(
        {"citizen_id": citizen_id, "revoked_at": None}, {"$set": {"revoked_at": now}}
    )
    return sessions.modified_count


async def close(citizen_id: PydanticObjectId, now: datetime) -> None:
    await Citizen.get_pymongo_collection().update_one(
        {"_id": citizen_id},
        {"$set": {"phone": closed_phone(citizen_id), "password_hash": "!", "closed_at": now}},
    )
