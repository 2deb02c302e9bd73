"""The public post: picking up results and reporting where each parcel is.

The postal operator is a machine client of its own (`postal:<code>` tokens). It lists the
parcels waiting for it and posts tracking updates (`accepted`, `in_transit`, `delivered`,
`returned`), each idempotent by `event_id`. A delivery completes the dossier, unless a fee
due before completion is still unpaid. Every update reaches the citizen as a push.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from litestar.security.jwt import JWTAuth, Token

from app.audit import store as audit_store
from app.catalogue.service import service_of
from app.dossiers import store, transitions
from app.dossiers.transitions import Move
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.pagination import Page, cursor_filter, next_cursor
from app.postal import store as postal_store
from app.postal.schemas import PostalTokenOut, ShipmentOut, TrackingOut, TrackingUpdateIn
from app.security import AUDIENCES, ISSUER, Principal, hash_password, verify_password
from models.audit import AccessRecord
from models.catalogue import Service
from models.common import utcnow
from models.dossier import Dossier, OutboxEntry, TrackingUpdate
from models.dossier_status import DossierStatus
from models.postal import PostalOperator

TOKEN_MINUTES = 60
# Where a parcel may go from where it is. `in_transit` repeats: one update per sorting centre.
NEXT: dict[str, frozenset[str]] = {
    "awaiting_pickup": frozenset({"accepted"}),
    "accepted": frozenset({"in_transit", "delivered", "returned"}),
    "in_transit": frozenset({"in_transit", "delivered", "returned"}),
}

BAD_CLIENT = AppError(
    401,
    "bad-client-credentials",
    Text("Sai thông tin ứng dụng", "Bad client credentials"),
    Text("client_id hoặc client_secret không đúng.", "The client_id or client_secret is wrong."),
)


async def create_operator(code: str, name: str) -> dict[str, str]:
    client_id = f"{code.lower()}-{secrets.token_hex(4)}"
    client_secret = secrets.token_urlsafe(32)
    await postal_store.insert_operator(
        PostalOperator(code=code, name=name, client_id=client_id, client_secret_hash=hash_password(client_secret))
    )
    return {"code": code, "client_id": client_id, "client_secret": client_secret}


async def issue_token(jwt_auth: JWTAuth[Principal, Token], client_id: str, client_secret: str) -> PostalTokenOut:
    operator = await postal_store.operator_by_client_id(client_id)
    if not verify_password(operator.client_secret_hash if operator else None, client_secret) or operator is None:
        raise BAD_CLIENT
    token = jwt_auth.create_token(
        identifier=f"postal:{operator.code}",
        token_expiration=timedelta(minutes=TOKEN_MINUTES),
        token_issuer=ISSUER,
        token_audience=AUDIENCES["postal"],
        token_unique_jwt_id=secrets.token_hex(8),
    )
    return PostalTokenOut(access_token=token, expires_in=TOKEN_MINUTES * 60)


async def _record_reads(principal: Principal, dossiers: list[Dossier], action: str) -> None:
    if dossiers:
        await audit_store.insert_records(
            [
                AccessRecord(
                    citizen_id=d.citizen_id,
                    actor_kind="postal",
                    actor_id=principal.id,
                    action=action,
                    target=d.code,
                    reason="delivery",
                )
                for d in dossiers
            ]
        )


def _shipment_out(dossier: Dossier, citizen: dict[str, Any] | None) -> ShipmentOut:
    assert dossier.shipment is not None
    return ShipmentOut(
        dossier_code=dossier.code,
        status=dossier.shipment.status,
        recipient_name=citizen["full_name"] if citizen else "",
        address=dossier.delivery.address or "",
        created_at=dossier.shipment.created_at,
        tracking_number=dossier.shipment.tracking_number,
        dossier_status=dossier.status.value,
        updates=[
            TrackingOut(status=u.status, at=u.at, location=u.location, note=u.note) for u in dossier.shipment.updates
        ],
    )


async def _views(principal: Principal, dossiers: list[Dossier]) -> list[ShipmentOut]:
    # The post sees a name and an address: that is a read of the citizen's data, on record.
    await _record_reads(principal, dossiers, "shipment.read")
    citizens = await store.applicants({d.citizen_id for d in dossiers})
    return [_shipment_out(d, citizens.get(d.citizen_id)) for d in dossiers]


async def shipments(principal: Principal, status: str | None, cursor: str | None, limit: int) -> Page[ShipmentOut]:
    query: dict[str, Any] = {"shipment.status": status or "awaiting_pickup", **cursor_filter(cursor, descending=False)}
    found = await postal_store.oldest_first(query, limit)
    return Page(items=await _views(principal, found), next_cursor=next_cursor([d.id for d in found], limit))


async def _load(code: str) -> Dossier:
    dossier = await postal_store.parcel(code)
    if dossier is None:
        raise not_found(Text("bưu gửi", "parcel"))
    return dossier


def move_refused(current: str, target: str) -> AppError:
    allowed = sorted(NEXT.get(current, frozenset()))
    return AppError(
        409,
        "tracking-move-not-allowed",
        Text("Cập nhật hành trình không hợp lệ", "Tracking update not allowed"),
        Text(
            "Bưu gửi đang ở trạng thái '{current}', không thể chuyển sang '{target}'. Cập nhật được phép: {allowed}.",
            "The parcel is '{current}' and cannot become '{target}'. Allowed updates: {allowed}.",
        ),
        params={"current": current, "target": target, "allowed": ", ".join(allowed) or "-"},
        extra={"allowed_next": allowed},
    )


async def post_update(principal: Principal, code: str, data: TrackingUpdateIn) -> ShipmentOut:
    """Apply one tracking update; the same `event_id` again changes nothing."""
    event_key = f"postal:{data.event_id}"
    service = await service_of((await _load(code)).service_code)
    if data.status == "accepted" and not data.tracking_number:
        raise invalid_input(
            [
                FieldProblem(
                    "tracking_number",
                    Text(
                        "Khi nhận bưu gửi, hãy gửi kèm số hiệu bưu gửi để công dân tra cứu.",
                        "When accepting the parcel, send its tracking number so the citizen can follow it.",
                    ),
                )
            ]
        )

    async def attempt(dossier: Dossier) -> Dossier | None:
        assert dossier.shipment is not None
        if event_key in dossier.event_ids:
            return dossier
        if data.status not in NEXT.get(dossier.shipment.status, frozenset()):
            raise move_refused(dossier.shipment.status, data.status)
        now = utcnow()
        update_entry = TrackingUpdate(
            event_id=data.event_id, status=data.status, at=now, location=data.location, note=data.note
        )
        sets: dict[str, Any] = {"shipment.status": data.status, "shipment.operator": principal.id}
        if data.tracking_number:
            sets["shipment.tracking_number"] = data.tracking_number
        outbox = [
            OutboxEntry(
                key=f"delivery:{dossier.code}:{data.event_id}",
                kind="delivery_update",
                status=dossier.status,
                params={"delivery_status": data.status},
            )
        ]
        push: dict[str, Any] = {"shipment.updates": update_entry.model_dump()}
        condition = {"shipment.status": dossier.shipment.status}
        if data.status == "delivered" and _can_complete(service, dossier):
            move = Move("postal", DossierStatus.COMPLETED, f"postal:{principal.id}", event_key=event_key)
            return await transitions.apply(
                dossier,
                service,
                move,
                update={"$set": sets, "$push": push},
                outbox=outbox,
                condition=condition,
                now=now,
            )
        push["event_ids"] = event_key
        push["outbox"] = {"$each": [n.model_dump() for n in outbox]}
        return await store.write(dossier, {"$set": sets, "$push": push}, {**condition, "event_ids": {"$ne": event_key}})

    dossier: Dossier = await store.retrying(lambda: _load(code), attempt)
    return (await _views(principal, [dossier]))[0]


def _can_complete(service: Service, dossier: Dossier) -> bool:
    if not transitions.allows(service, "postal", dossier.status, DossierStatus.COMPLETED):
        return False
    payment = dossier.payment
    return payment is None or payment.state == "paid"


DEMO_POSTAL = {"code": "VNPOST", "name": "Bưu điện Việt Nam (demo)", "client_id": "demo-vnpost"}
DEMO_POSTAL_SECRET = "demo-postal-secret-2026"


async def seed_demo_operator() -> dict[str, str]:
    """The demo postal operator of `cwallet seed-demo`, with fixed credentials."""
    await postal_store.upsert_operator(
        DEMO_POSTAL["code"],
        {
            "name": DEMO_POSTAL["name"],
            "client_id": DEMO_POSTAL["client_id"],
            "client_secret_hash": hash_password(DEMO_POSTAL_SECRET),
        },
        {"code": DEMO_POSTAL["code"], "created_at": utcnow()},
    )
    return {"code": DEMO_POSTAL["code"], "client_id": DEMO_POSTAL["client_id"], "client_secret": DEMO_POSTAL_SECRET}
