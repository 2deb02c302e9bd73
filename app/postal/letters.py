"""Registered letters of legal notices a citizen did not read in the app (app/escalation): the
operator lists those waiting, prints and carries them. Each listing is a read of the citizen's
name and address by the post, recorded in the citizen's access log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from bson import ObjectId
from bson.errors import InvalidId

from app.audit import store as audit_store
from app.dossiers.store import CONCURRENT_UPDATE
from app.errors import Text, not_found
from app.pagination import Page, cursor_filter, next_cursor
from app.postal import store
from app.postal.service import NEXT, move_refused
from app.security import Principal
from models.audit import AccessRecord
from models.common import utcnow
from models.postal import LetterUpdate, PostalLetter

LETTER = Text("thư", "letter")


class LetterUpdateIn(msgspec.Struct, forbid_unknown_fields=True):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    status: Literal["accepted", "in_transit", "delivered", "returned"]
    location: Annotated[str, msgspec.Meta(max_length=200)] | None = None


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


def _out(letter: PostalLetter) -> LetterOut:
    return LetterOut(
        id=str(letter.id),
        recipient_name=letter.recipient_name,
        address=letter.address,
        notice=letter.notice,
        dossier_code=letter.dossier_code,
        status=letter.status,
        created_at=letter.created_at,
    )


async def update(letter_id: str, data: LetterUpdateIn) -> LetterOut:
    """Where the letter is, as parcels are tracked (app/postal/service.py's moves); the same
    `event_id` again changes nothing."""
    try:
        oid = ObjectId(letter_id)
    except (InvalidId, TypeError):
        raise not_found(LETTER) from None
    letter = await store.letter(oid)
    if letter is None:
        raise not_found(LETTER)
    if data.event_id in letter.event_ids:
        return _out(letter)
    if data.status not in NEXT.get(letter.status, frozenset()):
        raise move_refused(letter.status, data.status)
    step = LetterUpdate(event_id=data.event_id, status=data.status, at=utcnow(), location=data.location)
    moved = await store.move_letter(oid, letter.status, data.event_id, data.status, step.model_dump())
    after = await store.letter(oid)
    assert after is not None
    if not moved and data.event_id not in after.event_ids:
        raise CONCURRENT_UPDATE
    return _out(after)


async def letters(principal: Principal, status: str | None, cursor: str | None, limit: int) -> Page[LetterOut]:
    query: dict[str, Any] = {"status": status or "awaiting_pickup", **cursor_filter(cursor, descending=False)}
    found = await store.oldest_letters(query, limit)
    if found:
        await audit_store.insert_records(
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
    return Page(
        items=[_out(letter) for letter in found], next_cursor=next_cursor([letter.id for letter in found], limit)
    )
