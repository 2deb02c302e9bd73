"""The post's one module that touches the store (decision 0024: one per area): postal
operators, registered letters, and the dossiers whose result travels by post (their parcel
is written through app/dossiers/store.py)."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from models.dossier import Dossier
from models.postal import PostalLetter, PostalOperator


async def insert_operator(operator: PostalOperator) -> None:
    await operator.insert()


async def operator_by_client_id(client_id: str) -> PostalOperator | None:
    return await PostalOperator.find_one(PostalOperator.client_id == client_id)


async def upsert_operator(code: str, fields: dict[str, Any], on_insert: dict[str, Any]) -> None:
    await PostalOperator.get_pymongo_collection().update_one(
        {"code": code}, {"$set": fields, "$setOnInsert": on_insert}, upsert=True
    )


async def oldest_first(query: dict[str, Any], limit: int) -> list[Dossier]:
    return await Dossier.find(query).sort("+_id").limit(limit).to_list()


async def parcel(code: str) -> Dossier | None:
    """A dossier that has a parcel."""
    return await Dossier.find_one({"code": code, "shipment": {"$ne": None}})


# --- registered letters (app/postal/letters.py) -------------------------------------------


async def letter(letter_id: ObjectId) -> PostalLetter | None:
    return await PostalLetter.get(letter_id)


async def oldest_letters(query: dict[str, Any], limit: int) -> list[PostalLetter]:
    return await PostalLetter.find(query).sort("+_id").limit(limit).to_list()


async def move_letter(letter_id: ObjectId, status: str, event_id: str, to: str, step: dict[str, Any]) -> bool:
    """The letter's new tracking status, if it is still in `status` and has not seen the event;
    False if nothing changed."""
    result = await PostalLetter.get_pymongo_collection().update_one(
        {"_id": letter_id, "status": status, "event_ids": {"$ne": event_id}},
        {"$set": {"status": to}, "$push": {"updates": step, "event_ids": event_id}},
    )
    return result.modified_count != 0
