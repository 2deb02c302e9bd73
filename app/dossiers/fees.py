"""What a payment changes on a dossier: the functions the provider's callback calls.

The callback (app/payments/service.py) checks the provider's message and records it in the
ledger; the dossier's side (its payment state, its clock, the citizen's notice) is written
here through the dossier store. So payments' callback imports dossiers, and dossiers import
only the ledger (app/payments/ledger.py), never the callback (decision 0024).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.dossiers import deadlines, store
from app.errors import not_found
from app.payments.ledger import PAYMENT, amount_params
from models.common import utcnow
from models.dossier import Dossier, OutboxEntry
from models.webhook import FEE_PAID, agency_event


async def by_payment_reference(reference: str) -> Dossier:
    dossier = await store.by_payment_reference(reference)
    if dossier is None:
        raise not_found(PAYMENT)
    return dossier


async def tell_payment_failed(reference: str, transaction_id: str) -> Dossier:
    """Tell the citizen a payment attempt failed, while the dossier still waits for payment."""
    notice = OutboxEntry(key=f"payment:{reference}:{transaction_id}", kind="payment_failed")

    async def tell(dossier: Dossier) -> Dossier | None:
        if dossier.payment is None or dossier.payment.state != "pending":
            return dossier
        notice.status = dossier.status
        return await store.write(dossier, {"$push": {"outbox": notice.model_dump()}})

    told: Dossier = await store.retrying(lambda: by_payment_reference(reference), tell)
    return told


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

    paid: Dossier = await store.retrying(lambda: by_payment_reference(reference), attempt)
    return paid
