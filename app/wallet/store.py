"""The wallet's one module that touches the store (decision 0024: one per area): documents
and the platform's signing keys.

Every write to a citizen's documents announces the citizen (app/wallet/page_cache.py), so no
API process serves a wallet page from before it: a new write function must do the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.wallet import page_cache
from models.catalogue import Service
from models.citizen import Citizen
from models.dossier import Dossier
from models.signing_key import SigningKey
from models.wallet import WalletDocument


async def documents_of(citizen_id: PydanticObjectId) -> list[WalletDocument]:
    """A citizen's whole wallet, newest first."""
    return await WalletDocument.find(WalletDocument.citizen_id == citizen_id).sort("-_id").to_list()


async def document(document_id: PydanticObjectId | None) -> WalletDocument | None:
    return await WalletDocument.get(document_id)


async def insert_document(document: WalletDocument) -> None:
    """Raises DuplicateKeyError when the agency's event id was used already."""
    await document.insert()
    await page_cache.announce_changed([document.citizen_id])


async def issued_by_event(issuer: str, event_id: str) -> WalletDocument | None:
    return await WalletDocument.find_one(WalletDocument.issuer == issuer, WalletDocument.issue_event_id == event_id)


async def issued_by(document_id: PydanticObjectId, issuer: str | None) -> WalletDocument | None:
    return await WalletDocument.find_one({"_id": document_id, "issuer": issuer})


async def owned_by(document_id: PydanticObjectId, citizen_id: PydanticObjectId) -> WalletDocument | None:
    """The owner is part of the query: another citizen's id finds nothing, exactly like a wrong id."""
    return await WalletDocument.find_one(
        {"_id": document_id, "citizen_id": citizen_id, "renewal_pending": {"$ne": True}}
    )


async def page(query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Raw documents, newest first, decoded once by the driver (the wallet list, decision 0025)."""
    found: list[dict[str, Any]] = (
        await WalletDocument.get_pymongo_collection().find(query, sort=[("_id", -1)], limit=limit).to_list()
    )
    return found


async def versions(citizen_id: PydanticObjectId, lineage: Any) -> list[WalletDocument]:
    """Every shown version of a document, newest first."""
    return (
        await WalletDocument.find(
            {
                "citizen_id": citizen_id,
                "$or": [{"_id": lineage}, {"lineage_id": lineage}],
                "renewal_pending": {"$ne": True},
            }
        )
        .sort("-version")
        .to_list()
    )


async def pending_renewals(cutoff: datetime, batch: int) -> list[WalletDocument]:
    """Renewals still hidden since before `cutoff` (a crash left them half-done)."""
    return await WalletDocument.find({"renewal_pending": True, "issued_at": {"$lt": cutoff}}).limit(batch).to_list()


async def citizen_by_national_id(national_id: str) -> Citizen | None:
    return await Citizen.find_one(Citizen.national_id == national_id)


async def update_document(
    document_id: Any, condition: dict[str, Any], update: dict[str, Any], *, citizen_id: Any
) -> bool:
    """A conditional update of one of the citizen's documents; False if the condition no
    longer held."""
    result = await WalletDocument.get_pymongo_collection().update_one(
        {"_id": document_id, "citizen_id": citizen_id, **condition}, update
    )
    if result.modified_count == 0:
        return False
    await page_cache.announce_changed([citizen_id])
    return True


async def update_document_after(query: dict[str, Any], update: dict[str, Any]) -> dict[str, Any] | None:
    """A conditional update; the document after it, or None if nothing matched."""
    after: dict[str, Any] | None = await WalletDocument.get_pymongo_collection().find_one_and_update(
        query, update, return_document=ReturnDocument.AFTER
    )
    if after is not None:
        await page_cache.announce_changed([after["citizen_id"]])
    return after


async def superseded_by(document_id: PydanticObjectId | None) -> Any:
    """Which document replaced this one (None if none, or it is gone)."""
    old = await WalletDocument.get_pymongo_collection().find_one({"_id": document_id}, {"superseded_by": 1})
    return old.get("superseded_by") if old is not None else None


async def delete_hidden_renewal(document_id: PydanticObjectId | None) -> None:
    # Only while still hidden: nobody has seen it and no push was owed for it (nor any page
    # shown it, so there is nothing to announce).
    await WalletDocument.get_pymongo_collection().delete_one({"_id": document_id, "renewal_pending": True})


async def count_signed_with(kid: str) -> int:
    return await WalletDocument.get_pymongo_collection().count_documents({"proof.kid": kid})


async def expiring(query: dict[str, Any], batch: int) -> AsyncIterator[dict[str, Any]]:
    """The expiry fields of the documents matching `query`."""
    cursor = WalletDocument.get_pymongo_collection().find(query, {"valid_until": 1, "reminders_sent": 1})
    async for raw in cursor.batch_size(batch):
        yield raw


async def unsigned(batch: int) -> list[WalletDocument]:
    return await WalletDocument.find({"proof": None}).limit(batch).to_list()


async def newest_matching(query: dict[str, Any]) -> WalletDocument | None:
    return await WalletDocument.find(query).sort("-_id").first_or_none()


async def citizen(citizen_id: Any) -> Citizen | None:
    return await Citizen.get(citizen_id)


async def dossier_form(dossier_code: str, citizen_id: PydanticObjectId) -> dict[str, Any] | None:
    """A dossier's procedure code and form (the renewal it asks for is named in the form)."""
    return await Dossier.get_pymongo_collection().find_one(
        {"code": dossier_code, "citizen_id": citizen_id}, {"service_code": 1, "form": 1}
    )


async def service(code: str) -> Service | None:
    return await Service.find_one(Service.code == code)


# --- signing keys -------------------------------------------------------------------------


async def insert_key(key: SigningKey) -> None:
    await key.insert()


async def reseal_key(kid: str, sealed: str, resealed: str, wrap_key_id: str) -> None:
    """Store the key again under the current secret, unless another process did already."""
    await SigningKey.get_pymongo_collection().update_one(
        {"kid": kid, "private_key_sealed": sealed},
        {"$set": {"private_key_sealed": resealed, "wrap_key_id": wrap_key_id}},
    )


async def active_keys_older_than(new: SigningKey) -> list[SigningKey]:
    return await SigningKey.find(
        {"state": "active", "kid": {"$ne": new.kid}, "created_at": {"$lte": new.created_at}}
    ).to_list()


async def retire_keys(kids: list[str], now: datetime) -> None:
    await SigningKey.get_pymongo_collection().update_many(
        {"kid": {"$in": kids}, "state": "active"}, {"$set": {"state": "retired", "retired_at": now}}
    )


async def newest_active_key() -> SigningKey | None:
    return await SigningKey.find({"state": "active"}).sort("-created_at", "-kid").first_or_none()


async def key(kid: str) -> SigningKey | None:
    return await SigningKey.find_one(SigningKey.kid == kid)


async def all_keys() -> list[SigningKey]:
    return await SigningKey.find_all().sort("-created_at", "-kid").to_list()


async def renewal_in_flight(citizen_id: PydanticObjectId, document_type: str, number: str) -> bool:
    """A new version of the citizen's document with this number is stored but still hidden."""
    collection = WalletDocument.get_pymongo_collection()
    named = [
        d["_id"]
        async for d in collection.find({"citizen_id": citizen_id, "type": document_type, "number": number}, {"_id": 1})
    ]
    if not named:
        return False
    # Served by the partial index on renewal_pending: only renewals in flight are in it.
    pending = await collection.find_one({"renewal_pending": True, "supersedes": {"$in": named}}, {"_id": 1})
    return pending is not None
