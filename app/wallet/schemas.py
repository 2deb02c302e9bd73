from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Number = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class DocumentIn(msgspec.Struct):
    type: Code
    number: Number
    valid_from: date
    fields: dict[str, Any] = {}
    valid_until: date | None = None


class IssueDocumentIn(msgspec.Struct):
    event_id: EventId
    national_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    type: Code
    number: Number
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


class RenewalIn(msgspec.Struct):
    """A new version of a document. `number` and `fields` default to the current version's."""

    event_id: EventId
    valid_from: date
    valid_until: date | None = None
    number: Number | None = None
    fields: dict[str, Any] | None = None


class DocumentEventIn(msgspec.Struct):
    """A status event: suspend, revoke, or make a suspended document valid again."""

    event_id: EventId
    status: Literal["suspended", "revoked", "valid"]
    reason: Reason | None = None


class ProofOut(msgspec.Struct):
    alg: str
    kid: str
    signature: str


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
    # Why it is revoked or suspended (the agency's words), when it is.
    status_reason: str | None = None
    version: int = 1
    supersedes: str | None = None
    superseded_by: str | None = None
    proof: ProofOut | None = None


class SignedDocumentOut(msgspec.Struct):
    """The document as one compact JWS (RFC 7515): verify it with /.well-known/jwks.json."""

    document_id: str
    kid: str
    alg: str
    jws: str


class FieldSpecOut(msgspec.Struct):
    name: str
    required: bool


class DocumentTypeOut(msgspec.Struct):
    code: str
    name: str
    sensitive: bool
    fields: list[FieldSpecOut]
    # JSON Schema of `fields`, for agency systems that validate before sending.
    fields_schema: dict[str, Any]
    disclosable: list[str]
