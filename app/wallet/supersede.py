"""The second half of every renewal: the replaced version becomes `superseded`, then the new
one is shown. Shared by an agency's renewal (lifecycle.py), a dossier's result that renews a
document the citizen holds (service.py), and the cron that finishes what a crash interrupted.
"""

from __future__ import annotations

from app.errors import AppError, Text
from app.inbox import flushing
from app.wallet import store
from models.common import utcnow
from models.dossier import OutboxEntry
from models.wallet import StatusEvent, WalletDocument


async def finish_renewal(new: WalletDocument) -> bool:
    """Mark the replaced version superseded, then show the new one (and owe its push, unless
    it is a dossier's result: the dossier's own push tells the citizen). False when the old
    version can no longer be replaced (revoked, suspended or replaced by another meanwhile)."""
    assert new.supersedes is not None
    entry = StatusEvent(event_id=new.issue_event_id, status="superseded", actor=new.issuer, superseded_by=new.id)
    await store.update_document(
        new.supersedes,
        {"status": "valid", "superseded_by": None},
        {
            "$set": {"status": "superseded", "superseded_by": new.id, "status_changed_at": utcnow()},
            "$push": {"history": entry.model_dump(), "event_ids": new.issue_event_id},
        },
        citizen_id=new.citizen_id,
    )
    if await store.superseded_by(new.supersedes) != new.id:
        return False
    update: dict[str, dict[str, object]] = {"$set": {"renewal_pending": False}}
    if new.dossier_code is None:
        notice = OutboxEntry(key=f"document:{new.issuer}:{new.issue_event_id}", kind="document_renewed")
        update["$push"] = {"outbox": notice.model_dump()}
    await store.update_document(new.id, {"renewal_pending": True}, update, citizen_id=new.citizen_id)
    flushing.owed(WalletDocument, new.id, flushing.pushed_keys(update))
    return True


async def undo_renewal(new: WalletDocument) -> None:
    await store.delete_hidden_renewal(new.id)


def renewal_raced(document_type: str) -> AppError:
    return AppError(
        409,
        "renewed-document-changed",
        Text("Giấy tờ được gia hạn vừa thay đổi", "The renewed document changed meanwhile"),
        Text(
            "Giấy tờ loại '{type}' mà hồ sơ này gia hạn vừa được gia hạn, đình chỉ hoặc thu hồi bởi thao tác khác. "
            "Hãy gửi lại sự kiện với cùng event_id.",
            "The '{type}' document this dossier renews was renewed, suspended or revoked by another action "
            "meanwhile. Send the event again with the same event_id.",
        ),
        params={"type": document_type},
    )
