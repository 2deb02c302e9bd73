"""Documents in the citizen's wallet: issuing (agencies) and reading (the citizen)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from app.audit import store as audit_store
from app.citizens.identity import national_id_problem
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.i18n import Language
from app.inbox import flushing
from app.pagination import Page, cursor_filter, next_cursor
from app.security import Principal
from app.wallet import page_cache, signing, store
from app.wallet.renewal_link import RenewalInProgress, renewed_by_dossier
from app.wallet.schemas import (
    DocumentIn,
    DocumentOut,
    DocumentTypeOut,
    FieldSpecOut,
    ProofOut,
    SignedDocumentOut,
)
from app.wallet.supersede import finish_renewal, renewal_raced, undo_renewal
from models.audit import AccessRecord
from models.citizen import Citizen
from models.document_types import BASE_CLAIMS, REGISTRY, DocumentType, FieldError, number_matches, validate_fields
from models.dossier import OutboxEntry
from models.wallet import Holder, WalletDocument, shown_status, today_in_vietnam

DOCUMENT = Text("giấy tờ", "document")
# How often a dossier's result looks again for the document it renews when that one changed
# under it (renewed by another dossier at the same moment, revoked).
RENEWAL_RACE_RETRIES = 8
# The first wait for another renewal to finish; it doubles, at most about 2.5 s in all.
RENEWAL_WAIT_SECONDS = 0.01
CITIZEN = Text("công dân với số định danh này", "citizen with this ID number")


def document_out(document: WalletDocument, today: date | None = None) -> DocumentOut:
    proof = document.proof
    return DocumentOut(
        id=str(document.id),
        type=document.type,
        number=document.number,
        issuer=document.issuer,
        issued_at=document.issued_at,
        valid_from=date.fromisoformat(document.valid_from),
        valid_until=date.fromisoformat(document.valid_until) if document.valid_until else None,
        status=document.shown_status(today or today_in_vietnam()),
        fields=document.fields,
        status_reason=document.status_reason if document.status in ("revoked", "suspended") else None,
        version=document.version,
        supersedes=str(document.supersedes) if document.supersedes else None,
        superseded_by=str(document.superseded_by) if document.superseded_by else None,
        proof=ProofOut(alg=proof.alg, kid=proof.kid, signature=proof.signature) if proof else None,
    )


def _field_problem(prefix: str, error: FieldError, document_type: DocumentType) -> FieldProblem:
    field = f"{prefix}fields" + (f".{error.path}" if error.path else "")
    if error.kind == "missing":
        return FieldProblem(
            field,
            Text(
                "Trường này là bắt buộc với loại giấy tờ '{type}'.",
                "This field is required for documents of type '{type}'.",
            ),
            {"type": document_type.code},
        )
    if error.kind == "extra_forbidden":
        return FieldProblem(
            field,
            Text(
                "Loại giấy tờ '{type}' không có trường này. Các trường được nhận: {known}.",
                "Documents of type '{type}' have no such field. Accepted fields: {known}.",
            ),
            {"type": document_type.code, "known": ", ".join(document_type.field_names())},
        )
    return FieldProblem(field, Text("Giá trị không hợp lệ: {m}", "Invalid value: {m}"), {"m": error.message})


def check_document(principal: Principal, data: DocumentIn, field_prefix: str = "") -> dict[str, object]:
    """Check a document an agency wants to issue; returns its `fields`, validated and normalised."""
    document_type = REGISTRY.get(data.type)
    if document_type is None:
        raise invalid_input(
            [
                FieldProblem(
                    f"{field_prefix}type",
                    Text("Loại giấy tờ không tồn tại. Các loại có: {known}.", "Unknown type. Known types: {known}."),
                    {"known": ", ".join(REGISTRY)},
                )
            ]
        )
    if data.type not in principal.document_types:
        raise AppError(
            403,
            "document-type-not-allowed",
            Text("Không được phép cấp loại giấy tờ này", "Not allowed to issue this document type"),
            Text(
                "Cơ quan của bạn không được phép cấp giấy tờ loại '{type}'. Các loại được phép: {allowed}.",
                "Your agency may not issue documents of type '{type}'. Allowed types: {allowed}.",
            ),
            params={"type": data.type, "allowed": ", ".join(principal.document_types) or "-"},
        )
    problems: list[FieldProblem] = []
    if data.valid_until is not None and data.valid_until < data.valid_from:
        problems.append(
            FieldProblem(
                f"{field_prefix}valid_until",
                Text("Ngày hết hạn phải sau ngày hiệu lực.", "valid_until must not be before valid_from."),
            )
        )
    if not number_matches(document_type, data.number):
        problems.append(
            FieldProblem(
                f"{field_prefix}number",
                Text("Số giấy tờ không đúng định dạng ({p}).", "The document number has the wrong format ({p})."),
                {"p": document_type.number_pattern},
            )
        )
    fields, errors = validate_fields(document_type, data.fields)
    problems += [_field_problem(field_prefix, error, document_type) for error in errors]
    if problems:
        raise invalid_input(problems)
    return fields


def _check_holder(document_type: DocumentType, number: str, holder: Holder | None, field_prefix: str) -> None:
    if document_type.number_is_national_id and holder is not None and number != holder.national_id:
        raise invalid_input(
            [
                FieldProblem(
                    f"{field_prefix}number",
                    Text(
                        "Số của thẻ căn cước phải là số định danh của chính công dân nhận thẻ.",
                        "The number of an ID card must be the national ID of the citizen it is issued to.",
                    ),
                )
            ]
        )


async def issue(
    principal: Principal,
    citizen_id: PydanticObjectId,
    event_id: str,
    data: DocumentIn,
    *,
    dossier_code: str | None = None,
    notify: bool = True,
) -> tuple[WalletDocument, bool]:
    """Issue and sign a document; the same (agency, event_id) again returns the first one, unchanged.

    A dossier's result that renews a document the citizen holds (the procedure's
    `renews_field` names its number) is issued as that document's next version, and the old
    one becomes `superseded`: one valid licence after a renewal, and no reminder for the old.
    Returns the document and whether this call created it.
    """
    assert principal.agency_code is not None
    # A dossier's result arrives inside the event body, under `result.document`.
    field_prefix = "result.document." if dossier_code else ""
    fields = check_document(principal, data, field_prefix)
    holder = await signing.holder_of(citizen_id)
    _check_holder(REGISTRY[data.type], data.number, holder, field_prefix)
    for attempt in range(RENEWAL_RACE_RETRIES):
        try:
            renews = await renewed_by_dossier(dossier_code, citizen_id, data.type) if dossier_code else None
        except RenewalInProgress:
            # Another result's renewal is one update from done: wait for it, then chain onto it.
            await asyncio.sleep(RENEWAL_WAIT_SECONDS * 2**attempt)
            continue
        document_id = PydanticObjectId()
        document = WalletDocument(
            id=document_id,
            citizen_id=citizen_id,
            type=data.type,
            number=data.number,
            issuer=principal.agency_code,
            valid_from=data.valid_from.isoformat(),
            valid_until=data.valid_until.isoformat() if data.valid_until else None,
            fields=fields,
            holder=holder,
            lineage_id=renews.lineage if renews else document_id,
            version=renews.version + 1 if renews else 1,
            supersedes=renews.id if renews else None,
            # Hidden until the old version points to it (supersede.py).
            renewal_pending=renews is not None,
            issue_event_id=event_id,
            dossier_code=dossier_code,
            outbox=[OutboxEntry(key=f"document:{principal.agency_code}:{event_id}", kind="document_issued")]
            if notify
            else [],
        )
        document.proof = await signing.sign(document)
        try:
            await store.insert_document(document)
        except DuplicateKeyError:
            existing = await store.issued_by_event(principal.agency_code, event_id)
            assert existing is not None
            if existing.renewal_pending:
                # The first copy of this event is still linking it (or crashed doing so).
                await finish_renewal(existing)
                existing = await store.document(existing.id) or existing
            flushing.owed(WalletDocument, existing.id, [e.key for e in existing.outbox])
            return existing, False
        if renews is not None and not await finish_renewal(document):
            # The old version changed meanwhile (renewed by another dossier, revoked): look again.
            await undo_renewal(document)
            continue
        await audit_store.insert(
            AccessRecord(
                citizen_id=citizen_id,
                actor_kind="agency",
                actor_id=principal.actor_id,
                action="document.renew" if renews else "document.issue",
                target=str(document.id),
            )
        )
        if renews is not None:
            document = await store.document(document_id) or document
        flushing.owed(WalletDocument, document.id, [e.key for e in document.outbox])
        return document, True
    raise renewal_raced(data.type)


async def citizen_by_national_id(national_id: str) -> Citizen:
    if national_id_problem(national_id):
        raise invalid_input(
            [
                FieldProblem(
                    "national_id",
                    Text("Số định danh phải gồm đúng 12 chữ số.", "The national ID must be exactly 12 digits."),
                )
            ]
        )
    citizen = await store.citizen_by_national_id(national_id)
    if citizen is None:
        raise not_found(CITIZEN)
    return citizen


def listed_document_out(raw: dict[str, Any], today: date) -> DocumentOut:
    """`document_out` for a stored document as the driver decoded it: straight into the
    answer, with no model in between."""
    status = raw["status"]
    valid_until = raw.get("valid_until")
    supersedes, superseded_by, proof = raw.get("supersedes"), raw.get("superseded_by"), raw.get("proof")
    return DocumentOut(
        id=str(raw["_id"]),
        type=raw["type"],
        number=raw["number"],
        issuer=raw["issuer"],
        issued_at=raw["issued_at"],
        valid_from=date.fromisoformat(raw["valid_from"]),
        valid_until=date.fromisoformat(valid_until) if valid_until else None,
        status=shown_status(status, valid_until, today),
        fields=raw.get("fields") or {},
        status_reason=raw.get("status_reason") if status in ("revoked", "suspended") else None,
        version=raw.get("version", 1),
        supersedes=str(supersedes) if supersedes else None,
        superseded_by=str(superseded_by) if superseded_by else None,
        proof=ProofOut(alg=proof.get("alg", "EdDSA"), kid=proof["kid"], signature=proof["signature"])
        if proof
        else None,
    )


async def list_documents(citizen_id: PydanticObjectId, cursor: str | None, limit: int) -> Page[DocumentOut]:
    """The wallet as it stands: versions replaced by a renewal are behind `/{id}/versions`.

    The hot read of the API: remembered per process until the wallet changes; otherwise one
    indexed query, decoded once by the driver and turned into the answer directly (decision
    0025). No projection: the embedded store applies one in Python, at 0.25 ms of its CPU
    per query more than none (measured in-run), and Beanie's 26-field one cost it 0.6-0.8
    ms; a page of 20 small documents costs the wire less."""
    today = today_in_vietnam()

    async def read() -> Page[DocumentOut]:
        query = {
            "citizen_id": citizen_id,
            "status": {"$ne": "superseded"},
            "renewal_pending": {"$ne": True},
            **cursor_filter(cursor, descending=True),
        }
        found = await store.page(query, limit)
        return Page(
            items=[listed_document_out(d, today) for d in found],
            next_cursor=next_cursor([d["_id"] for d in found], limit),
        )

    if cursor is not None:  # later pages are rare: not worth memory a caller could fill with cursors
        return await read()
    # The first page (what the app shows when it opens) is served from this process's memory
    # while no write to the wallet was announced and the day has not turned: the hot read then
    # costs the store nothing (app/wallet/page_cache.py).
    page: Page[DocumentOut] = await page_cache.CACHE.get((str(citizen_id), limit), today, read)
    return page


async def own_document(citizen_id: PydanticObjectId, document_id: str) -> WalletDocument:
    try:
        oid = PydanticObjectId(document_id)
    except (InvalidId, TypeError):
        raise not_found(DOCUMENT) from None
    document = await store.owned_by(oid, citizen_id)
    if document is None:
        raise not_found(DOCUMENT)
    return document


async def get_document(citizen_id: PydanticObjectId, document_id: str) -> DocumentOut:
    return document_out(await own_document(citizen_id, document_id))


async def document_versions(citizen_id: PydanticObjectId, document_id: str) -> Page[DocumentOut]:
    """Every version of a document, newest first: renewals keep the ones they replaced."""
    document = await own_document(citizen_id, document_id)
    lineage = document.lineage
    found = await store.versions(citizen_id, lineage)
    today = today_in_vietnam()
    return Page(items=[document_out(d, today) for d in found])


async def signed_document(citizen_id: PydanticObjectId, document_id: str) -> SignedDocumentOut:
    document = await signing.ensure_signed(await own_document(citizen_id, document_id))
    assert document.proof is not None
    return SignedDocumentOut(
        document_id=str(document.id), kid=document.proof.kid, alg=document.proof.alg, jws=signing.compact_jws(document)
    )


def document_types(language: Language) -> list[DocumentTypeOut]:
    return [
        DocumentTypeOut(
            code=t.code,
            name=t.name_en if language == "en" else t.name_vi,
            sensitive=t.sensitive,
            fields=[FieldSpecOut(name, info.is_required()) for name, info in t.fields.model_fields.items()],
            fields_schema=t.fields.model_json_schema(),
            disclosable=[*BASE_CLAIMS, *t.field_names()],
        )
        for t in REGISTRY.values()
    ]
