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
    # The head of the document's chain, in one read: the newest version with this number that
    # nothing has replaced. Two reads (the valid version, then the renewals in flight) never
    # see one instant: another result's renewal could finish between them, and the first issue
    # decided then left two valid documents.
    head = await store.newest_matching(
        {"citizen_id": citizen_id, "type": document_type, "number": number, "status": {"$ne": "superseded"}}
    )
    if head is not None:
        if head.renewal_pending:
            raise RenewalInProgress
        return head if head.status == "valid" else None
    # Replaced by a version under another number (an agency's renewal) and still hidden.
    if await store.renewal_in_flight(citizen_id, document_type, number):
        raise RenewalInProgress
    return None
