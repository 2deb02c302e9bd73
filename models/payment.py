"""Payment requests for dossier fees and postage, and the provider callbacks already seen."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.retention import DAY, PAYMENT_DAYS, PAYMENT_NONCE_DAYS

PaymentStatus = Literal["pending", "paid", "cancelled", "refund_due"]


class PaymentLine(BaseModel):
    kind: Literal["fee", "postage"]
    amount_vnd: int


class PaymentAttempt(BaseModel):
    """One answer of the provider about this payment (a failed card, then a success, ...)."""

    transaction_id: str
    outcome: Literal["paid", "failed"]
    at: datetime
    amount_vnd: int
    reason: str | None = None


class Payment(Document):
    # Our reference, given to the provider; derived from the dossier code, so creating the
    # request twice (a retried submission, a crash and a replay) makes one payment.
    reference: str
    citizen_id: PydanticObjectId
    dossier_code: str
    service_code: str
    lines: list[PaymentLine]
    amount_vnd: int
    status: PaymentStatus = "pending"
    created_at: datetime = Field(default_factory=utcnow)
    paid_at: datetime | None = None
    provider_transaction_id: str | None = None
    attempts: list[PaymentAttempt] = Field(default_factory=list)

    class Settings:
        name = "payments"
        indexes = [
            IndexModel([("reference", pymongo.ASCENDING)], unique=True),
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            # Retention (models/retention.py): accounting records, ten years.
            IndexModel([("created_at", pymongo.ASCENDING)], name="payment_ttl", expireAfterSeconds=PAYMENT_DAYS * DAY),
        ]


class CallbackNonce(Document):
    """A provider callback's nonce, kept past the signature's age limit: the same callback
    sent again is refused, and one older than the limit is refused by its timestamp."""

    nonce: str
    reference: str
    received_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "payment_callback_nonces"
        indexes = [
            IndexModel([("nonce", pymongo.ASCENDING)], unique=True),
            IndexModel([("received_at", pymongo.ASCENDING)], expireAfterSeconds=PAYMENT_NONCE_DAYS * DAY),
        ]
