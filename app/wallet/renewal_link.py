"""Which document a dossier's result renews (the catalogue's `renews_field` names the number)."""

from __future__ import annotations

from beanie import PydanticObjectId

from models.catalogue import Service
from models.dossier import Dossier
from models.wallet import WalletDocument


class RenewalInProgress(Exception):
    """Another result is replacing the named document right now: its new version is stored
    but still hidden (supersede.py). Look again in a moment; a first issue would leave two
    valid documents."""


async def renewed_by_dossier(
    dossier_code: str, citizen_id: PydanticObjectId, document_type: str
) -> WalletDocument | None:
    """The citizen's document that this dossier's result replaces: the procedure renews this
    type (`renews_field` in the catalogue) and the form names the document's number. None when
    the result is a first issue, or the named document is not a valid one in the wallet."""
    dossier = await Dossier.get_pymongo_collection().find_one(
        {"code": dossier_code, "citizen_id": citizen_id}, {"service_code": 1, "form": 1}
    )
    if dossier is None:
        return None
    service = await Service.find_one(Service.code == dossier["service_code"])
    if service is None or service.renews_field is None or service.result_document_type != document_type:
        return None
    number = str((dossier.get("form") or {}).get(service.renews_field) or "").strip()
    if not number:
        return None
    query = {
        "citizen_id": citizen_id,
        "type": document_type,
        "number": number,
        "status": "valid",
        "renewal_pending": {"$ne": True},
    }
    current = await WalletDocument.find(query).sort("-_id").first_or_none()
    if current is None and await _being_replaced(citizen_id, document_type, number):
        raise RenewalInProgress
    return current


async def _being_replaced(citizen_id: PydanticObjectId, document_type: str, number: str) -> bool:
    collection = WalletDocument.get_pymongo_collection()
    named = [
        d["_id"]
        async for d in collection.find({"citizen_id": citizen_id, "type": document_type, "number": number}, {"_id": 1})
    ]
    # Served by the partial index on renewal_pending: only renewals in flight are in it.
    pending = await collection.find_one({"renewal_pending": True, "supersedes": {"$in": named}}, {"_id": 1})
    return bool(named) and pending is not None
