"""What support staff may see without the citizen's consent code: enough to recognise the
person in front of them, not enough to impersonate them."""

from __future__ import annotations

from datetime import date

from app.support.schemas import MaskedCitizen, MaskedDocument
from models.citizen import Citizen
from models.wallet import WalletDocument

VISIBLE_TAIL = 3


def tail(value: str, keep: int = VISIBLE_TAIL) -> str:
    return "*" * max(len(value) - keep, 0) + value[-keep:]


def initials(full_name: str) -> str:
    """'Nguyễn Văn An' → 'N*** V*** A***': the shape of the name, not the name."""
    return " ".join(f"{word[0]}***" for word in full_name.split() if word)


def masked_citizen(citizen: Citizen) -> MaskedCitizen:
    return MaskedCitizen(
        national_id=tail(citizen.national_id),
        full_name=initials(citizen.full_name),
        birth_year=int(citizen.date_of_birth[:4]),
        phone=tail(citizen.phone),
        eid_level=citizen.eid_level,
    )


def masked_document(document: WalletDocument, today: date) -> MaskedDocument:
    return MaskedDocument(
        type=document.type,
        number=tail(document.number),
        issuer=document.issuer,
        status=document.shown_status(today),
        valid_until=date.fromisoformat(document.valid_until) if document.valid_until else None,
    )
