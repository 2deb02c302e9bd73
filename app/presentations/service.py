"""Showing a document: the citizen creates a presentation; a verifier checks it online.

The online check is the offline check (app/presentations/tokens.py) plus what only the store
knows: whether the document has since been revoked, suspended, replaced or has expired,
whether a single-use code was already used, and whether the stored document still matches
its signature. Every online check of a genuine code goes into the citizen's access history.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

import structlog
from arq import ArqRedis
from beanie import PydanticObjectId

from app.audit import store as audit_store
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.i18n import Language
from app.presentations import store, tokens
from app.presentations.reasons import refusal
from app.presentations.schemas import (
    PresentationIn,
    PresentationOut,
    VerificationOut,
    VerifiedDocumentOut,
    VerifiedPresentationOut,
)
from app.wallet import keys, signing
from app.wallet.service import own_document
from app.webhooks.fanout import publish
from models.audit import AccessRecord
from models.common import utcnow
from models.document_types import type_names
from models.presentation import Presentation
from models.wallet import WalletDocument, today_in_vietnam
from models.webhook import PRESENTATION_VERIFIED

log = structlog.get_logger(__name__)
PRESENTATION = Text("mã xuất trình", "presentation")
VALID = Text(
    "Giấy tờ hợp lệ. Hãy đối chiếu thông tin được hiển thị với người xuất trình.",
    "The document is valid. Compare the information shown with the person presenting it.",
)


def presentable_claims(document: WalletDocument, status: str) -> dict[str, Any]:
    """Everything a holder may choose to disclose, by claim name: every top-level field of the
    document (`valid_until` is null for a document without an end date), the holder, and each
    of the type's fields under its own name and as `fields.<name>`."""
    claims: dict[str, Any] = {
        "id": str(document.id),
        "type": document.type,
        "number": document.number,
        "issuer": document.issuer,
        "issued_at": signing.rfc3339_ms(document.issued_at),
        "valid_from": document.valid_from,
        "valid_until": document.valid_until,
        "status": status,
        "fields": document.fields,
    }
    if document.holder is not None:
        claims |= document.holder.model_dump()
    return claims | document.fields | {f"fields.{name}": value for name, value in document.fields.items()}


def _not_presentable(status: str) -> AppError:
    return AppError(
        409,
        "document-not-presentable",
        Text("Không thể xuất trình giấy tờ", "Document cannot be shown"),
        Text(
            "Giấy tờ đang ở trạng thái '{status}' nên không thể xuất trình. Hãy xem lý do trong ví, hoặc "
            "làm thủ tục gia hạn/cấp lại.",
            "The document is '{status}' and cannot be shown. See the reason in your wallet, or apply for a "
            "renewal or a new one.",
        ),
        params={"status": status},
    )


def _integrity_failed(document: WalletDocument) -> AppError:
    # Someone changed the stored document behind the platform's back: never vouch for it,
    # and make sure operations hear of it.
    log.error("document_integrity_failed", document_id=str(document.id))
    return AppError(
        409,
        "document-integrity",
        Text("Không thể xuất trình giấy tờ", "Document cannot be shown"),
        Text(
            "Dữ liệu giấy tờ không khớp chữ ký của nơi cấp nên không thể xuất trình. Sự cố đã được ghi nhận; "
            "hãy liên hệ tổng đài hỗ trợ hoặc cơ quan cấp.",
            "The document's data does not match its issuer's signature, so it cannot be shown. The problem has "
            "been logged; contact the helpline or the issuing agency.",
        ),
    )


async def create(
    citizen_id: PydanticObjectId, document_id: str, data: PresentationIn, *, now: datetime | None = None
) -> PresentationOut:
    """A short-lived signed token for one document, carrying only the claims chosen."""
    now = now or utcnow()
    document = await own_document(citizen_id, document_id)
    status = document.shown_status(today_in_vietnam(now))
    if status != "valid":
        raise _not_presentable(status)
    document = await signing.ensure_signed(document)
    if not await signing.verify(document):
        raise _integrity_failed(document)
    available = presentable_claims(document, status)
    unknown = sorted(set(data.disclose) - set(available))
    if unknown:
        raise invalid_input(
            [
                FieldProblem(
                    "disclose",
                    Text(
                        "Giấy tờ này không có: {unknown}. Có thể chọn: {available}.",
                        "This document has no {unknown}. You can choose from: {available}.",
                    ),
                    {"unknown": ", ".join(unknown), "available": ", ".join(sorted(available))},
                )
            ]
        )
    disclosed = {name: available[name] for name in sorted(set(data.disclose))}
    issued_at = int(now.timestamp())
    expires_at = datetime.fromtimestamp(issued_at + data.ttl_seconds, UTC)
    jti = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        "iss": tokens.ISSUER,
        "jti": jti,
        "iat": issued_at,
        "exp": issued_at + data.ttl_seconds,
        "doc": {"type": document.type, "issuer": document.issuer, "valid_until": document.valid_until},
        "disclosed": disclosed,
    }
    if data.single_use:
        claims["single_use"] = True
    key = await keys.active_key()
    token = tokens.encode(claims, key)
    assert document.id is not None
    await store.insert(
        Presentation(
            jti=jti,
            citizen_id=citizen_id,
            document_id=document.id,
            disclosed=list(disclosed),
            kid=key.kid,
            created_at=now,
            expires_at=expires_at,
            single_use=data.single_use,
        )
    )
    return PresentationOut(
        id=jti,
        document_id=str(document.id),
        token=token,
        expires_at=expires_at,
        single_use=data.single_use,
        disclosed=disclosed,
    )


async def withdraw(citizen_id: PydanticObjectId, presentation_id: str) -> None:
    if not await store.delete(citizen_id, presentation_id):
        raise not_found(PRESENTATION)


async def _record(presentation: Presentation, verifier: str | None, result: str) -> None:
    await audit_store.insert(
        AccessRecord(
            citizen_id=presentation.citizen_id,
            actor_kind="verifier",
            actor_id="anonymous",
            client=verifier,
            action="presentation.verify",
            target=str(presentation.document_id),
            result=result,
        )
    )


async def _refuse(presentation: Presentation, verifier: str | None, code: str) -> AppError:
    await _record(presentation, verifier, code)
    return refusal(code)


async def _tell_issuer(document: WalletDocument, verifier: str | None, pool: ArqRedis | None) -> None:
    """The issuing agency hears that one of its documents passed an online check: its type, the
    verifier's own name for itself and when, never which document or whose, so the issuer
    cannot follow a citizen from check to check (decision 0028)."""
    if pool is None:
        return
    now = utcnow()
    data = {"document_type": document.type, "verifier": verifier or "", "result": "ok"}
    key = f"presentation:{secrets.token_hex(12)}"
    await publish(document.issuer, key, PRESENTATION_VERIFIED, data, now, pool)


async def verify_online(
    token: str, verifier: str | None, language: Language, pool: ArqRedis | None = None
) -> VerificationOut:
    try:
        kid = tokens.key_id(token)
        public = await keys.public_key(kid)
        claims = tokens.check(token, {kid: public} if public else {})
    except tokens.Refused as refused:
        if refused.claims is not None:
            # Expired but genuine: the citizen still learns someone tried it.
            expired = await store.by_jti(refused.claims.get("jti"))
            if expired is not None:
                await _record(expired, verifier, refused.code)
        raise refusal(refused.code) from None
    presentation = await store.by_jti(claims["jti"])
    document = await store.document(presentation.document_id) if presentation else None
    if presentation is None or document is None:
        raise refusal("presentation-withdrawn")
    status = document.shown_status(today_in_vietnam())
    if status != "valid":
        raise await _refuse(presentation, verifier, f"document-{status}")
    if not await signing.verify(document):
        log.error("document_integrity_failed", document_id=str(document.id))
        raise await _refuse(presentation, verifier, "document-integrity")
    if presentation.single_use and not await store.use_once(presentation.id):
        raise await _refuse(presentation, verifier, "presentation-used")
    await _record(presentation, verifier, "ok")
    await _tell_issuer(document, verifier, pool)
    name_vi, name_en = type_names(document.type)
    return VerificationOut(
        verified=True,
        message=VALID.render(language),
        checked_at=utcnow(),
        presentation=VerifiedPresentationOut(
            id=claims["jti"],
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            single_use=bool(claims.get("single_use")),
        ),
        document=VerifiedDocumentOut(
            type=document.type,
            type_name=name_en if language == "en" else name_vi,
            issuer=document.issuer,
            status=status,
            valid_until=date.fromisoformat(document.valid_until) if document.valid_until else None,
        ),
        claims=claims["disclosed"],
    )
