"""The post's one module that touches the store (decision 0024: one per area): postal
operators, and the dossiers whose result travels by post (their parcel is written through
app/dossiers/store.py)."""

from __future__ import annotations

from typing import Any

from models.dossier import Dossier
from models.postal import PostalOperator


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
