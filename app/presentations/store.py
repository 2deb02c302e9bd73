"""Presentations' one module that touches the store (decision 0024: one per area)."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from models.common import utcnow
from models.presentation import Presentation
from models.wallet import WalletDocument


async def insert(presentation: Presentation) -> None:
    await presentation.insert()


async def delete(citizen_id: PydanticObjectId, presentation_id: str) -> bool:
    """False if the citizen has no such presentation."""
    gone = await Presentation.get_pymongo_collection().delete_one({"jti": presentation_id, "citizen_id": citizen_id})
    return gone.deleted_count != 0


async def by_jti(jti: Any) -> Presentation | None:
    return await Presentation.find_one(Presentation.jti == jti)


async def document(document_id: PydanticObjectId) -> WalletDocument | None:
    return await WalletDocument.get(document_id)


async def use_once(presentation_id: PydanticObjectId | None) -> bool:
    """Mark a single-use presentation used; False if it was used already."""
    claimed = await Presentation.get_pymongo_collection().find_one_and_update(
        {"_id": presentation_id, "used_at": None},
        {"$set": {"used_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    return claimed is not None
