from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

ClaimName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class PresentationIn(msgspec.Struct):
    # Which claims the verifier may see; anything not named here is left out of the token.
    disclose: Annotated[list[ClaimName], msgspec.Meta(max_length=32)]
    ttl_seconds: Annotated[int, msgspec.Meta(ge=30, le=600)] = 120
    # Accepted once by the online check (offline verifiers cannot know it was used).
    single_use: bool = False


class PresentationOut(msgspec.Struct):
    id: str
    document_id: str
    # A compact JWS: put it in a QR code as it is.
    token: str
    expires_at: datetime
    single_use: bool
    disclosed: dict[str, Any]


class VerifyIn(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=8192)]
    # Who checks, as they name themselves (unverified): shown in the citizen's access history.
    verifier: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class VerifiedPresentationOut(msgspec.Struct):
    id: str
    issued_at: datetime
    expires_at: datetime
    single_use: bool


class VerifiedDocumentOut(msgspec.Struct):
    type: str
    type_name: str
    issuer: str
    status: str
    valid_until: date | None


class VerificationOut(msgspec.Struct):
    verified: bool
    message: str
    checked_at: datetime
    presentation: VerifiedPresentationOut
    document: VerifiedDocumentOut
    # Exactly the claims the holder chose to disclose.
    claims: dict[str, Any]
