"""Dossiers as their readers see them: the citizen (in their language) and the agency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.config import get_settings
from app.dossiers import deadlines
from app.dossiers.schemas import (
    AgencyDossierOut,
    ApologyOut,
    ApplicantOut,
    AttachmentOut,
    ChecklistItemOut,
    DeadlineOut,
    DeliveryOut,
    DossierOut,
    HistoryOut,
    PaymentOut,
    RatingOut,
    ShipmentOut,
    SupplementAnswerOut,
    SupplementOut,
    TrackingOut,
)
from app.errors import Text
from app.i18n import Language
from app.payments.signing import pay_url
from models.catalogue import Service
from models.common import utcnow
from models.dossier import Dossier, PaymentSummary
from models.dossier_status import DEFAULT_TABLE, DossierStatus, allowed_next
from models.working_days import local

APOLOGY_TEXT = Text(
    "Cơ quan thành thật xin lỗi vì hồ sơ chưa được giải quyết đúng hạn ({missed}). Ngày hẹn trả kết quả mới: {new}.",
    "The agency sincerely apologises: your application was not settled by {missed}. New expected date: {new}.",
)


def _payment_out(payment: PaymentSummary) -> PaymentOut:
    link = None
    if payment.state == "pending":
        settings = get_settings()
        link = pay_url(
            settings.payment_provider_url,
            settings.payment_secret,
            settings.payment_notify_url,
            payment.reference,
            payment.amount_vnd,
        )
    return PaymentOut(
        reference=payment.reference,
        state=payment.state,
        amount_vnd=payment.amount_vnd,
        fee_vnd=payment.fee_vnd,
        postage_vnd=payment.postage_vnd,
        timing=payment.timing,
        requested_at=payment.requested_at,
        paid_at=payment.paid_at,
        pay_url=link,
    )


def _deadline_out(dossier: Dossier, now: datetime) -> DeadlineOut:
    clock = dossier.clock
    return DeadlineOut(
        state=deadlines.deadline_state(dossier, now),
        due_at=deadlines.effective_due(dossier, now),
        clock=clock.state,
        received_at=clock.received_at,
        waiting_for=list(clock.waiting_for),
        paused_working_days=clock.paused_working_days,
        expected_at=dossier.apologies[-1].new_expected_at if dossier.apologies else None,
    )


def _supplement_out(dossier: Dossier) -> SupplementOut | None:
    supplement = dossier.supplement
    if supplement is None:
        return None
    return SupplementOut(
        round=supplement.round,
        requested_at=supplement.requested_at,
        completed_at=supplement.completed_at,
        items=[
            ChecklistItemOut(
                id=item.id,
                kind=item.kind,
                target=item.target,
                reason=item.reason,
                action=item.action,
                answered_at=item.answered_at,
                answer=SupplementAnswerOut(
                    upload_id=str(item.answer.upload_id) if item.answer.upload_id else None,
                    document_id=str(item.answer.document_id) if item.answer.document_id else None,
                    value=item.answer.value,
                    text=item.answer.text,
                )
                if item.answer
                else None,
            )
            for item in supplement.items
        ],
    )


def citizen_actions(dossier: Dossier, service: Service | None = None) -> list[str]:
    actions: list[str] = []
    if dossier.payment is not None and dossier.payment.state == "pending":
        actions.append("pay")
    if dossier.status is DossierStatus.SUPPLEMENT_REQUIRED and dossier.supplement is not None:
        actions.append("answer_supplement")
    table = service.table() if service is not None else DEFAULT_TABLE
    if DossierStatus.WITHDRAWN in allowed_next("citizen", dossier.status, table):
        actions.append("withdraw")
    if dossier.status is DossierStatus.COMPLETED and dossier.rating is None:
        actions.append("rate")
    return actions


def _date(moment: datetime) -> str:
    return f"{local(moment):%d/%m/%Y}"


def dossier_out(
    dossier: Dossier, service: Service | None, language: Language, now: datetime | None = None
) -> DossierOut:
    now = now or utcnow()

    def step_text(status: DossierStatus) -> str | None:
        step = service.step(status) if service else None
        return step.text.pick(language) if step else None

    return DossierOut(
        code=dossier.code,
        service_code=dossier.service_code,
        service_name=service.name.pick(language) if service else None,
        status=dossier.status.value,
        step=step_text(dossier.status),
        submitted_at=dossier.submitted_at,
        due_at=dossier.due_at,
        deadline=_deadline_out(dossier, now),
        delivery=DeliveryOut(
            method=dossier.delivery.method,
            address=dossier.delivery.address,
            postage_fee_vnd=dossier.delivery.postage_fee_vnd,
        ),
        history=[
            HistoryOut(status=h.status.value, at=h.at, note=h.note, text=step_text(h.status)) for h in dossier.history
        ],
        form=dossier.form,
        result_document_id=str(dossier.result_document_id) if dossier.result_document_id else None,
        payment=_payment_out(dossier.payment) if dossier.payment else None,
        supplement=_supplement_out(dossier),
        attachments=[
            AttachmentOut(
                name=a.name,
                source=a.source,
                added_at=a.added_at,
                upload_id=str(a.upload_id) if a.upload_id else None,
                document_id=str(a.document_id) if a.document_id else None,
                content_type=a.content_type,
                size=a.size,
                document_type=a.document_type,
            )
            for a in dossier.attachments
        ],
        shipment=ShipmentOut(
            status=dossier.shipment.status,
            tracking_number=dossier.shipment.tracking_number,
            operator=dossier.shipment.operator,
            updates=[
                TrackingOut(status=u.status, at=u.at, location=u.location, note=u.note)
                for u in dossier.shipment.updates
            ],
        )
        if dossier.shipment
        else None,
        apologies=[
            ApologyOut(
                number=a.number,
                at=a.at,
                missed_due_at=a.missed_due_at,
                new_expected_at=a.new_expected_at,
                text=APOLOGY_TEXT.render(language, missed=_date(a.missed_due_at), new=_date(a.new_expected_at)),
            )
            for a in dossier.apologies
        ],
        rating=RatingOut(score=dossier.rating.score, comment=dossier.rating.comment, at=dossier.rating.at)
        if dossier.rating
        else None,
        actions=citizen_actions(dossier, service),
        agency_code=dossier.agency_code,
        province_code=dossier.province_code,
        tracking_secret_issued_at=dossier.tracking_secret_issued_at,
    )


def agency_dossier_out(dossier: Dossier, service: Service | None, applicant: dict[str, Any] | None) -> AgencyDossierOut:
    """`applicant`: the citizen's `national_id` and `full_name` (store.applicants)."""
    base = dossier_out(dossier, service, "vi")
    fields = {name: getattr(base, name) for name in base.__struct_fields__ if name != "actions"}
    return AgencyDossierOut(
        **fields,
        applicant=ApplicantOut(
            national_id=applicant["national_id"] if applicant else "",
            full_name=applicant["full_name"] if applicant else "",
        ),
    )
