"""What an agency does with a document after issuing it: status events and renewals.

Both are idempotent by `event_id`. A status event is one conditional single-document update
(status still the one checked, event id not yet seen) that also writes the outbox entry of
its push. A renewal touches two documents: the new version is inserted hidden
(`renewal_pending`), the old one is then marked superseded by it, and only then is the new
one shown and its push owed. A crash between the steps is finished by a retry of the same
event or by the reminders cron (`finish_pending_renewals`).
"""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from app.audit import store as audit_store
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.inbox import flushing
from app.security import Principal
from app.wallet import signing, store
from app.wallet.schemas import DocumentEventIn, DocumentIn, DocumentOut, RenewalIn
from app.wallet.service import DOCUMENT, check_document, document_out
from app.wallet.supersede import finish_renewal, undo_renewal
from models.audit import AccessRecord
from models.common import utcnow
from models.dossier import OutboxEntry
from models.wallet import STATUS_MOVES, StatusEvent, StoredStatus, WalletDocument

PUSH_KINDS: dict[StoredStatus, str] = {
    "suspended": "document_suspended",
    "revoked": "document_revoked",
    "valid": "document_reinstated",
}
# A renewal left half-done longer than this is finished (or undone) by the cron.
RENEWAL_GRACE = timedelta(minutes=1)


def _not_allowed_type(document: WalletDocument) -> AppError:
    return AppError(
        403,
        "document-type-not-allowed",
        Text("Không được phép với loại giấy tờ này", "Not allowed for this document type"),
        Text(
            "Cơ quan của bạn không còn được phép quản lý giấy tờ loại '{type}'. Hãy liên hệ quản trị hệ thống.",
            "Your agency is no longer allowed to manage documents of type '{type}'. Contact the platform's "
            "administrators.",
        ),
        params={"type": document.type},
    )


async def agency_document(principal: Principal, document_id: str) -> WalletDocument:
    """A document this agency issued. Another agency's document answers 404, exactly like one
    that does not exist: ids must not let agencies probe other agencies' wallets."""
    try:
        oid = PydanticObjectId(document_id)
    except (InvalidId, TypeError):
        raise not_found(DOCUMENT) from None
    document = await store.issued_by(oid, principal.agency_code)
    if document is None:
        raise not_found(DOCUMENT)
    if document.type not in principal.document_types:
        raise _not_allowed_type(document)
    return document


def _event_id_reused() -> AppError:
    return invalid_input(
        [
            FieldProblem(
                "event_id",
                Text(
                    "Mã sự kiện này đã được dùng cho một thao tác khác. Hãy dùng mã sự kiện mới cho mỗi thao tác.",
                    "This event_id was already used for a different action. Use a new event_id for each action.",
                ),
            )
        ]
    )


def _replay(document: WalletDocument, event_id: str, status: StoredStatus) -> DocumentOut:
    """The answer the first request got: the document with the status that event gave it."""
    entry = next(e for e in document.history if e.event_id == event_id)
    if entry.status != status:
        raise _event_id_reused()
    return document_out(document.model_copy(update={"status": entry.status, "status_reason": entry.reason}))


def _move_refused(document: WalletDocument, wanted: str) -> AppError:
    allowed = STATUS_MOVES[document.status]
    return AppError(
        409,
        "status-move-not-allowed",
        Text("Không thể chuyển trạng thái", "Status change not allowed"),
        Text(
            "Giấy tờ đang ở trạng thái '{current}', không thể chuyển sang '{wanted}'. Trạng thái có thể chuyển: "
            "{allowed}.",
            "The document is '{current}' and cannot become '{wanted}'. Allowed next statuses: {allowed}.",
        ),
        params={"current": document.status, "wanted": wanted, "allowed": ", ".join(allowed) or "-"},
    )


async def apply_status_event(principal: Principal, document_id: str, data: DocumentEventIn) -> DocumentOut:
    """Suspend, revoke or reinstate a document; the same `event_id` again has no second effect."""
    assert principal.agency_code is not None
    if data.status in ("suspended", "revoked") and not (data.reason and data.reason.strip()):
        raise invalid_input(
            [
                FieldProblem(
                    "reason",
                    Text(
                        "Hãy ghi lý do: công dân sẽ đọc lý do này để biết phải làm gì.",
                        "Give a reason: the citizen reads it to learn what to do.",
                    ),
                )
            ]
        )
    for _ in range(3):
        document = await agency_document(principal, document_id)
        if data.event_id in document.event_ids:
            return _replay(document, data.event_id, data.status)
        if data.status not in STATUS_MOVES[document.status]:
            raise _move_refused(document, data.status)
        reason = data.reason.strip() if data.reason else None
        now = utcnow()
        entry = StatusEvent(event_id=data.event_id, status=data.status, reason=reason, actor=principal.agency_code)
        notice = OutboxEntry(key=f"document:{document.id}:{data.event_id}", kind=PUSH_KINDS[data.status])
        raw = await store.update_document_after(
            {"_id": document.id, "status": document.status, "event_ids": {"$ne": data.event_id}},
            {
                "$set": {"status": data.status, "status_reason": reason, "status_changed_at": now},
                "$push": {"history": entry.model_dump(), "event_ids": data.event_id, "outbox": notice.model_dump()},
            },
        )
        if raw is not None:
            flushing.owed(WalletDocument, document.id, [notice.key])
            await audit_store.insert(
                AccessRecord(
                    citizen_id=document.citizen_id,
                    actor_kind="agency",
                    actor_id=principal.actor_id,
                    action=f"document.status.{data.status}",
                    target=str(document.id),
                    reason=reason,
                )
            )
            return document_out(WalletDocument.model_validate(raw))
        # The status changed meanwhile (or the same event won a race): look again.
    raise AppError(
        409,
        "concurrent-update",
        Text("Giấy tờ vừa được cập nhật", "Document changed meanwhile"),
        Text(
            "Giấy tờ vừa được cập nhật bởi một sự kiện khác. Hãy đọc lại rồi gửi lại.",
            "Another event changed the document meanwhile. Read it again and resend.",
        ),
    )


def _not_renewable(document: WalletDocument) -> AppError:
    if document.status == "superseded":
        return AppError(
            409,
            "document-superseded",
            Text("Giấy tờ đã có phiên bản mới", "Document already renewed"),
            Text(
                "Giấy tờ này đã được thay bằng phiên bản {newer}. Hãy gia hạn phiên bản mới nhất.",
                "This document was replaced by version {newer}. Renew the latest version instead.",
            ),
            params={"newer": str(document.superseded_by)},
        )
    return AppError(
        409,
        "document-not-renewable",
        Text("Không thể gia hạn giấy tờ", "Document cannot be renewed"),
        Text(
            "Giấy tờ đang ở trạng thái '{status}'. Chỉ gia hạn được giấy tờ không bị đình chỉ hay thu hồi; "
            "hãy khôi phục giấy tờ trước (sự kiện status 'valid') hoặc cấp giấy tờ mới.",
            "The document is '{status}'. Only a document that is not suspended or revoked can be renewed; "
            "reinstate it first (a status event 'valid') or issue a new document.",
        ),
        params={"status": document.status},
    )


async def renew(principal: Principal, document_id: str, data: RenewalIn) -> WalletDocument:
    """Issue the next version of a document; the one it replaces stays, as `superseded`."""
    assert principal.agency_code is not None
    old = await agency_document(principal, document_id)
    existing = await store.issued_by_event(principal.agency_code, data.event_id)
    if existing is None:
        if old.status != "valid":
            raise _not_renewable(old)
        wanted = DocumentIn(
            type=old.type,
            number=data.number or old.number,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            fields=old.fields if data.fields is None else data.fields,
        )
        fields = check_document(principal, wanted)
        new_id = PydanticObjectId()
        new = WalletDocument(
            id=new_id,
            citizen_id=old.citizen_id,
            type=old.type,
            number=wanted.number,
            issuer=principal.agency_code,
            valid_from=data.valid_from.isoformat(),
            valid_until=data.valid_until.isoformat() if data.valid_until else None,
            fields=fields,
            holder=old.holder or await signing.holder_of(old.citizen_id),
            version=old.version + 1,
            lineage_id=old.lineage,
            supersedes=old.id,
            renewal_pending=True,
            issue_event_id=data.event_id,
        )
        new.proof = await signing.sign(new)
        try:
            await store.insert_document(new)
            created = True
        except DuplicateKeyError:
            existing = await store.issued_by_event(principal.agency_code, data.event_id)
            created = False
        if created:
            if not await finish_renewal(new):
                await undo_renewal(new)
                fresh = await store.document(old.id)
                raise _not_renewable(fresh or old)
            await audit_store.insert(
                AccessRecord(
                    citizen_id=old.citizen_id,
                    actor_kind="agency",
                    actor_id=principal.actor_id,
                    action="document.renew",
                    target=str(new.id),
                )
            )
            renewed = await store.document(new.id)
            assert renewed is not None
            return renewed
    # A retry of a renewal already made (perhaps left half-done by a crash).
    assert existing is not None
    if existing.supersedes != old.id:
        raise _event_id_reused()
    if existing.renewal_pending:
        await finish_renewal(existing)
    again = await store.document(existing.id)
    assert again is not None
    return again


async def finish_pending_renewals(batch: int = 200) -> int:
    """Complete renewals a crash left half-done; undo those that can no longer complete."""
    cutoff = utcnow() - RENEWAL_GRACE
    finished = 0
    stale = await store.pending_renewals(cutoff, batch)
    for new in stale:
        if await finish_renewal(new):
            finished += 1
        else:
            await undo_renewal(new)
    return finished
