"""Dossier fees: the payment request, and the provider's signed confirmation.

A dossier whose procedure has a fee (or whose result comes by post) carries a payment
summary from the moment it is submitted; the ledger entry here (models/payment.py) is
derived from it by reference, so it can always be recreated. The provider confirms through
a callback signed with HMAC-SHA256 over the raw body; the body's timestamp bounds its age and
its nonce is accepted once, so a replayed callback is refused. The same payment confirmed
twice (a provider retry with a fresh nonce) changes nothing the second time.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import msgspec
import structlog
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.config import Settings
from app.dossiers import deadlines, store
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.payments.signing import valid_signature
from models.common import utcnow
from models.dossier import Dossier, OutboxEntry
from models.payment import CallbackNonce, Payment, PaymentAttempt, PaymentLine
from models.webhook import FEE_PAID, agency_event

log = structlog.get_logger(__name__)

PAYMENT = Text("khoản thanh toán", "payment")


def reference_for(dossier_code: str) -> str:
    return f"PAY-{dossier_code}"


def amount_params(amount_vnd: int) -> dict[str, str]:
    return {"amount_vi": f"{amount_vnd:,}".replace(",", "."), "amount_en": f"{amount_vnd:,}"}


async def ensure_request(dossier: Dossier) -> None:
    """The ledger entry of the dossier's payment; creating it again changes nothing."""
    summary = dossier.payment
    if summary is None:
        return
    lines = [PaymentLine(kind="fee", amount_vnd=summary.fee_vnd)] if summary.fee_vnd else []
    if summary.postage_vnd:
        lines.append(PaymentLine(kind="postage", amount_vnd=summary.postage_vnd))
    await Payment.get_pymongo_collection().update_one(
        {"reference": summary.reference},
        {
            "$setOnInsert": {
                "reference": summary.reference,
                "citizen_id": dossier.citizen_id,
                "dossier_code": dossier.code,
                "service_code": dossier.service_code,
                "lines": [line.model_dump() for line in lines],
                "amount_vnd": summary.amount_vnd,
                "status": "pending",
                "created_at": summary.requested_at,
                "paid_at": None,
                "provider_transaction_id": None,
                "attempts": [],
            }
        },
        upsert=True,
    )


async def sync_from_dossier(dossier: Dossier) -> None:
    """After a withdrawal: a pending payment is cancelled, a paid one is due for refund."""
    if dossier.payment is None or dossier.payment.state not in ("cancelled", "refund_due"):
        return
    await ensure_request(dossier)
    before = "pending" if dossier.payment.state == "cancelled" else "paid"
    await Payment.get_pymongo_collection().update_one(
        {"reference": dossier.payment.reference, "status": before}, {"$set": {"status": dossier.payment.state}}
    )


# --- the provider's callback --------------------------------------------------------------


class CallbackIn(msgspec.Struct):
    reference: str
    transaction_id: str
    status: Literal["paid", "failed"]
    amount_vnd: int
    timestamp: int  # Unix seconds, when the provider signed it
    nonce: str
    reason: str | None = None


class CallbackOut(msgspec.Struct):
    reference: str
    status: str
    duplicate: bool = False


BAD_SIGNATURE = AppError(
    401,
    "bad-signature",
    Text("Chữ ký không hợp lệ", "Bad signature"),
    Text(
        "Chữ ký X-Signature không khớp với nội dung. Hãy ký HMAC-SHA256 trên đúng thân yêu cầu gửi đi bằng khoá "
        "bí mật dùng chung, dạng 'sha256=<hex>'.",
        "X-Signature does not match the body. Sign the exact body sent with HMAC-SHA256 and the shared secret, as "
        "'sha256=<hex>'.",
    ),
)


def stale_callback(max_age_seconds: int) -> AppError:
    return AppError(
        401,
        "stale-callback",
        Text("Thông báo thanh toán quá cũ", "Callback too old"),
        Text(
            "Dấu thời gian của thông báo lệch quá {seconds} giây so với hiện tại. Hãy gửi lại với dấu thời gian và "
            "nonce mới.",
            "The callback's timestamp is more than {seconds} seconds from now. Send it again with a fresh timestamp "
            "and nonce.",
        ),
        params={"seconds": max_age_seconds},
    )


REPLAYED = AppError(
    409,
    "callback-replayed",
    Text("Thông báo đã được nhận", "Callback already received"),
    Text(
        "Thông báo với nonce này đã được nhận; nó không được xử lý lần nữa. Một lần gửi lại cần nonce mới.",
        "A callback with this nonce was already received; it is not processed again. A retry needs a fresh nonce.",
    ),
)


def _parse(raw: bytes) -> CallbackIn:
    try:
        return msgspec.json.decode(raw, type=CallbackIn)
    except msgspec.ValidationError as exc:
        raise invalid_input([FieldProblem("body", Text("{m}", "{m}"), {"m": str(exc)})]) from None
    except msgspec.DecodeError:
        raise invalid_input([FieldProblem("body", Text("JSON không hợp lệ.", "Not valid JSON."))]) from None


async def _dossier_by_reference(reference: str) -> Dossier:
    dossier = await Dossier.find_one({"payment.reference": reference})
    if dossier is None:
        raise not_found(PAYMENT)
    return dossier


async def handle_callback(settings: Settings, raw: bytes, signature: str | None) -> tuple[CallbackOut, Dossier | None]:
    """Check and apply one provider callback. Returns the answer and the dossier it changed."""
    if not valid_signature(settings.payment_secret, raw, signature):
        log.warning("payment_callback_refused", why="signature")
        raise BAD_SIGNATURE
    callback = _parse(raw)
    age = abs(utcnow().timestamp() - callback.timestamp)
    if age > settings.payment_callback_max_age_seconds:
        log.warning("payment_callback_refused", why="stale")
        raise stale_callback(settings.payment_callback_max_age_seconds)
    dossier = await _dossier_by_reference(callback.reference)
    await ensure_request(dossier)
    try:
        await CallbackNonce(nonce=callback.nonce, reference=callback.reference).insert()
    except DuplicateKeyError:
        log.warning("payment_callback_refused", why="replay")
        raise REPLAYED from None
    payment = await Payment.find_one(Payment.reference == callback.reference)
    assert payment is not None
    if callback.amount_vnd != payment.amount_vnd:
        raise invalid_input(
            [
                FieldProblem(
                    "amount_vnd",
                    Text(
                        "Số tiền {got} khác số tiền yêu cầu {want}.", "Amount {got} differs from the {want} requested."
                    ),
                    {"got": callback.amount_vnd, "want": payment.amount_vnd},
                )
            ]
        )
    # When we learned it: the provider's timestamp (whole seconds) is only for the age check.
    at = utcnow()
    attempt = PaymentAttempt(
        transaction_id=callback.transaction_id,
        outcome=callback.status,
        at=at,
        amount_vnd=callback.amount_vnd,
        reason=callback.reason,
    )
    if callback.status == "failed":
        return await _record_failure(payment, attempt)
    return await _record_success(payment, attempt)


async def _record_failure(payment: Payment, attempt: PaymentAttempt) -> tuple[CallbackOut, Dossier | None]:
    updated = await Payment.get_pymongo_collection().update_one(
        {"reference": payment.reference, "attempts.transaction_id": {"$ne": attempt.transaction_id}},
        {"$push": {"attempts": attempt.model_dump()}},
    )
    if updated.modified_count == 0 or payment.status != "pending":
        return CallbackOut(reference=payment.reference, status=payment.status, duplicate=True), None
    notice = OutboxEntry(key=f"payment:{payment.reference}:{attempt.transaction_id}", kind="payment_failed")

    async def tell(dossier: Dossier) -> Dossier | None:
        if dossier.payment is None or dossier.payment.state != "pending":
            return dossier
        notice.status = dossier.status
        return await store.write(dossier, {"$push": {"outbox": notice.model_dump()}})

    dossier: Dossier = await store.retrying(lambda: _dossier_by_reference(payment.reference), tell)
    return CallbackOut(reference=payment.reference, status="pending"), dossier


async def _record_success(payment: Payment, attempt: PaymentAttempt) -> tuple[CallbackOut, Dossier | None]:
    raw = await Payment.get_pymongo_collection().find_one_and_update(
        {"reference": payment.reference, "status": "pending"},
        {
            "$set": {"status": "paid", "paid_at": attempt.at, "provider_transaction_id": attempt.transaction_id},
            "$push": {"attempts": attempt.model_dump()},
        },
        return_document=ReturnDocument.AFTER,
    )
    duplicate = raw is None
    if duplicate:
        # Paid already (a provider retry), or cancelled by a withdrawal: keep the attempt on
        # record; a second real payment shows in the ledger for a refund.
        await Payment.get_pymongo_collection().update_one(
            {"reference": payment.reference, "attempts.transaction_id": {"$ne": attempt.transaction_id}},
            {"$push": {"attempts": attempt.model_dump()}},
        )
    dossier = await apply_paid(payment.reference, attempt.at)
    current = await Payment.find_one(Payment.reference == payment.reference)
    return CallbackOut(
        reference=payment.reference, status=current.status if current else "paid", duplicate=duplicate
    ), dossier


async def apply_paid(reference: str, paid_at: datetime) -> Dossier:
    """Mark the dossier's payment paid, run its clock again if it waited for the payment, and
    tell the citizen. Idempotent: a paid dossier is left as it is."""

    async def attempt(dossier: Dossier) -> Dossier | None:
        if dossier.payment is None or dossier.payment.state != "pending":
            return dossier
        now = utcnow()
        change = deadlines.resume(dossier, "payment", now)
        update: dict[str, Any] = change.update()
        update["$set"].update({"payment.state": "paid", "payment.paid_at": paid_at})
        notice = OutboxEntry(
            key=f"payment:{reference}:paid",
            kind="payment_confirmed",
            status=dossier.status,
            params=amount_params(dossier.payment.amount_vnd),
        )
        told = agency_event(
            f"{dossier.code}:paid", FEE_PAID, status=dossier.status.value, amount_vnd=str(dossier.payment.amount_vnd)
        )
        update.setdefault("$push", {})["outbox"] = {"$each": [notice.model_dump(), told.model_dump()]}
        return await store.write(dossier, update, {"payment.state": "pending"})

    paid: Dossier = await store.retrying(lambda: _dossier_by_reference(reference), attempt)
    return paid


async def payments_for_citizen(citizen_id: Any) -> list[Payment]:
    return await Payment.find({"citizen_id": citizen_id}).sort("-_id").to_list()


def callback_body(
    reference: str, transaction_id: str, status: str, amount_vnd: int, timestamp: int, nonce: str
) -> bytes:
    """A callback body as the provider sends it (used by the simulator and tests)."""
    return json.dumps(
        {
            "reference": reference,
            "transaction_id": transaction_id,
            "status": status,
            "amount_vnd": amount_vnd,
            "timestamp": timestamp,
            "nonce": nonce,
        },
        separators=(",", ":"),
    ).encode()
