"""Signing wallet documents: a canonical form, an Ed25519 signature over it, and its check.

The signature is a JWS (RFC 7515) whose payload is the document's public content written as
RFC 8785 canonical JSON. Only the signature and the key id are stored; the header and the
payload are rebuilt from the document, so `compact_jws` gives a token any JOSE library can
verify with the keys at /.well-known/jwks.json. Status (revoked, suspended) is deliberately
not signed: it changes after issue and is answered online (docs/decisions/0007).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature

from app.wallet import keys, store
from app.wallet.keys import ActiveKey, b64url_decode, b64url_encode
from models.common import utcnow
from models.wallet import DocumentProof, Holder, WalletDocument

DOCUMENT_TYP = "cwallet-document+jws"
# Every integer up to this is exact in the IEEE doubles RFC 8785 is written for.
_MAX_EXACT_INT = 2**53


def _number(value: float) -> str:
    """A float as ECMAScript's Number.prototype.toString writes it (RFC 8785, section 3.2.2.3)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinity have no canonical JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    exact = Decimal(repr(abs(value))).normalize()
    digits = "".join(str(d) for d in exact.as_tuple().digits)
    exponent = int(exact.as_tuple().exponent)
    count, point = len(digits), len(digits) + exponent
    if count <= point <= 21:
        text = digits + "0" * (point - count)
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        power = point - 1
        mantissa = digits[0] + ("." + digits[1:] if count > 1 else "")
        text = f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"
    return sign + text


def _canonical(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) <= _MAX_EXACT_INT:
            return str(value)
        # RFC 8785 numbers are IEEE doubles (I-JSON): a larger integer is written as the double
        # a JSON parser would read it as, so the text stays a fixed point.
        if abs(value) >= 2**1024:
            raise ValueError("integer too large for a double has no canonical JSON form")
        return _number(float(value))
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ValueError("canonical JSON object keys must be strings")
        # RFC 8785 orders members by the UTF-16 code units of their names.
        ordered = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _canonical(v) for k, v in ordered) + "}"
    raise ValueError(f"{type(value).__name__} has no canonical JSON form")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON value."""
    return _canonical(value).encode("utf-8")


def rfc3339_ms(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def signed_content(document: WalletDocument) -> dict[str, Any]:
    """What the signature covers: everything the document says, nothing that changes later."""
    return {
        "id": str(document.id),
        "type": document.type,
        "number": document.number,
        "issuer": document.issuer,
        "issued_at": rfc3339_ms(document.issued_at),
        "valid_from": document.valid_from,
        "valid_until": document.valid_until,
        "holder": document.holder.model_dump() if document.holder else None,
        "fields": document.fields,
        "version": document.version,
        "supersedes": str(document.supersedes) if document.supersedes else None,
    }


def _signing_input(kid: str, document: WalletDocument) -> bytes:
    header = {"alg": "EdDSA", "kid": kid, "typ": DOCUMENT_TYP}
    payload = canonical_json(signed_content(document))
    return f"{b64url_encode(canonical_json(header))}.{b64url_encode(payload)}".encode("ascii")


def sign_with(key: ActiveKey, document: WalletDocument) -> DocumentProof:
    signature = key.private.sign(_signing_input(key.kid, document))
    return DocumentProof(kid=key.kid, signature=b64url_encode(signature), signed_at=utcnow())


async def sign(document: WalletDocument) -> DocumentProof:
    return sign_with(await keys.active_key(), document)


def compact_jws(document: WalletDocument) -> str:
    """The signed document as one compact JWS: header.payload.signature."""
    assert document.proof is not None
    return _signing_input(document.proof.kid, document).decode("ascii") + "." + document.proof.signature


async def verify(document: WalletDocument) -> bool:
    """Whether the stored document still matches its signature, under a published key."""
    if document.proof is None:
        return False
    public = await keys.public_key(document.proof.kid)
    if public is None:
        return False
    try:
        public.verify(b64url_decode(document.proof.signature), _signing_input(document.proof.kid, document))
    except (InvalidSignature, ValueError):
        return False
    return True


async def holder_of(citizen_id: Any) -> Holder | None:
    citizen = await store.citizen(citizen_id)
    if citizen is None:
        return None
    return Holder(national_id=citizen.national_id, full_name=citizen.full_name, date_of_birth=citizen.date_of_birth)


async def ensure_signed(document: WalletDocument) -> WalletDocument:
    """Sign a document issued before signing existed; the first writer wins, the rest reload."""
    if document.proof is not None:
        return document
    document.holder = document.holder or await holder_of(document.citizen_id)
    document.lineage_id = document.lineage_id or document.id
    proof = await sign(document)
    written = await store.update_document(
        document.id,
        {"proof": None},
        {
            "$set": {
                "proof": proof.model_dump(),
                "holder": document.holder.model_dump() if document.holder else None,
                "lineage_id": document.lineage_id,
            }
        },
        citizen_id=document.citizen_id,
    )
    if not written:
        reloaded = await store.document(document.id)
        assert reloaded is not None
        return reloaded
    document.proof = proof
    return document


async def sign_unsigned(batch: int = 500) -> int:
    """Sign every document that has no signature yet (`cwallet keys sign-unsigned`)."""
    signed = 0
    while True:
        found = await store.unsigned(batch)
        if not found:
            return signed
        for document in found:
            await ensure_signed(document)
            signed += 1
