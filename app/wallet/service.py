"""Documents in the citizen's wallet: issuing (agencies) and reading (the citizen)."""

from __future__ import annotations

from datetime import date

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from app.citizens.identity import national_id_problem
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.pagination import Page, cursor_filter, next_cursor
from app.security import Principal
from app.wallet.schemas import DocumentIn, DocumentOut
from models.audit import AccessRecord
from models.citizen import Citizen
from models.dossier import OutboxEntry
from models.wallet import WalletDocument

DOCUMENT = Text("giấy tờ", "document")
CITIZEN = Text("công dân với số định danh này", "citizen with this ID number")


def document_out(document: WalletDocument, today: date | None = None) -> DocumentOut:
    return DocumentOut(
        id=str(document.id),
        type=document.type,
        number=document.number,
        issuer=document.issuer,
        issued_at=document.issued_at,
        valid_from=date.fromisoformat(document.valid_from),
        valid_until=date.fromisoformat(document.valid_until) if document.valid_until else None,
        status=document.shown_status(today or date.today()),
        fields=document.fields,
    )


def check_document(principal: Principal, data: DocumentIn, field_prefix: str = "") -> None:
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
    if data.valid_until is not None and data.valid_until < data.valid_from:
        raise invalid_input(
            [
                FieldProblem(
                    f"{field_prefix}valid_until",
                    Text("Ngày hết hạn phải sau ngày hiệu lực.", "valid_until must not be before valid_from."),
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
    """Issue a document; the same (agency, event_id) again returns the first one, unchanged.

    Returns the document and whether this call created it.
    """
    assert principal.agency_code is not None
    check_document(principal, data)
    document = WalletDocument(
        citizen_id=citizen_id,
        type=data.type,
        number=data.number,
        issuer=principal.agency_code,
        valid_from=data.valid_from.isoformat(),
        valid_until=data.valid_until.isoformat() if data.valid_until else None,
        fields=data.fields,
        issue_event_id=event_id,
        dossier_code=dossier_code,
        outbox=[OutboxEntry(key=f"document:{principal.agency_code}:{event_id}", kind="document_issued")]
        if notify
        else [],
    )
    try:
        await document.insert()
    except DuplicateKeyError:
        existing = await WalletDocument.find_one(
            WalletDocument.issuer == principal.agency_code, WalletDocument.issue_event_id == event_id
        )
        assert existing is not None
        return existing, False
    await AccessRecord(
        citizen_id=citizen_id,
        actor_kind="agency",
        actor_id=principal.agency_code,
        action="document.issue",
        target=str(document.id),
    ).insert()
    return document, True


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
    citizen = await Citizen.find_one(Citizen.national_id == national_id)
    if citizen is None:
        raise not_found(CITIZEN)
    return citizen


async def list_documents(citizen_id: PydanticObjectId, cursor: str | None, limit: int) -> Page[DocumentOut]:
    query = {"citizen_id": citizen_id, **cursor_filter(cursor, descending=True)}
    found = await WalletDocument.find(query).sort("-_id").limit(limit).to_list()
    return Page(items=[document_out(d) for d in found], next_cursor=next_cursor([d.id for d in found], limit))


async def get_document(citizen_id: PydanticObjectId, document_id: str) -> DocumentOut:
    try:
        oid = PydanticObjectId(document_id)
    except (InvalidId, TypeError):
        raise not_found(DOCUMENT) from None
    # The owner is part of the query: another citizen's id finds nothing, exactly like a wrong id.
    document = await WalletDocument.find_one({"_id": oid, "citizen_id": citizen_id})
    if document is None:
        raise not_found(DOCUMENT)
    return document_out(document)
