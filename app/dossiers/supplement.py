"""The citizen answers a supplement request, item by item.

Each answer is checked against what the item asks for (an upload, a wallet document, a
corrected form field, or a short reply) and saved in one conditional update. The answer
that completes the checklist also sends the dossier back (to `processing`, or wherever the
procedure's table lets the citizen's answer send it) and restarts the deadline clock, in the
same update, through app/dossiers/transitions.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from app.catalogue.service import service_of
from app.dossiers import attachments, deadlines, store, transitions
from app.dossiers.forms import field_problem
from app.dossiers.schemas import SupplementAnswerIn
from app.dossiers.service import get_for_citizen
from app.dossiers.transitions import Move
from app.errors import AppError, FieldProblem, Text, invalid_input
from models.catalogue import AttachmentSpec, LocalizedText, Service
from models.common import utcnow
from models.dossier import AttachmentRef, ChecklistItem, Dossier, SupplementAnswer
from models.dossier_status import DossierStatus, allowed_next
from models.webhook import SUPPLEMENT_ANSWERED, agency_event

NOTHING_TO_ANSWER = AppError(
    409,
    "no-supplement-requested",
    Text("Hồ sơ không chờ bổ sung", "No supplement requested"),
    Text(
        "Hồ sơ hiện không có yêu cầu bổ sung nào đang chờ trả lời. Hãy tải lại hồ sơ để xem trạng thái mới nhất.",
        "The dossier has no supplement request waiting for an answer. Reload it to see its current status.",
    ),
)


def _problem(field: str, vi: str, en: str, **params: object) -> AppError:
    return invalid_input([FieldProblem(field, Text(vi, en), dict(params))])


async def _answer_for(
    citizen_id: PydanticObjectId,
    service: Service,
    item: ChecklistItem,
    data: SupplementAnswerIn,
    round_: int,
    now: datetime,
) -> tuple[SupplementAnswer, AttachmentRef | None, dict[str, Any]]:
    """The checked answer, the paper it attaches (if any) and the form fields it corrects."""
    if item.kind == "field":
        spec = next((f for f in service.form_fields if f.name == item.target), None)
        if spec is None or data.value is None:
            raise _problem(
                "value", "Hãy gửi giá trị mới của trường '{t}'.", "Send the new value of '{t}'.", t=item.target
            )
        problem = field_problem(spec, data.value, "value")
        if problem is not None:
            raise invalid_input([problem])
        return SupplementAnswer(value=data.value), None, {f"form.{spec.name}": data.value}
    if item.kind == "other":
        if not (data.text or "").strip() and data.upload_id is None:
            raise _problem(
                "text",
                "Hãy trả lời bằng một đoạn văn bản (text) và/hoặc một tệp tải lên (upload_id).",
                "Answer with a short text and/or an uploaded file (upload_id).",
            )
        ref = None
        if data.upload_id is not None:
            reply = AttachmentSpec(
                name=f"supplement_{round_}_{item.id}", label=LocalizedText(vi="Bổ sung", en="Supplement")
            )
            ref, problem = await attachments.reference(citizen_id, reply, data.upload_id, None, "upload_id", now)
            if problem is not None:
                raise invalid_input([problem])
            assert ref is not None
            ref.supplement_round = round_
        return (
            SupplementAnswer(text=(data.text or "").strip() or None, upload_id=ref.upload_id if ref else None),
            ref,
            {},
        )
    if item.kind == "wallet_document":
        wallet_spec = AttachmentSpec(
            name=item.target or "document",
            label=LocalizedText(vi="", en=""),
            upload=False,
            wallet_types=[item.target or ""],
        )
        ref, problem = await attachments.reference(citizen_id, wallet_spec, None, data.document_id, "document_id", now)
    else:
        spec_found = next((a for a in service.attachments if a.name == item.target), None)
        if spec_found is None:
            raise _problem("item_id", "Mục này không gắn với giấy tờ nào.", "This item names no paper.")
        ref, problem = await attachments.reference(
            citizen_id, spec_found, data.upload_id, data.document_id, "answer", now
        )
    if problem is not None:
        raise invalid_input([problem])
    assert ref is not None
    ref.supplement_round = round_
    return SupplementAnswer(upload_id=ref.upload_id, document_id=ref.document_id), ref, {}


async def answer(citizen_id: PydanticObjectId, code: str, data: SupplementAnswerIn) -> Dossier:
    first = await get_for_citizen(citizen_id, code)
    service = await service_of(first.service_code)

    async def attempt(dossier: Dossier) -> Dossier | None:
        supplement = dossier.supplement
        if dossier.status is not DossierStatus.SUPPLEMENT_REQUIRED or supplement is None:
            raise NOTHING_TO_ANSWER
        index = next((i for i, item in enumerate(supplement.items) if item.id == data.item_id), None)
        if index is None:
            raise _problem(
                "item_id",
                "Không có mục '{id}'. Các mục: {ids}.",
                "No item '{id}'. Items: {ids}.",
                id=data.item_id,
                ids=", ".join(i.id for i in supplement.items),
            )
        now = utcnow()
        checked, ref, form_changes = await _answer_for(
            citizen_id, service, supplement.items[index], data, supplement.round, now
        )
        prefix = f"supplement.items.{index}"
        update: dict[str, Any] = {
            "$set": {f"{prefix}.answered_at": now, f"{prefix}.answer": checked.model_dump(), **form_changes}
        }
        if ref is not None:
            update["$push"] = {"attachments": ref.model_dump()}
        unanswered = [i for n, i in enumerate(supplement.items) if i.answered_at is None and n != index]
        if unanswered:
            return await store.write(dossier, update, {"status": DossierStatus.SUPPLEMENT_REQUIRED.value})
        return await _complete(dossier, service, update, now)

    answered: Dossier = await store.retrying(lambda: get_for_citizen(citizen_id, code), attempt)
    return answered


async def _complete(dossier: Dossier, service: Service, update: dict[str, Any], now: datetime) -> Dossier | None:
    """Every item answered: back to where the procedure's table sends the answer, the clock runs
    again, the agency sees it."""
    assert dossier.supplement is not None
    back = _back_to(service)
    told = agency_event(
        f"{dossier.code}:supplement-{dossier.supplement.round}",
        SUPPLEMENT_ANSWERED,
        status=(back or DossierStatus.SUPPLEMENT_REQUIRED).value,
        round=str(dossier.supplement.round),
    )
    if back is None:
        # The procedure leaves the move back to the agency: the answers wait for it, the clock still paused.
        update["$set"]["supplement.completed_at"] = now
        update.setdefault("$push", {})["outbox"] = told.model_dump()
        return await store.write(dossier, update, {"status": DossierStatus.SUPPLEMENT_REQUIRED.value})
    clock_update = deadlines.resume(dossier, "supplement", now).update()
    update["$set"].update(clock_update["$set"])
    update["$set"]["supplement.completed_at"] = now
    if "$push" in clock_update:
        update.setdefault("$push", {}).update(clock_update["$push"])
    move = Move("citizen", back, "citizen", notice_key=f"supplement-{dossier.supplement.round}")
    return await transitions.apply(dossier, service, move, update=update, outbox=[told], now=now)


def _back_to(service: Service) -> DossierStatus | None:
    """The status the citizen's last answer moves the dossier to, if the table gives the citizen one."""
    targets = allowed_next("citizen", DossierStatus.SUPPLEMENT_REQUIRED, transitions.table_of(service))
    return min(targets, default=None)
