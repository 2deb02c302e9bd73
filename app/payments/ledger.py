"""The payment ledger (models/payment.py): the one module of payments that touches the store.

A ledger entry is derived from the dossier's payment summary by reference, so it can always
be recreated, and it is made only when first needed: when the provider's callback arrives
(app/payments/service.py records what the provider said through this module) or when the
dossier is withdrawn; the citizen's pay link and every page read the dossier's summary. This
module imports no dossier code: dossiers call it for the payment reference and on a
withdrawal (decision 0024: dossiers → payments.ledger, payments.service → dossiers).
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.errors import Text
from models.dossier import Dossier, PaymentSummary
from models.payment import CallbackNonce, Payment, PaymentAttempt, PaymentLine

PAYMENT = Text("khoản thanh toán", "payment")


def reference_for(dossier_code: str) -> str:
    return f"PAY-{dossier_code}"


def amount_params(amount_vnd: int) -> dict[str, str]:
    return {"amount_vi": f"{amount_vnd:,}".replace(",", "."), "amount_en": f"{amount_vnd:,}"}


def _request(citizen_id: Any, dossier_code: str, service_code: str, summary: PaymentSummary) -> dict[str, Any]:
    """The ledger entry a dossier's payment summary stands for, before the provider said anything."""
    lines = [PaymentLine(kind="fee", amount_vnd=summary.fee_vnd)] if summary.fee_vnd else []
    if summary.postage_vnd:
        lines.append(PaymentLine(kind="postage", amount_vnd=summary.postage_vnd))
    return {
        "reference": summary.reference,
        "citizen_id": citizen_id,
        "dossier_code": dossier_code,
        "service_code": service_code,
        "lines": [line.model_dump() for line in lines],
        "amount_vnd": summary.amount_vnd,
        "status": "pending",
        "created_at": summary.requested_at,
        "paid_at": None,
        "provider_transaction_id": None,
        "attempts": [],
    }


async def ensure_request(dossier: Dossier) -> None:
    """The ledger entry of the dossier's payment; creating it again changes nothing."""
    summary = dossier.payment
    if summary is None:
        return
    await Payment.get_pymongo_collection().update_one(
        {"reference": summary.reference},
        {"$setOnInsert": _request(dossier.citizen_id, dossier.code, dossier.service_code, summary)},
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


async def first_sight_of(nonce: str, reference: str) -> bool:
    """Record a callback's nonce; False if it was seen before (a replay)."""
    try:
        await CallbackNonce(nonce=nonce, reference=reference).insert()
    except DuplicateKeyError:
        return False
    return True


async def by_reference(reference: str) -> Payment | None:
    return await Payment.find_one(Payment.reference == reference)


async def add_attempt(reference: str, attempt: PaymentAttempt) -> bool:
    """Keep an attempt on record once per transaction; False if it was already there."""
    updated = await Payment.get_pymongo_collection().update_one(
        {"reference": reference, "attempts.transaction_id": {"$ne": attempt.transaction_id}},
        {"$push": {"attempts": attempt.model_dump()}},
    )
    return updated.modified_count != 0


async def mark_paid(reference: str, attempt: PaymentAttempt) -> bool:
    """A pending entry becomes paid by this attempt; False if it was not pending any more."""
    raw = await Payment.get_pymongo_collection().find_one_and_update(
        {"reference": reference, "status": "pending"},
        {
            "$set": {"status": "paid", "paid_at": attempt.at, "provider_transaction_id": attempt.transaction_id},
            "$push": {"attempts": attempt.model_dump()},
        },
        return_document=ReturnDocument.AFTER,
    )
    return raw is not None


async def payments_for_citizen(citizen_id: Any) -> list[Payment]:
    """The ledger's entries and the requests not in it yet (a pending summary on a dossier,
    written to the ledger at the provider's first callback), newest request first."""
    payments = await Payment.find({"citizen_id": citizen_id}).to_list()
    known = {p.reference for p in payments}
    dossiers = Dossier.get_pymongo_collection().find(
        {"citizen_id": citizen_id}, {"code": 1, "service_code": 1, "payment": 1}
    )
    async for raw in dossiers:
        summary = PaymentSummary.model_validate(raw["payment"]) if raw.get("payment") else None
        if summary is not None and summary.state == "pending" and summary.reference not in known:
            payments.append(Payment.model_validate(_request(citizen_id, raw["code"], raw["service_code"], summary)))
    return sorted(payments, key=lambda p: (p.created_at, p.reference), reverse=True)
