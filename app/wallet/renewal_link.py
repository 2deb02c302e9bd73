"""Which document a dossier's result renews (the catalogue's `renews_field` names the number)."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.wallet import store
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
    dossier = await store.dossier_form(dossier_code, citizen_id)
    if dossier is None:
        return None
    service = await store.service(dossier["service_code"])
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
    # Two reads never see one instant: another result's renewal may finish between them (its
    # new version becomes the valid one just after the first read found none, and is no longer
    # in flight at the second), and a first issue decided then leaves two valid documents. So
    # "none" is believed only once a look at the in-flight renewals is bracketed by two looks
    # that found no valid version.
    for _ in range(2):
        current = await store.newest_matching(query)
        if current is not None:
            return current
        if await store.renewal_in_flight(citizen_id, document_type, number):
            raise RenewalInProgress
    return await store.newest_matching(query)
