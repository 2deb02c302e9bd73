from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class DocumentIn(msgspec.Struct):
    type: Code
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    valid_from: date
    fields: dict[str, Any] = {}
    valid_until: date | None = None


class IssueDocumentIn(msgspec.Struct):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    national_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    type: Code
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    valid_from: date
    fields: dict[str, Any] = {}
    valid_until: date | None = None

    def document(self) -> DocumentIn:
        return DocumentIn(
            type=self.type,
            number=self.number,
            valid_from=self.valid_from,
            fields=self.fields,
            valid_until=self.valid_until,
        )


class DocumentOut(msgspec.Struct):
    id: str
    type: str
    number: str
    issuer: str
    issued_at: datetime
    valid_from: date
    valid_until: date | None
    status: str
    fields: dict[str, Any]
