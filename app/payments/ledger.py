"""The payment ledger (models/payment.py): the one module of payments that touches the store.

A ledger entry is derived from the dossier's payment summary by reference, so it can always
be recreated. This module imports no dossier code: dossiers call it when a dossier with a fee
is submitted or withdrawn, and the callback (app/payments/service.py) records what the
provider said through it (decision 0024: dossiers → payments.ledger, payments.service → dossiers).
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.errors import Text
from models.dossier import Dossier
from models.payment import CallbackNonce, Payment, PaymentAttempt, PaymentLine

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
    return await Payment.find({"citizen_id": citizen_id}).sort("-_id").to_list()
