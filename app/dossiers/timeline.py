"""GET /api/v1/me/timeline: everything that happened to the citizen's dossiers, payments,
deliveries and wallet, in one list, newest first.

The timeline is read, not stored: each dossier already holds its history, parcel updates and
apologies; payments their attempts; the wallet its documents. Merging them at read time
means nothing can be half-written between a change and its timeline entry. A citizen has
tens of dossiers, not millions, so one read of each source per page is cheap.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId

from app.catalogue.service import procedures
from app.dossiers import store
from app.dossiers.schemas import TimelineItemOut
from app.errors import FieldProblem, Text, invalid_input
from app.i18n import Language
from app.pagination import Page
from models.catalogue import Service
from models.document_types import type_names
from models.dossier import Dossier
from models.payment import Payment
from models.wallet import WalletDocument

# How far back each source is read for one citizen.
SOURCE_CAP = 1000

STATUS_LABELS: dict[str, Text] = {
    "submitted": Text("đã nộp", "submitted"),
    "received": Text("đã được tiếp nhận", "received"),
    "processing": Text("đang được xử lý", "being processed"),
    "supplement_required": Text("cần bổ sung", "needs more information"),
    "approved": Text("đã được phê duyệt", "approved"),
    "rejected": Text("không được chấp thuận", "not approved"),
    "result_ready": Text("đã có kết quả", "result ready"),
    "completed": Text("đã hoàn thành", "completed"),
    "withdrawn": Text("đã rút", "withdrawn"),
}
DELIVERY_LABELS: dict[str, Text] = {
    "accepted": Text("bưu điện đã nhận kết quả", "the post picked up the result"),
    "in_transit": Text("kết quả đang được chuyển", "the result is on its way"),
    "delivered": Text("đã giao kết quả", "the result was delivered"),
    "returned": Text("chưa giao được, đã chuyển trả cơ quan", "could not be delivered, returned to the agency"),
}


@dataclass
class _Item:
    at: datetime
    key: str
    out: TimelineItemOut


def _cursor(item: _Item) -> str:
    return base64.urlsafe_b64encode(f"{int(item.at.timestamp() * 1000)}|{item.key}".encode()).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[int, str]:
    try:
        millis, _, key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        return int(millis), key
    except (ValueError, UnicodeDecodeError):
        raise invalid_input(
            [
                FieldProblem(
                    "cursor",
                    Text(
                        "Con trỏ trang không hợp lệ; hãy bỏ nó để đọc từ đầu.",
                        "Invalid cursor; omit it to start from the first page.",
                    ),
                )
            ]
        ) from None


def _amount(amount: int, language: Language) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng" if language == "vi" else f"{amount:,} VND"


def _dossier_items(dossier: Dossier, service: Service | None, language: Language) -> list[_Item]:
    name = service.name.pick(language) if service else dossier.service_code
    code = dossier.code
    items: list[_Item] = []
    for n, entry in enumerate(dossier.history):
        label = STATUS_LABELS.get(entry.status.value, Text(entry.status.value, entry.status.value)).render(language)
        step = service.step(entry.status) if service else None
        items.append(
            _Item(
                entry.at,
                f"{code}:h:{n:03d}",
                TimelineItemOut(
                    at=entry.at,
                    kind="dossier_status",
                    title=f"{name} ({code}): {label}",
                    dossier_code=code,
                    status=entry.status.value,
                    detail=entry.note or (step.text.pick(language) if step else None),
                ),
            )
        )
    if dossier.payment is not None:
        title = Text("Yêu cầu thanh toán {a}", "Payment of {a} requested").render(
            language, a=_amount(dossier.payment.amount_vnd, language)
        )
        items.append(
            _Item(
                dossier.payment.requested_at,
                f"{code}:p",
                TimelineItemOut(
                    at=dossier.payment.requested_at,
                    kind="payment_requested",
                    title=f"{name} ({code}): {title}",
                    dossier_code=code,
                ),
            )
        )
    for n, update in enumerate(dossier.shipment.updates if dossier.shipment else []):
        label = DELIVERY_LABELS.get(update.status, Text(update.status, update.status)).render(language)
        items.append(
            _Item(
                update.at,
                f"{code}:s:{n:03d}",
                TimelineItemOut(
                    at=update.at,
                    kind="delivery_update",
                    title=f"{name} ({code}): {label}",
                    dossier_code=code,
                    status=update.status,
                    detail=update.location,
                ),
            )
        )
    for apology in dossier.apologies:
        title = Text("trễ hạn, ngày hẹn mới {d}", "late, new expected date {d}").render(
            language, d=f"{apology.new_expected_at:%Y-%m-%d}"
        )
        items.append(
            _Item(
                apology.at,
                f"{code}:a:{apology.number:03d}",
                TimelineItemOut(
                    at=apology.at, kind="dossier_overdue", title=f"{name} ({code}): {title}", dossier_code=code
                ),
            )
        )
    return items


def _payment_items(payment: Payment, language: Language) -> list[_Item]:
    items: list[_Item] = []
    for n, attempt in enumerate(payment.attempts):
        paid = attempt.outcome == "paid"
        title = (
            Text("Đã thanh toán {a}", "Paid {a}")
            if paid
            else Text("Thanh toán {a} không thành công", "Payment of {a} failed")
        ).render(language, a=_amount(attempt.amount_vnd, language))
        items.append(
            _Item(
                attempt.at,
                f"{payment.dossier_code}:t:{n:03d}",
                TimelineItemOut(
                    at=attempt.at,
                    kind="payment_confirmed" if paid else "payment_failed",
                    title=f"{payment.dossier_code}: {title}",
                    dossier_code=payment.dossier_code,
                    detail=attempt.reason,
                ),
            )
        )
    return items


DOCUMENT_STATUS_LABELS: dict[str, Text] = {
    "valid": Text("{t} có hiệu lực trở lại", "{t} is valid again"),
    "suspended": Text("{t} bị tạm đình chỉ", "{t} was suspended"),
    "revoked": Text("{t} bị thu hồi", "{t} was revoked"),
    "superseded": Text("{t} đã được thay bằng phiên bản mới", "{t} was replaced by a new version"),
}


def _document_items(document: WalletDocument, language: Language) -> list[_Item]:
    vi, en = type_names(document.type)
    name = en if language == "en" else vi
    items = [_document_item(document, language)]
    for n, change in enumerate(document.history):
        label = DOCUMENT_STATUS_LABELS.get(change.status, Text("{t}: " + change.status, "{t}: " + change.status))
        items.append(
            _Item(
                change.at,
                f"doc:{document.id}:{n:03d}",
                TimelineItemOut(
                    at=change.at,
                    kind="document_status",
                    title=label.render(language, t=name),
                    status=change.status,
                    document_id=str(document.id),
                    detail=change.reason,
                ),
            )
        )
    return items


ESCALATION_LABELS: dict[tuple[str, str], Text] = {
    ("sms", "sent"): Text(
        "Đã nhắn SMS về một thông báo quan trọng chưa đọc", "An SMS about an unread important notice"
    ),
    ("sms", "failed"): Text(
        "Không gửi được SMS về một thông báo quan trọng chưa đọc", "An SMS about an unread important notice failed"
    ),
    ("sms", "rate_limited"): Text(
        "Chưa nhắn SMS về một thông báo chưa đọc: đã đủ số tin trong ngày",
        "No SMS about an unread notice: today's texts were already sent",
    ),
    ("sms", "no_phone"): Text(
        "Chưa nhắn SMS về một thông báo chưa đọc: chưa có số điện thoại",
        "No SMS about an unread notice: no phone number on record",
    ),
    ("letter", "posted"): Text(
        "Thông báo quan trọng chưa đọc được gửi bằng thư bảo đảm qua bưu điện",
        "The unread important notice goes to you by registered letter",
    ),
}


def _escalation_items(notification: dict[str, Any], language: Language) -> list[_Item]:
    """Each escalation step of an unread critical notice (app/escalation)."""
    data = notification.get("data") or {}
    items: list[_Item] = []
    for n, step in enumerate((notification.get("escalation") or {}).get("steps", [])):
        label = ESCALATION_LABELS.get((step["step"], step["outcome"]), Text(step["step"], step["step"]))
        code = data.get("dossier_code")
        title = label.render(language)
        items.append(
            _Item(
                step["at"],
                f"notice:{notification['_id']}:{n:02d}",
                TimelineItemOut(
                    at=step["at"],
                    kind=f"notice_{step['step']}",
                    title=f"{title} ({code})" if code else title,
                    dossier_code=code,
                    status=step["outcome"],
                    document_id=data.get("document_id"),
                ),
            )
        )
    return items


def _document_item(document: WalletDocument, language: Language) -> _Item:
    vi, en = type_names(document.type)
    title = Text("{t} đã được thêm vào ví", "{t} added to your wallet").render(
        language, t=en if language == "en" else vi
    )
    return _Item(
        document.issued_at,
        f"doc:{document.id}",
        TimelineItemOut(
            at=document.issued_at,
            kind="document_issued",
            title=title,
            document_id=str(document.id),
            dossier_code=document.dossier_code,
        ),
    )


async def timeline(
    citizen_id: PydanticObjectId, language: Language, cursor: str | None, limit: int
) -> Page[TimelineItemOut]:
    dossiers, payments, documents = await store.timeline_sources(citizen_id, SOURCE_CAP)
    services = await procedures({d.service_code for d in dossiers})
    items: list[_Item] = []
    for dossier in dossiers:
        items += _dossier_items(dossier, services.get(dossier.service_code), language)
    for payment in payments:
        items += _payment_items(payment, language)
    for document in documents:
        if not document.renewal_pending:
            items += _document_items(document, language)
    async for notification in store.escalated_notices(citizen_id, SOURCE_CAP):
        items += _escalation_items(notification, language)
    items.sort(key=lambda i: (i.at, i.key), reverse=True)
    if cursor:
        millis, key = _parse_cursor(cursor)
        edge = (datetime.fromtimestamp(millis / 1000, UTC), key)
        items = [i for i in items if (i.at.replace(microsecond=i.at.microsecond // 1000 * 1000), i.key) < edge]
    page = items[:limit]
    return Page(items=[i.out for i in page], next_cursor=_cursor(page[-1]) if len(items) > limit else None)
