"""The life of a dossier: submission by the citizen, status events from the agency."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import msgspec
from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.catalogue.service import get_service
from app.dossiers.forms import form_problems
from app.dossiers.schemas import (
    AgencyDossierOut,
    ApplicantOut,
    DeliveryOut,
    DossierIn,
    DossierOut,
    EventIn,
    HistoryOut,
)
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.pagination import Page, cursor_filter, next_cursor
from app.security import Principal
from app.wallet import service as wallet
from models.audit import AccessRecord
from models.citizen import Citizen
from models.common import utcnow
from models.dossier import Delivery, Dossier, HistoryEntry, OutboxEntry
from models.dossier_status import NOTE_REQUIRED, DossierStatus, allowed_next
from models.working_days import add_working_days

DOSSIER = Text("hồ sơ", "dossier")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud at counters
# How often an agency event is re-tried when another event moved the dossier in between.
_EVENT_RACE_RETRIES = 3


def new_code() -> str:
    return f"HS-{utcnow():%Y%m%d}-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


def fingerprint(data: msgspec.Struct) -> str:
    return hashlib.sha256(msgspec.json.encode(data, order="sorted")).hexdigest()


def _history(dossier: Dossier) -> list[HistoryOut]:
    return [HistoryOut(status=h.status.value, at=h.at, note=h.note) for h in dossier.history]


def dossier_out(dossier: Dossier) -> DossierOut:
    return DossierOut(
        code=dossier.code,
        service_code=dossier.service_code,
        status=dossier.status.value,
        submitted_at=dossier.submitted_at,
        due_at=dossier.due_at,
        delivery=DeliveryOut(method=dossier.delivery.method, address=dossier.delivery.address),
        history=_history(dossier),
        form=dossier.form,
        result_document_id=str(dossier.result_document_id) if dossier.result_document_id else None,
    )


def agency_dossier_out(dossier: Dossier, citizen: Citizen | None) -> AgencyDossierOut:
    base = dossier_out(dossier)
    return AgencyDossierOut(
        code=base.code,
        service_code=base.service_code,
        status=base.status,
        submitted_at=base.submitted_at,
        due_at=base.due_at,
        delivery=base.delivery,
        history=base.history,
        form=base.form,
        applicant=ApplicantOut(
            national_id=citizen.national_id if citizen else "", full_name=citizen.full_name if citizen else ""
        ),
        result_document_id=base.result_document_id,
    )


def _status_notice(dossier: Dossier, status: DossierStatus, event_key: str) -> OutboxEntry:
    return OutboxEntry(key=f"dossier:{dossier.code}:{event_key}", kind="dossier_status", status=status)


IDEMPOTENCY_KEY_REUSED = AppError(
    422,
    "idempotency-key-reused",
    Text("Idempotency-Key đã dùng cho yêu cầu khác", "Idempotency-Key used for another request"),
    Text(
        "Khoá Idempotency-Key này đã được dùng cho một hồ sơ có nội dung khác. Hãy tạo khoá mới cho mỗi hồ sơ mới.",
        "This Idempotency-Key was already used for a dossier with different content. Use a new key for each new "
        "dossier.",
    ),
)


async def _existing_submission(citizen_id: PydanticObjectId, key: str, request_fingerprint: str) -> Dossier | None:
    existing = await Dossier.find_one({"citizen_id": citizen_id, "idempotency_key": key})
    if existing is not None and existing.request_fingerprint != request_fingerprint:
        raise IDEMPOTENCY_KEY_REUSED
    return existing


async def submit(citizen_id: PydanticObjectId, idempotency_key: str | None, data: DossierIn) -> tuple[Dossier, bool]:
    """Create a dossier. Returns it and whether this call created it (False for a retry)."""
    request_fingerprint = fingerprint(data)
    if idempotency_key:
        existing = await _existing_submission(citizen_id, idempotency_key, request_fingerprint)
        if existing is not None:
            return existing, False

    service = await get_service(data.service_code)
    citizen = await Citizen.get(citizen_id)
    if citizen is None:
        raise not_found(Text("tài khoản", "account"))
    if citizen.eid_level < service.required_eid_level:
        raise AppError(
            403,
            "eid-level-too-low",
            Text("Cần tài khoản định danh mức 2", "e-ID level 2 needed"),
            Text(
                "Thủ tục này cần tài khoản định danh điện tử mức {level}. Hãy mang căn cước công dân gắn chíp đến "
                "công an xã/phường để nâng mức tài khoản, rồi nộp lại.",
                "This service needs e-ID level {level}. Take your chip-based ID card to the commune or ward police to "
                "upgrade your account, then apply again.",
            ),
            params={"level": service.required_eid_level},
        )
    problems = form_problems(service, data.form)
    if data.delivery.method not in service.delivery_methods:
        problems.append(
            FieldProblem(
                "delivery.method",
                Text("Thủ tục này chỉ nhận kết quả qua: {methods}.", "This service only delivers by: {methods}."),
                {"methods": ", ".join(service.delivery_methods)},
            )
        )
    if data.delivery.method == "postal" and not (data.delivery.address or "").strip():
        problems.append(
            FieldProblem(
                "delivery.address",
                Text("Nhận qua bưu điện cần địa chỉ nhận.", "Postal delivery needs an address."),
            )
        )
    if problems:
        raise invalid_input(problems)

    now = utcnow()
    dossier = Dossier(
        code=new_code(),
        citizen_id=citizen_id,
        service_code=service.code,
        agency_code=service.agency_code,
        form=data.form,
        delivery=Delivery(method=data.delivery.method, address=data.delivery.address),
        submitted_at=now,
        due_at=add_working_days(now, service.processing_days),
        history=[HistoryEntry(status=DossierStatus.SUBMITTED, at=now, actor="citizen")],
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
    )
    dossier.outbox = [_status_notice(dossier, DossierStatus.SUBMITTED, "submitted")]
    try:
        await dossier.insert()
    except DuplicateKeyError:
        # Two copies of the same submission raced; the unique index let one through.
        if idempotency_key:
            existing = await _existing_submission(citizen_id, idempotency_key, request_fingerprint)
            if existing is not None:
                return existing, False
        raise
    return dossier, True


async def list_for_citizen(citizen_id: PydanticObjectId, cursor: str | None, limit: int) -> Page[DossierOut]:
    query = {"citizen_id": citizen_id, **cursor_filter(cursor, descending=True)}
    found = await Dossier.find(query).sort("-_id").limit(limit).to_list()
    return Page(items=[dossier_out(d) for d in found], next_cursor=next_cursor([d.id for d in found], limit))


async def get_for_citizen(citizen_id: PydanticObjectId, code: str) -> Dossier:
    # The owner is in the query: another citizen's code answers exactly like an unknown one.
    dossier = await Dossier.find_one({"code": code, "citizen_id": citizen_id})
    if dossier is None:
        raise not_found(DOSSIER)
    return dossier


def _agency_scope(principal: Principal) -> dict[str, Any]:
    return {"agency_code": principal.agency_code, "service_code": {"$in": list(principal.service_codes)}}


async def _record_agency_reads(principal: Principal, dossiers: list[Dossier]) -> None:
    if not dossiers:
        return
    assert principal.agency_code is not None
    await AccessRecord.insert_many(
        [
            AccessRecord(
                citizen_id=d.citizen_id,
                actor_kind="agency",
                actor_id=principal.agency_code,
                action="dossier.read",
                target=d.code,
                reason="processing",
            )
            for d in dossiers
        ]
    )


async def _with_applicants(principal: Principal, dossiers: list[Dossier]) -> list[AgencyDossierOut]:
    await _record_agency_reads(principal, dossiers)
    citizens = {c.id: c for c in await Citizen.find({"_id": {"$in": list({d.citizen_id for d in dossiers})}}).to_list()}
    return [agency_dossier_out(d, citizens.get(d.citizen_id)) for d in dossiers]


async def worklist(
    principal: Principal, status: str | None, service_code: str | None, cursor: str | None, limit: int
) -> Page[AgencyDossierOut]:
    query: dict[str, Any] = {**_agency_scope(principal), **cursor_filter(cursor, descending=False)}
    if status:
        query["status"] = status
    if service_code:
        query["service_code"] = service_code if service_code in principal.service_codes else {"$in": []}
    found = await Dossier.find(query).sort("+_id").limit(limit).to_list()
    return Page(items=await _with_applicants(principal, found), next_cursor=next_cursor([d.id for d in found], limit))


def _as_of(dossier: Dossier, event_id: str) -> Dossier:
    """The dossier as the first answer to `event_id` showed it: a replay gets the same answer."""
    cut = next((i for i, h in enumerate(dossier.history) if h.event_id == event_id), len(dossier.history) - 1)
    history = dossier.history[: cut + 1]
    replayed: Dossier = dossier.model_copy(update={"history": history, "status": history[-1].status})
    return replayed


def _parse_status(raw: str) -> DossierStatus:
    try:
        return DossierStatus(raw)
    except ValueError:
        raise invalid_input(
            [
                FieldProblem(
                    "status",
                    Text(
                        "Trạng thái '{s}' không tồn tại. Các trạng thái: {all}.",
                        "Unknown status '{s}'. Statuses: {all}.",
                    ),
                    {"s": raw, "all": ", ".join(s.value for s in DossierStatus)},
                )
            ]
        ) from None


def _move_not_allowed(current: DossierStatus, target: DossierStatus) -> AppError:
    allowed = sorted(s.value for s in allowed_next("agency", current))
    return AppError(
        409,
        "status-move-not-allowed",
        Text("Không thể chuyển trạng thái", "Status move not allowed"),
        Text(
            "Hồ sơ đang ở trạng thái '{current}', không thể chuyển sang '{target}'. Các trạng thái tiếp theo được "
            "phép: {allowed}.",
            "The dossier is '{current}' and cannot move to '{target}'. Allowed next statuses: {allowed}.",
        ),
        params={"current": current.value, "target": target.value, "allowed": ", ".join(allowed) or "-"},
        extra={"allowed_next": allowed},
    )


async def _agency_dossier(principal: Principal, code: str) -> Dossier:
    dossier = await Dossier.find_one({"code": code, **_agency_scope(principal)})
    if dossier is None:
        # Another agency's dossier is indistinguishable from one that does not exist.
        raise not_found(DOSSIER)
    return dossier


def _check_event(dossier: Dossier, target: DossierStatus, data: EventIn) -> None:
    if target not in allowed_next("agency", dossier.status):
        raise _move_not_allowed(dossier.status, target)
    if target in NOTE_REQUIRED and not (data.note or "").strip():
        raise invalid_input(
            [
                FieldProblem(
                    "note",
                    Text(
                        "Trạng thái '{s}' cần ghi chú cho công dân: lý do và việc cần làm tiếp theo.",
                        "Status '{s}' needs a note for the citizen: the reason and what to do next.",
                    ),
                    {"s": target.value},
                )
            ]
        )


async def apply_event(principal: Principal, code: str, data: EventIn) -> tuple[Dossier, bool]:
    """Apply one agency event. The same `event_id` again has no second effect and gets the
    first answer. Returns the dossier and whether this call changed it."""
    target = _parse_status(data.status)
    for _ in range(_EVENT_RACE_RETRIES):
        dossier = await _agency_dossier(principal, code)
        if data.event_id in dossier.event_ids:
            return _as_of(dossier, data.event_id), False
        _check_event(dossier, target, data)

        update_set: dict[str, Any] = {"status": target.value}
        if target is DossierStatus.RESULT_READY:
            document_id = await _issue_result(principal, dossier, data)
            if document_id is not None:
                update_set["result_document_id"] = document_id

        now = utcnow()
        entry = HistoryEntry(
            status=target, at=now, note=data.note, event_id=data.event_id, actor=f"agency:{principal.agency_code}"
        )
        notice = _status_notice(dossier, target, data.event_id)
        # One atomic, conditional update: it applies only if the dossier is still in the status
        # we checked and has not seen this event, so two racing copies change it once.
        raw = await Dossier.get_pymongo_collection().find_one_and_update(
            {"_id": dossier.id, "status": dossier.status.value, "event_ids": {"$ne": data.event_id}},
            {
                "$set": update_set,
                "$push": {
                    "history": entry.model_dump(),
                    "event_ids": data.event_id,
                    "outbox": notice.model_dump(),
                },
            },
            return_document=ReturnDocument.AFTER,
        )
        if raw is not None:
            return Dossier.model_validate(raw), True
    raise AppError(
        409,
        "concurrent-update",
        Text("Hồ sơ vừa được cập nhật", "Dossier changed meanwhile"),
        Text(
            "Hồ sơ vừa được cập nhật bởi một sự kiện khác. Hãy đọc lại hồ sơ rồi gửi lại.",
            "Another event changed the dossier meanwhile. Read it again and resend.",
        ),
    )


async def _issue_result(principal: Principal, dossier: Dossier, data: EventIn) -> PydanticObjectId | None:
    service = await get_service(dossier.service_code)
    if data.result is None:
        if service.result_document_type and dossier.delivery.method == "online":
            raise invalid_input(
                [
                    FieldProblem(
                        "result.document",
                        Text(
                            "Hồ sơ nhận kết quả trực tuyến: hãy gửi kèm giấy tờ kết quả (loại '{t}').",
                            "The result is delivered online: send the result document (type '{t}') with this event.",
                        ),
                        {"t": service.result_document_type},
                    )
                ]
            )
        return None
    # The document is issued under the event's id, so a retried event finds it again.
    document, _ = await wallet.issue(
        principal, dossier.citizen_id, data.event_id, data.result.document, dossier_code=dossier.code, notify=False
    )
    return document.id


async def agency_view(principal: Principal, dossier: Dossier) -> AgencyDossierOut:
    return (await _with_applicants(principal, [dossier]))[0]
