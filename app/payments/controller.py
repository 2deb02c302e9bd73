from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK

from app.config import Settings
from app.payments import ledger, service
from app.payments.signing import SIGNATURE_HEADER
from app.security import AnyRequest, PrincipalRequest, citizen_only


class PaymentLineOut(msgspec.Struct):
    kind: str
    amount_vnd: int


class PaymentAttemptOut(msgspec.Struct):
    outcome: str
    at: datetime
    amount_vnd: int
    reason: str | None = None


class PaymentOut(msgspec.Struct):
    reference: str
    dossier_code: str
    service_code: str
    amount_vnd: int
    status: str
    lines: list[PaymentLineOut]
    attempts: list[PaymentAttemptOut]
    created_at: datetime
    paid_at: datetime | None = None


class PaymentListOut(msgspec.Struct):
    items: list[PaymentOut]
    next_cursor: str | None = None


class PaymentCallbackController(Controller):
    path = "/api/v1/payments"
    tags = ["payments"]

    @post("/callback", status_code=HTTP_200_OK, security=[])
    async def callback(self, request: AnyRequest, settings: NamedDependency[Settings]) -> service.CallbackOut:
        """The payment provider confirms (or reports a failed) payment. Signed: `X-Signature: sha256=<hex>`,
        an HMAC-SHA256 over the raw body with the shared secret; the body's `timestamp` and `nonce` make a
        replay useless."""
        raw = await request.body()
        answer, _ = await service.handle_callback(settings, raw, request.headers.get(SIGNATURE_HEADER))
        return answer


class CitizenPaymentController(Controller):
    path = "/api/v1/me/payments"
    tags = ["payments"]
    guards = [citizen_only]

    @get("/")
    async def list_payments(self, request: PrincipalRequest) -> PaymentListOut:
        """The citizen's payment requests and every attempt the provider reported, newest first."""
        payments = await ledger.payments_for_citizen(request.user.object_id)
        return PaymentListOut(
            items=[
                PaymentOut(
                    reference=p.reference,
                    dossier_code=p.dossier_code,
                    service_code=p.service_code,
                    amount_vnd=p.amount_vnd,
                    status=p.status,
                    lines=[PaymentLineOut(kind=line.kind, amount_vnd=line.amount_vnd) for line in p.lines],
                    attempts=[
                        PaymentAttemptOut(outcome=a.outcome, at=a.at, amount_vnd=a.amount_vnd, reason=a.reason)
                        for a in p.attempts
                    ],
                    created_at=p.created_at,
                    paid_at=p.paid_at,
                )
                for p in payments
            ]
        )
