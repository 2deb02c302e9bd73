"""The wallet's one module that touches the store (decision 0024: one per area).

The wallet's other modules still hold their own calls, listed in tests/unit/test_store_access.py
until they move here.
"""

from __future__ import annotations

from beanie import PydanticObjectId

from models.wallet import WalletDocument


async def documents_of(citizen_id: PydanticObjectId) -> list[WalletDocument]:
    """A citizen's whole wallet, newest first."""
    return await WalletDocument.find(WalletDocument.citizen_id == citizen_id).sort("-_id").to_list()
