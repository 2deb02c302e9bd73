"""Registered letters of legal notices a citizen did not read in the app (app/escalation): the
operator lists those waiting, prints and carries them. Each listing is a read of the citizen's
name and address by the post, recorded in the citizen's access log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from app.pagination import Page, cursor_filter, next_cursor
from app.security import Principal
from models.audit import AccessRecord
from models.postal import PostalLetter


class LetterOut(msgspec.Struct):
    id: str
    recipient_name: str
    # None: the post takes the permanent residence from the national population register.
    address: str | None
    # The notice it carries: supplement_required, document_revoked, ...; the dossier code if any.
    notice: str
    dossier_code: str | None
    status: str
    created_at: datetime


async def letters(principal: Principal, status: str | None, cursor: str | None, limit: int) -> Page[LetterOut]:
    query: dict[str, Any] = {"status": status or "awaiting_pickup", **cursor_filter(cursor, descending=False)}
    found = await PostalLetter.find(query).sort("+_id").limit(limit).to_list()
    if found:
        await AccessRecord.insert_many(
            [
                AccessRecord(
                    citizen_id=letter.citizen_id,
                    actor_kind="postal",
                    actor_id=principal.id,
                    action="letter.read",
                    target=letter.dossier_code or letter.notice,
                    reason="delivery",
                )
                for letter in found
            ]
        )
    items = [
        LetterOut(
            id=str(letter.id),
            recipient_name=letter.recipient_name,
            address=letter.address,
            notice=letter.notice,
            dossier_code=letter.dossier_code,
            status=letter.status,
            created_at=letter.created_at,
        )
        for letter in found
    ]
    return Page(items=items, next_cursor=next_cursor([letter.id for letter in found], limit))
