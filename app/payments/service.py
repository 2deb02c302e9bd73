"""The payment provider's signed confirmation of a dossier's fee.

A dossier whose procedure has a fee (or whose result comes by post) carries a payment
summary from the moment it is submitted; its ledger entry (app/payments/ledger.py) is
derived from it by reference, so it can always be recreated. The provider confirms through
a callback signed with HMAC-SHA256 over the raw body; the body's timestamp bounds its age and
its nonce is accepted once, so a replayed callback is refused. The same payment confirmed
twice (a provider retry with a fresh nonce) changes nothing the second time. What the
payment changes on the dossier is written by app/dossiers/fees.py.
"""

from __future__ import annotations

import json
from typing import Literal

import msgspec
import structlog

from app.config import Settings
from app.dossiers import fees
from app.errors import AppError, FieldProblem, Text, invalid_input
from app.payments import ledger
from app.payments.signing import valid_signature
from models.common import utcnow
from models.dossier import Dossier
from models.payment import Payment, PaymentAttempt

log = structlog.get_logger(__name__)

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
    dossier = await fees.by_payment_reference(callback.reference)
    await ledger.ensure_request(dossier)
    if not await ledger.first_sight_of(callback.nonce, callback.reference):
        log.warning("payment_callback_refused", why="replay")
        raise REPLAYED
    payment = await ledger.by_reference(callback.reference)
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
    added = await ledger.add_attempt(payment.reference, attempt)
    if not added or payment.status != "pending":
        return CallbackOut(reference=payment.reference, status=payment.status, duplicate=True), None
    dossier = await fees.tell_payment_failed(payment.reference, attempt.transaction_id)
    return CallbackOut(reference=payment.reference, status="pending"), dossier


async def _record_success(payment: Payment, attempt: PaymentAttempt) -> tuple[CallbackOut, Dossier | None]:
    duplicate = not await ledger.mark_paid(payment.reference, attempt)
    if duplicate:
        # Paid already (a provider retry), or cancelled by a withdrawal: keep the attempt on
        # record; a second real payment shows in the ledger for a refund.
        await ledger.add_attempt(payment.reference, attempt)
    dossier = await fees.apply_paid(payment.reference, attempt.at)
    current = await ledger.by_reference(payment.reference)
    return CallbackOut(
        reference=payment.reference, status=current.status if current else "paid", duplicate=duplicate
    ), dossier


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
