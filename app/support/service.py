"""The support desk: masked lookups with a reason, and consent-based assisted sessions."""

from __future__ import annotations

import hmac
import secrets
from datetime import date, timedelta

from beanie import PydanticObjectId
from bson.errors import InvalidId
from litestar.exceptions import NotAuthorizedException

from app.audit.service import record
from app.auth import store as auth_store
from app.config import Settings
from app.dossiers import service as dossiers
from app.dossiers import store as dossier_store
from app.dossiers.schemas import DossierIn
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.inbox import flushing
from app.security import Principal
from app.support import store
from app.support.masking import masked_citizen, masked_document
from app.support.schemas import AssistedSessionOut, ConsentCodeOut, LookupOut
from app.wallet import store as wallet_store
from models.citizen import Citizen
from models.common import utcnow
from models.consent import consent_given
from models.dossier import Dossier, OutboxEntry
from models.support import AssistedSession, ConsentCode, ConsentScope, SupportLookup
from models.wallet import WalletDocument

CITIZEN = Text("công dân với số định danh này", "citizen with this ID number")
CONSENT_REFUSED = AppError(
    403,
    "consent-code-refused",
    Text("Mã đồng ý không dùng được", "Consent code not accepted"),
    # One answer for wrong, used, expired and someone else's code: it reveals nothing.
    Text(
        "Mã đồng ý không đúng, đã dùng hoặc đã hết hạn. Hãy nhờ công dân tạo mã mới trong ứng dụng "
        "(Cài đặt → Cho phép hỗ trợ) và nhập lại.",
        "The consent code is wrong, used or expired. Ask the citizen to make a new one in the app "
        "(Settings → Allow assistance) and enter it again.",
    ),
)
CITIZEN_OBJECTED = AppError(
    403,
    "citizen-objected-to-lookups",
    Text("Công dân không cho phép tra cứu", "The citizen does not allow lookups"),
    Text(
        "Công dân này đã tắt quyền tra cứu của bộ phận hỗ trợ. Hãy nhờ họ tạo mã đồng ý trong ứng dụng để mở phiên hỗ "
        "trợ.",
        "This citizen has turned off support-desk lookups. Ask them to make a consent code in the app to open a "
        "session.",
    ),
)
SESSION_ENDED = "the assisted session has ended"
MAX_CODE_ATTEMPTS = 5


def _reason_problem(reason: str) -> None:
    if not reason.strip():
        raise invalid_input([FieldProblem("reason", Text("Hãy ghi lý do tra cứu.", "Give the reason for the lookup."))])


async def _citizen(national_id: str) -> Citizen:
    citizen = await auth_store.citizen_by_national_id(national_id)
    if citizen is None or citizen.id is None:
        raise not_found(CITIZEN)
    return citizen


async def staff_name(principal: Principal) -> str:
    """Citizens see staff by username in their access log, not by an internal id."""
    staff = await auth_store.staff(PydanticObjectId(principal.id))
    return staff.username if staff else principal.id


async def _tell_citizen(principal: Principal, citizen_id: PydanticObjectId, reason: str) -> SupportLookup:
    """Record that staff looked at the citizen's data, and push them who, where and why."""
    staff = await auth_store.staff(PydanticObjectId(principal.id))
    assert staff is not None
    entry = SupportLookup(
        id=PydanticObjectId(),
        citizen_id=citizen_id,
        staff_id=principal.id,
        staff_username=staff.username,
        office=staff.office,
        reason=reason,
    )
    entry.outbox = [OutboxEntry(key=f"support-lookup:{entry.id}", kind="support_lookup")]
    await store.insert_lookup(entry)
    flushing.owed(SupportLookup, entry.id, [e.key for e in entry.outbox])
    return entry


async def lookup(principal: Principal, national_id: str, reason: str) -> LookupOut:
    _reason_problem(reason)
    citizen = await _citizen(national_id)
    assert citizen.id is not None
    if not await consent_given(citizen.id, "support_desk"):
        await record(
            citizen.id,
            "staff",
            await staff_name(principal),
            "support.lookup",
            "profile",
            reason=reason,
            result="refused",
        )
        raise CITIZEN_OBJECTED
    documents = await wallet_store.documents_of(citizen.id)
    entry = await _tell_citizen(principal, citizen.id, reason.strip())
    await record(
        citizen.id,
        "staff",
        entry.staff_username,
        "support.lookup",
        "profile+wallet(masked)",
        reason=entry.reason,
        client=entry.office or "support-desk",
    )
    today = date.today()
    return LookupOut(
        id=str(entry.id),
        citizen=masked_citizen(citizen),
        documents=[masked_document(d, today) for d in documents],
    )


def _code_hash(citizen_id: PydanticObjectId, code: str, settings: Settings) -> str:
    # Keyed: six digits are few, so a plain hash in a leaked table would give them away.
    return hmac.new(settings.jwt_secret.encode(), f"{citizen_id}:{code}".encode(), "sha256").hexdigest()


async def create_consent_code(
    citizen_id: PydanticObjectId, scopes: list[ConsentScope], settings: Settings
) -> ConsentCodeOut:
    code = f"{secrets.randbelow(10**6):06d}"
    expires = utcnow() + timedelta(minutes=settings.consent_code_minutes)
    await store.insert_code(
        ConsentCode(
            citizen_id=citizen_id,
            code_hash=_code_hash(citizen_id, code, settings),
            scopes=sorted(set(scopes)),
            expires_at=expires,
        )
    )
    return ConsentCodeOut(code=code, scopes=sorted(set(scopes)), expires_at=expires)


async def open_session(
    principal: Principal, national_id: str, code: str, reason: str, settings: Settings
) -> AssistedSessionOut:
    _reason_problem(reason)
    citizen = await _citizen(national_id)
    assert citizen.id is not None
    now = utcnow()
    # Taking the code is one atomic update: used once, even by two desks at the same moment.
    taken = await store.take_code(
        {
            "citizen_id": citizen.id,
            "code_hash": _code_hash(citizen.id, code, settings),
            "used_at": None,
            "expires_at": {"$gt": now},
            "failed_attempts": {"$lt": MAX_CODE_ATTEMPTS},
        },
        now,
    )
    if taken is None:
        # Guessing is bounded: every wrong try counts against the citizen's live codes.
        await store.count_failed_attempt(citizen.id, now)
        await record(
            citizen.id,
            "staff",
            await staff_name(principal),
            "support.session.refused",
            "consent-code",
            reason=reason.strip(),
            result="refused",
        )
        raise CONSENT_REFUSED
    session = AssistedSession(
        citizen_id=citizen.id,
        staff_id=principal.id,
        scopes=list(taken["scopes"]),
        expires_at=now + timedelta(minutes=settings.assisted_session_minutes),
        reason=reason.strip(),
    )
    await store.insert_session(session)
    await record(
        citizen.id,
        "staff",
        await staff_name(principal),
        "support.session.open",
        str(session.id),
        reason=reason.strip(),
        changed_fields=session.scopes,
    )
    await _tell_citizen(principal, citizen.id, f"{reason.strip()} ({', '.join(session.scopes)})")
    return AssistedSessionOut(id=str(session.id), scopes=list(session.scopes), expires_at=session.expires_at)


async def active_session(principal: Principal, session_id: str, scope: ConsentScope | None) -> AssistedSession:
    """The staff member's own, still running session with `scope` (any, with None); 401 once it has ended."""
    try:
        oid = PydanticObjectId(session_id)
    except (InvalidId, TypeError):
        raise not_found(Text("phiên hỗ trợ", "assisted session")) from None
    session = await store.session_of(oid, principal.id)
    if session is None:
        raise not_found(Text("phiên hỗ trợ", "assisted session"))
    if session.ended_at is not None or session.expires_at <= utcnow():
        raise NotAuthorizedException(SESSION_ENDED)
    if scope is not None and scope not in session.scopes:
        raise AppError(
            403,
            "consent-scope-missing",
            Text("Công dân chưa cho phép việc này", "The citizen did not allow this"),
            Text(
                "Mã đồng ý của công dân không gồm quyền '{scope}'. Hãy nhờ công dân tạo mã mới có quyền này.",
                "The citizen's consent code does not cover '{scope}'. Ask them for a new code that does.",
            ),
            params={"scope": scope},
        )
    return session


async def session_wallet(principal: Principal, session_id: str) -> tuple[AssistedSession, list[WalletDocument]]:
    """The citizen's whole wallet within a session that allows it. Each look is audited AND
    pushed to the citizen, not only the opening: the API and the console both come here."""
    session = await active_session(principal, session_id, "view_wallet")
    documents = await wallet_store.documents_of(session.citizen_id)
    entry = await _tell_citizen(principal, session.citizen_id, session.reason or "assisted session")
    await record(
        session.citizen_id,
        "staff",
        entry.staff_username,
        "wallet.read",
        "all-documents",
        reason=f"assisted-session:{session_id}",
        client=entry.office or "support-desk",
    )
    return session, documents


async def submit_for_citizen(
    principal: Principal, session_id: str, idempotency_key: str | None, data: DossierIn
) -> tuple[Dossier, bool]:
    """A dossier filed for the citizen within a session that allows it: recorded as assisted,
    and by whom. The same Idempotency-Key again gives the first dossier back."""
    session = await active_session(principal, session_id, "submit_dossier")
    dossier, created = await dossiers.submit(session.citizen_id, idempotency_key, data)
    if created:
        await dossier_store.mark_assisted(dossier.id, f"staff:{principal.id}")
        await record(
            session.citizen_id,
            "staff",
            await staff_name(principal),
            "dossier.submit.assisted",
            dossier.code,
            reason=f"assisted-session:{session_id}",
            changed_fields=["service_code", "form", "delivery", *(["attachments"] if data.attachments else [])],
        )
    return dossier, created


async def end_session(principal: Principal, session_id: str) -> None:
    try:
        oid = PydanticObjectId(session_id)
    except (InvalidId, TypeError):
        raise not_found(Text("phiên hỗ trợ", "assisted session")) from None
    if not await store.end_session(oid, principal.id):
        raise not_found(Text("phiên hỗ trợ", "assisted session"))
