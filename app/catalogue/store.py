"""The catalogue's one module that touches the store (decision 0024: one per area)."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from models.agency import Agency
from models.catalogue import Service
from models.citizen import Citizen
from models.wallet import WalletDocument

# A service without the field (stored before `active` existed) counts as active.
ACTIVE = {"active": {"$ne": False}}


async def all_services() -> list[Service]:
    """Every procedure, closed or not."""
    return await Service.find_all().to_list()


async def active_services() -> list[Service]:
    return await Service.find(ACTIVE).sort("code").to_list()


async def active_service(code: str) -> Service | None:
    return await Service.find_one({"code": code, **ACTIVE})


async def any_active_service() -> Service | None:
    return await Service.find_one(ACTIVE)


async def service(code: str) -> Service | None:
    """A procedure, closed or not."""
    return await Service.find_one(Service.code == code)


async def services_with_result(document_type: str) -> list[Service]:
    return await Service.find(Service.result_document_type == document_type).to_list()


async def upsert_service(code: str, content: dict[str, Any], on_insert: dict[str, Any]) -> None:
    await Service.get_pymongo_collection().update_one(
        {"code": code}, {"$set": content, "$setOnInsert": on_insert}, upsert=True
    )


async def close_services_except(codes: list[str]) -> None:
    await Service.get_pymongo_collection().update_many({"code": {"$nin": codes}, **ACTIVE}, {"$set": {"active": False}})


async def agencies(query: dict[str, Any], fields: dict[str, int]) -> list[dict[str, Any]]:
    """Raw agency records (a small collection), only `fields`."""
    found: list[dict[str, Any]] = await Agency.get_pymongo_collection().find(query, fields).to_list()
    return found


async def citizen(citizen_id: PydanticObjectId) -> Citizen | None:
    return await Citizen.get(citizen_id)


async def valid_documents(citizen_id: PydanticObjectId) -> list[WalletDocument]:
    """The citizen's documents stored as valid, newest first."""
    return await WalletDocument.find({"citizen_id": citizen_id, "status": "valid"}).sort("-_id").to_list()
