"""Read receipts: the agency sees which notices about its dossier the citizen has read, and
how an unread critical one escalated (SMS, letter), as a sender does in Italy's App IO. What
the citizen read, and when, is the citizen's data: each look is in their access log."""

from __future__ import annotations

from datetime import datetime

import msgspec

from app.dossiers import store
from app.dossiers.events import record_agency_reads
from app.security import Principal
from models.dossier import Dossier


class EscalationStepOut(msgspec.Struct):
    step: str
    at: datetime
    outcome: str


class NoticeReceiptOut(msgspec.Struct):
    kind: str
    status: str | None
    created_at: datetime
    read_at: datetime | None
    # Critical: unread, it goes by SMS (and a legal one by letter) at the procedure's times.
    critical: bool
    escalation: list[EscalationStepOut]


async def receipts(principal: Principal, dossier: Dossier) -> list[NoticeReceiptOut]:
    out = [
        NoticeReceiptOut(
            kind=raw["kind"],
            status=(raw.get("data") or {}).get("status"),
            created_at=raw["created_at"],
            read_at=raw.get("read_at"),
            critical=raw.get("escalation") is not None,
            escalation=[
                EscalationStepOut(s["step"], s["at"], s["outcome"])
                for s in (raw.get("escalation") or {}).get("steps", [])
            ],
        )
        async for raw in store.dossier_notices(dossier)
    ]
    await record_agency_reads(principal, [dossier], action="notices.read")
    return out
