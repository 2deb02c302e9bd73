"""The agency's side of a dossier: status events (the worklist is in worklist.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from app.audit import service as audit
from app.audit import store as audit_store
from app.catalogue.service import procedures, service_of
from app.dossiers import deadlines, store, transitions
from app.dossiers.schemas import AgencyDossierOut, EventIn
from app.dossiers.service import DOSSIER
from app.dossiers.transitions import Move
from app.dossiers.views import agency_dossier_out
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.payments.ledger import amount_params
from app.security import Principal
from app.wallet import service as wallet
from models.audit import AccessRecord
from models.catalogue import Service
from models.common import utcnow
from models.document_types import get_type
from models.dossier import ChecklistItem, Dossier, OutboxEntry, Shipment, Supplement
from models.dossier_status import CLOCK_STOPS, NOTE_REQUIRED, PROCESSING_MOVES, DossierStatus


async def record_agency_reads(principal: Principal, dossiers: list[Dossier], action: str = "dossier.read") -> None:
    if not dossiers:
        return
    assert principal.agency_code is not None
    await audit_store.insert_records(
        [
            AccessRecord(
                citizen_id=d.citizen_id,
                actor_kind="agency",
                actor_id=principal.actor_id,
                action=action,
                target=d.code,
                reason="processing",
                client=_client_of(principal),
            )
            for d in dossiers
        ]
    )


def _client_of(principal: Principal) -> str | None:
    # A clerk acts through the console; the machine client through the agency's own system.
    return "console" if principal.clerk is not None else None


async def with_applicants(principal: Principal, dossiers: list[Dossier]) -> list[AgencyDossierOut]:
    await record_agency_reads(principal, dossiers)
    citizens = await store.applicants({d.citizen_id for d in dossiers})
    services = await procedures({d.service_code for d in dossiers})
    return [agency_dossier_out(d, services.get(d.service_code), citizens.get(d.citizen_id)) for d in dossiers]


# --- the worklist -------------------------------------------------------------------------


def _bad(field: str, vi: str, en: str, **params: object) -> AppError:
    return invalid_input([FieldProblem(field, Text(vi, en), dict(params))])


# --- events -------------------------------------------------------------------------------


def _as_of(dossier: Dossier, event_id: str) -> Dossier:
    """The dossier as the first answer to `event_id` showed it: a replay gets the same answer."""
    cut = next((i for i, h in enumerate(dossier.history) if h.event_id == event_id), len(dossier.history) - 1)
    history = dossier.history[: cut + 1]
    replayed: Dossier = dossier.model_copy(update={"history": history, "status": history[-1].status})
    return replayed


def parse_status(raw: str) -> DossierStatus:
    try:
        return DossierStatus(raw)
    except ValueError:
        raise _bad(
            "status",
            "Trạng thái '{s}' không tồn tại. Các trạng thái: {all}.",
            "Unknown status '{s}'. Statuses: {all}.",
            s=raw,
            all=", ".join(s.value for s in DossierStatus),
        ) from None


def payment_first(target: DossierStatus) -> AppError:
    return AppError(
        409,
        "payment-required",
        Text("Chưa thanh toán lệ phí", "Fee not paid yet"),
        Text(
            "Thủ tục này thu lệ phí trước khi xử lý: chưa thể chuyển hồ sơ sang '{target}' khi công dân chưa thanh "
            "toán. Công dân đã được nhắc thanh toán; hồ sơ sẽ tự chạy lại thời hạn khi thanh toán được xác nhận.",
            "This procedure takes its fee before processing: the dossier cannot move to '{target}' until the citizen "
            "has paid. The citizen has been asked to pay; the deadline clock runs again once payment is confirmed.",
        ),
        params={"target": target.value},
        extra={"allowed_next": ["rejected", "supplement_required"]},
    )


def _payment_blocks(dossier: Dossier, target: DossierStatus) -> bool:
    payment = dossier.payment
    if payment is None or payment.state == "paid":
        return False
    if payment.timing == "before_processing":
        return target in PROCESSING_MOVES
    return target is DossierStatus.COMPLETED


async def agency_dossier(principal: Principal, code: str) -> Dossier:
    # By its unique code alone (one index, one key), then the scope is checked here. No hint:
    # the unique index is the only one on `code`, and the embedded store answers a hinted
    # query by decoding the whole index.
    # With the agency, the dossiers' shard key (app/sharding.py): a sharded cluster reads one shard.
    raw = await store.agency_dossier(code, principal.agency_code)
    if raw is None or raw.get("service_code") not in principal.service_codes:
        # Another agency's dossier is indistinguishable from one that does not exist.
        raise not_found(DOSSIER)
    dossier: Dossier = Dossier.model_validate(raw)
    return dossier


def _check_event(service: Service, dossier: Dossier, target: DossierStatus, data: EventIn) -> None:
    if not transitions.allows(service, "agency", dossier.status, target):
        raise transitions.move_not_allowed(service, "agency", dossier.status, target)
    if target in NOTE_REQUIRED and not (data.note or "").strip():
        raise _bad(
            "note",
            "Trạng thái '{s}' cần ghi chú cho công dân: lý do và việc cần làm tiếp theo.",
            "Status '{s}' needs a note for the citizen: the reason and what to do next.",
            s=target.value,
        )
    if _payment_blocks(dossier, target):
        raise payment_first(target)


def _checklist(dossier: Dossier, data: EventIn, now: datetime) -> Supplement:
    """The supplement request: the agency's checklist, or one item made of its note."""
    items = [
        ChecklistItem(
            id=str(n), kind=item.kind, target=item.target, reason=item.reason.strip(), action=item.action.strip()
        )
        for n, item in enumerate(data.checklist or [], start=1)
    ]
    if not items:
        note = (data.note or "").strip()
        items = [ChecklistItem(id="1", kind="other", reason=note, action=note)]
    round_ = (dossier.supplement.round + 1) if dossier.supplement else 1
    return Supplement(round=round_, requested_at=now, event_id=data.event_id, items=items)


def _checklist_problems(service: Service, data: EventIn) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    fields = {f.name for f in service.form_fields}
    papers = {a.name for a in service.attachments}
    for n, item in enumerate(data.checklist or []):
        known = {"field": fields, "attachment": papers}.get(item.kind)
        if known is not None and item.target not in known:
            problems.append(
                FieldProblem(
                    f"checklist[{n}].target",
                    Text(
                        "Mục loại '{kind}' cần 'target' là một trong: {known}.",
                        "An item of kind '{kind}' needs a 'target' among: {known}.",
                    ),
                    {"kind": item.kind, "known": ", ".join(sorted(known)) or "-"},
                )
            )
        if item.kind == "wallet_document" and not item.target:
            problems.append(
                FieldProblem(
                    f"checklist[{n}].target",
                    Text("Hãy ghi loại giấy tờ cần lấy từ ví.", "Name the wallet document type needed."),
                )
            )
    return problems


@dataclass(frozen=True)
class EventOutcome:
    dossier: Dossier
    # Whether this call changed the dossier (False for a replayed event).
    changed: bool
    # The dossier's procedure, read once for the event: the answer shows it without reading again.
    service: Service


async def apply_event(principal: Principal, code: str, data: EventIn) -> EventOutcome:
    """Apply one agency event. The same `event_id` again has no second effect and gets the
    first answer."""
    target = parse_status(data.status)
    first = await agency_dossier(principal, code)
    service = await service_of(first.service_code)
    if target is DossierStatus.SUPPLEMENT_REQUIRED and (problems := _checklist_problems(service, data)):
        raise invalid_input(problems)
    changed = False

    async def attempt(dossier: Dossier) -> Dossier | None:
        nonlocal changed
        if data.event_id in dossier.event_ids:
            return _as_of(dossier, data.event_id)
        _check_event(service, dossier, target, data)
        now = utcnow()
        update, outbox = await _event_update(principal, service, dossier, target, data, now)
        move = Move("agency", target, f"agency:{principal.agency_code}", data.note, event_key=data.event_id)
        # One atomic, conditional update: it applies only if the dossier is still in the status
        # (and revision) we checked and has not seen this event, so two racing copies change it once.
        written = await transitions.apply(dossier, service, move, update=update, outbox=outbox, now=now)
        changed = written is not None
        return written

    dossier: Dossier = await store.retrying(lambda: agency_dossier(principal, code), attempt, first=first)
    if changed:
        # A change to the citizen's data by someone other than the citizen: into the audit trail.
        assert principal.agency_code is not None
        await audit.record(
            dossier.citizen_id,
            "agency",
            principal.actor_id,
            f"dossier.status.{target.value}",
            dossier.code,
            reason=data.event_id,
            client=_client_of(principal),
            changed_fields=["status", *(["note"] if data.note else []), *(["result"] if data.result else [])],
        )
    return EventOutcome(dossier, changed, service)


async def _event_update(
    principal: Principal, service: Service, dossier: Dossier, target: DossierStatus, data: EventIn, now: datetime
) -> tuple[dict[str, Any], list[OutboxEntry]]:
    """What the move changes besides the status: the clock, the checklist, the result, the parcel."""
    outbox: list[OutboxEntry] = []
    if target is DossierStatus.RECEIVED:
        awaiting_payment = dossier.payment is not None and dossier.payment.state == "pending"
        blocks = awaiting_payment and dossier.payment is not None and dossier.payment.timing == "before_processing"
        change = deadlines.start(dossier, service, now, ["payment"] if blocks else [])
        if blocks and dossier.payment is not None:
            outbox.append(
                OutboxEntry(
                    key=f"payment:{dossier.payment.reference}:requested",
                    kind="payment_requested",
                    status=target,
                    params=amount_params(dossier.payment.amount_vnd),
                )
            )
    elif target is DossierStatus.SUPPLEMENT_REQUIRED:
        change = deadlines.pause(dossier, "supplement", now)
    elif dossier.status is DossierStatus.SUPPLEMENT_REQUIRED and target not in CLOCK_STOPS:
        # The agency takes the dossier back without waiting for the answers (the citizen brought them in).
        change = deadlines.resume(dossier, "supplement", now)
    elif target in CLOCK_STOPS:
        change = deadlines.stop(dossier, now)
    else:
        change = deadlines.ClockChange(clock=dossier.clock, due_at=dossier.due_at, late_after=dossier.late_after)
    update = change.update()
    if target is DossierStatus.SUPPLEMENT_REQUIRED:
        update["$set"]["supplement"] = _checklist(dossier, data, now).model_dump()
    if target is DossierStatus.RESULT_READY:
        document_id = await _issue_result(principal, service, dossier, data)
        if document_id is not None:
            update["$set"]["result_document_id"] = document_id
        if dossier.delivery.method == "postal" and dossier.shipment is None:
            update["$set"]["shipment"] = Shipment(created_at=now).model_dump()
    return update, outbox


async def _issue_result(
    principal: Principal, service: Service, dossier: Dossier, data: EventIn
) -> PydanticObjectId | None:
    if data.result is None:
        # A result of a type the wallet does not hold yet is handed over by the agency's own channel.
        if get_type(service.result_document_type or "") is not None and dossier.delivery.method == "online":
            raise _bad(
                "result.document",
                "Hồ sơ nhận kết quả trực tuyến: hãy gửi kèm giấy tờ kết quả (loại '{t}').",
                "The result is delivered online: send the result document (type '{t}') with this event.",
                t=service.result_document_type,
            )
        return None
    # The document is issued under the event's id, so a retried event finds it again.
    document, _ = await wallet.issue(
        principal, dossier.citizen_id, data.event_id, data.result.document, dossier_code=dossier.code, notify=False
    )
    return document.id


async def agency_view(principal: Principal, dossier: Dossier) -> AgencyDossierOut:
    return (await with_applicants(principal, [dossier]))[0]
