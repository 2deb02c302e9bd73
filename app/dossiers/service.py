"""The citizen's side of a dossier: submitting, reading, withdrawing and rating."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import msgspec
from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.catalogue.routing import agency_for
from app.catalogue.service import get_service, procedures, service_of
from app.dossiers import attachments, deadlines, store, tracking_secrets, transitions, views
from app.dossiers.expected import expected_for
from app.dossiers.forms import form_problems
from app.dossiers.schemas import DossierIn, DossierOut, RatingIn, WithdrawIn
from app.dossiers.transitions import Move, status_notice
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.i18n import Language
from app.inbox import flushing
from app.pagination import Page, cursor_filter, next_cursor
from app.payments import ledger as payments
from models.catalogue import Service
from models.common import utcnow
from models.dossier import READABLE_ALPHABET, Delivery, Dossier, HistoryEntry, PaymentSummary, Rating
from models.dossier_status import DossierStatus
from models.webhook import DOSSIER_RATED, DOSSIER_SUBMITTED, DOSSIER_WITHDRAWN, agency_event
from models.working_days import add_working_days

DOSSIER = Text("hồ sơ", "dossier")


def new_code() -> str:
    return f"HS-{utcnow():%Y%m%d}-" + "".join(secrets.choice(READABLE_ALPHABET) for _ in range(6))


def fingerprint(data: msgspec.Struct) -> str:
    return hashlib.sha256(msgspec.json.encode(data, order="sorted")).hexdigest()


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


def eid_level_too_low(level: int) -> AppError:
    return AppError(
        403,
        "eid-level-too-low",
        Text("Cần tài khoản định danh mức 2", "e-ID level 2 needed"),
        Text(
            "Thủ tục này cần tài khoản định danh điện tử mức {level}. Hãy mang căn cước công dân gắn chíp đến "
            "công an xã/phường để nâng mức tài khoản, rồi nộp lại.",
            "This service needs e-ID level {level}. Take your chip-based ID card to the commune or ward police to "
            "upgrade your account, then apply again.",
        ),
        params={"level": level},
    )


async def _existing_submission(citizen_id: PydanticObjectId, key: str, request_fingerprint: str) -> Dossier | None:
    existing = await store.by_idempotency_key(citizen_id, key)
    if existing is not None and existing.request_fingerprint != request_fingerprint:
        raise IDEMPOTENCY_KEY_REUSED
    return existing


def _delivery_problems(service: Service, data: DossierIn) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
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
                Text(
                    "Nhận qua bưu điện cần địa chỉ nhận đầy đủ (số nhà, đường, phường/xã, tỉnh/thành phố).",
                    "Postal delivery needs a full address (number, street, ward or commune, province or city).",
                ),
            )
        )
    return problems


def _payment_summary(service: Service, code: str, method: str, now: datetime) -> PaymentSummary | None:
    amount = service.fee_for(method)
    if amount <= 0:
        return None
    return PaymentSummary(
        reference=payments.reference_for(code),
        amount_vnd=amount,
        fee_vnd=service.fee_vnd,
        postage_vnd=amount - service.fee_vnd,
        timing=service.payment_timing,
        requested_at=now,
    )


async def submit(citizen_id: PydanticObjectId, idempotency_key: str | None, data: DossierIn) -> tuple[Dossier, bool]:
    """Create a dossier. Returns it and whether this call created it (False for a retry).
    Its receipt's secret: `receipt_secret(dossier)` (decision 0029).

    The insert comes first and the unique (citizen, Idempotency-Key) index is the idempotency
    record: a new submission does not look for a first one, a retry finds it when its insert
    is refused (decision 0016, 2026-12-02)."""
    request_fingerprint = fingerprint(data)
    try:
        dossier, service, guardians = await _new_dossier(citizen_id, idempotency_key, request_fingerprint, data)
    except AppError:
        # A retry answers as the first call did, even if the procedure or the citizen changed since.
        if idempotency_key and (replayed := await _replay(citizen_id, idempotency_key, request_fingerprint)):
            return replayed, False
        raise
    try:
        stored = await store.insert(dossier)
    except DuplicateKeyError:
        # A retry, or two copies of the same submission racing: the unique index let one through.
        if idempotency_key and (replayed := await _replay(citizen_id, idempotency_key, request_fingerprint)):
            return replayed, False
        raise
    flushing.owed(Dossier, dossier.id, [e.key for e in dossier.outbox], service, document=stored, guardians=guardians)
    # No payment ledger entry yet: it is derived from the dossier's payment summary, and the
    # provider's callback (or a withdrawal) creates it when it is first needed (decision 0031),
    # one store write fewer per submission.
    return dossier, True


async def _replay(citizen_id: PydanticObjectId, key: str, request_fingerprint: str) -> Dossier | None:
    """The first submission under this key, with what its first call may not have finished."""
    existing = await _existing_submission(citizen_id, key, request_fingerprint)
    if existing is not None:
        # If the first call died before queueing the push, this request finishes it (with
        # whatever else the dossier owes: each step is safe to repeat).
        flushing.owed(Dossier, existing.id, [e.key for e in existing.outbox])
    return existing


async def _new_dossier(
    citizen_id: PydanticObjectId, idempotency_key: str | None, request_fingerprint: str, data: DossierIn
) -> tuple[Dossier, Service, list[ObjectId]]:
    """The dossier to insert, with its procedure and the citizen's guardians; every refusal
    (an AppError) before anything is written."""
    service = await get_service(data.service_code)
    citizen = await store.submitter(citizen_id)
    if citizen is None:
        raise not_found(Text("tài khoản", "account"))
    eid_level = int(citizen.get("eid_level", 1))
    if eid_level < service.required_eid_level:
        raise eid_level_too_low(service.required_eid_level)
    problems = form_problems(service, data.form)
    problems += _delivery_problems(service, data)
    refs, attachment_problems = await attachments.resolve(citizen_id, service, data.attachments)
    problems += attachment_problems
    if problems:
        raise invalid_input(problems)
    postal = data.delivery.method == "postal"
    agency_code, province_code = await agency_for(
        service, data.province_code, data.delivery.address if postal else None
    )

    now = utcnow()
    code = new_code()
    dossier = Dossier(
        code=code,
        citizen_id=citizen_id,
        had_guardians=bool(citizen.get("guardian_ids")),
        service_code=service.code,
        agency_code=agency_code,
        province_code=province_code,
        form=data.form,
        delivery=Delivery(
            method=data.delivery.method,
            address=data.delivery.address.strip() if postal and data.delivery.address else None,
            postage_fee_vnd=service.postage_fee_vnd if postal else 0,
        ),
        submitted_at=now,
        # An estimate: the legal deadline is set when the agency receives the dossier.
        due_at=add_working_days(now, service.processing_days),
        history=[HistoryEntry(status=DossierStatus.SUBMITTED, at=now, actor="citizen")],
        attachments=refs,
        payment=_payment_summary(service, code, data.delivery.method, now),
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
        tracking_secret_hash=tracking_secrets.issue(code, now)[1],
        tracking_secret_issued_at=now,
    )
    dossier.outbox = [
        *status_notice(dossier, service, DossierStatus.SUBMITTED, "submitted"),
        agency_event(f"{code}:submitted", DOSSIER_SUBMITTED, status=DossierStatus.SUBMITTED.value),
    ]
    return dossier, service, list(citizen.get("guardian_ids") or [])


def receipt_secret(dossier: Dossier) -> str | None:
    """The secret printed on the dossier's receipt: in the submission's answer, the first one
    and any Idempotency-Key replay of it alike (decision 0029)."""
    return tracking_secrets.shown(dossier.code, dossier.tracking_secret_issued_at, dossier.tracking_secret_hash)


async def list_for_citizen(
    citizen_id: PydanticObjectId, cursor: str | None, limit: int, language: Language
) -> Page[DossierOut]:
    query = {"citizen_id": citizen_id, **cursor_filter(cursor, descending=True)}
    found = await store.newest(query, limit)
    services = await procedures({d.service_code for d in found})
    return Page(
        items=[views.dossier_out(d, services.get(d.service_code), language) for d in found],
        next_cursor=next_cursor([d.id for d in found], limit),
    )


async def get_for_citizen(citizen_id: PydanticObjectId, code: str) -> Dossier:
    dossier = await store.citizens_dossier(citizen_id, code)
    if dossier is None:
        raise not_found(DOSSIER)
    return dossier


async def view_for_citizen(citizen_id: PydanticObjectId, code: str, language: Language) -> DossierOut:
    dossier = await get_for_citizen(citizen_id, code)
    out = views.dossier_out(dossier, await store.service(dossier.service_code), language)
    out.expected = await expected_for(dossier)
    return out


def dossier_out(dossier: Dossier, service: Service | None = None, language: Language = "vi") -> DossierOut:
    """A dossier as its citizen sees it (for other areas that submit on a citizen's behalf)."""
    return views.dossier_out(dossier, service, language)


def cannot_withdraw(service: Service | None, current: DossierStatus) -> AppError:
    allowed = transitions.allowed(service, "citizen", current)
    return AppError(
        409,
        "withdraw-not-allowed",
        Text("Không thể rút hồ sơ", "Cannot withdraw"),
        Text(
            "Hồ sơ đang ở trạng thái '{current}': cơ quan đã tiếp nhận nên không thể rút trực tuyến. Hãy liên hệ cơ "
            "quan giải quyết để được hướng dẫn. Thao tác được phép: {allowed}.",
            "The dossier is '{current}': the agency has received it, so it can no longer be withdrawn online. "
            "Contact the agency handling it. Allowed next statuses: {allowed}.",
        ),
        params={"current": current.value, "allowed": ", ".join(allowed) or "-"},
        extra={"allowed_next": allowed},
    )


async def withdraw(citizen_id: PydanticObjectId, code: str, data: WithdrawIn) -> Dossier:
    """The citizen takes the dossier back before the agency receives it. Withdrawing a
    withdrawn dossier again answers the same and changes nothing."""
    service = await service_of((await get_for_citizen(citizen_id, code)).service_code)

    async def attempt(dossier: Dossier) -> Dossier | None:
        if dossier.status is DossierStatus.WITHDRAWN:
            return dossier
        if not transitions.allows(service, "citizen", dossier.status, DossierStatus.WITHDRAWN):
            raise cannot_withdraw(service, dossier.status)
        now = utcnow()
        update = deadlines.stop(dossier, now).update()
        if dossier.payment is not None:
            update["$set"]["payment.state"] = "refund_due" if dossier.payment.state == "paid" else "cancelled"
        move = Move(
            "citizen", DossierStatus.WITHDRAWN, "citizen", (data.reason or "").strip() or None, notice_key="withdrawn"
        )
        told = agency_event(f"{dossier.code}:withdrawn", DOSSIER_WITHDRAWN, status=DossierStatus.WITHDRAWN.value)
        return await transitions.apply(dossier, service, move, update=update, outbox=[told], now=now)

    withdrawn: Dossier = await store.retrying(lambda: get_for_citizen(citizen_id, code), attempt)
    await payments.sync_from_dossier(withdrawn)
    return withdrawn


async def rate(citizen_id: PydanticObjectId, code: str, data: RatingIn) -> Dossier:
    """One rating per completed dossier."""

    async def attempt(dossier: Dossier) -> Dossier | None:
        if dossier.rating is not None:
            raise AppError(
                409,
                "already-rated",
                Text("Đã đánh giá", "Already rated"),
                Text(
                    "Bạn đã đánh giá hồ sơ này; mỗi hồ sơ chỉ được đánh giá một lần. Cảm ơn bạn đã góp ý.",
                    "You have already rated this dossier; each dossier is rated once. Thank you for your feedback.",
                ),
            )
        if dossier.status is not DossierStatus.COMPLETED:
            raise AppError(
                409,
                "not-completed",
                Text("Hồ sơ chưa hoàn thành", "Dossier not completed"),
                Text(
                    "Chỉ đánh giá được khi hồ sơ đã hoàn thành (hiện tại: '{status}'). Hãy đánh giá sau khi nhận "
                    "kết quả.",
                    "You can rate once the dossier is completed (now: '{status}'). Rate it after you get the result.",
                ),
                params={"status": dossier.status.value},
            )
        rating = Rating(score=data.score, comment=(data.comment or "").strip() or None, at=utcnow())
        # The score only: the comment may name people; the agency reads it with the dossier.
        told = agency_event(f"{dossier.code}:rated", DOSSIER_RATED, status=dossier.status.value, score=str(data.score))
        update = {"$set": {"rating": rating.model_dump()}, "$push": {"outbox": told.model_dump()}}
        return await store.write(dossier, update, {"rating": None})

    rated: Dossier = await store.retrying(lambda: get_for_citizen(citizen_id, code), attempt)
    return rated
