"""The citizen's rights over their data: consents, a full export, and closing the account."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from app import retention
from app.errors import AppError, Text
from app.i18n import Language
from app.payments.ledger import payments_for_citizen
from app.privacy import store
from app.privacy.schemas import ConsentOut, DeletionOut, KeptRecord, Purpose
from app.security import verify_password
from app.session_cache import announce_revoked
from models.audit import AccessRecord
from models.citizen import AuthSession, Device
from models.common import utcnow
from models.consent import CURRENT_TERMS_VERSION, PURPOSES, Consent
from models.dossier import Dossier
from models.notification import Notification
from models.postal import PostalLetter
from models.sms import SmsMessage
from models.support import AssistedSession, ConsentCode, SupportLookup
from models.wallet import WalletDocument

# Never part of an export: secrets and internal bookkeeping, not data about the person.
_INTERNAL_FIELDS = frozenset(
    {
        "password_hash",
        "refresh_token_hash",
        "rotated_token_hashes",
        "totp_secret",
        "totp_secret_sealed",
        "totp_last_step",
        "claim_code_hash",
        "guardian_ids",
        "had_guardians",
        "revision_id",
        "outbox",
        "request_fingerprint",
        "code_hash",
        "event_ids",
        "tracking_secret_hash",
    }
)


async def consents(citizen_id: PydanticObjectId) -> list[ConsentOut]:
    out = []
    for purpose in PURPOSES:
        latest = await store.latest_consent(citizen_id, purpose)
        if latest is not None:
            out.append(ConsentOut(purpose, latest.granted, latest.terms_version, latest.at))
        else:
            out.append(ConsentOut(purpose, True, None, None))
    return out


async def decide(
    citizen_id: PydanticObjectId, purpose: Purpose, granted: bool, terms_version: str | None
) -> ConsentOut:
    # Decisions are appended, never overwritten: the record shows when each one was made.
    consent = Consent(
        citizen_id=citizen_id, purpose=purpose, granted=granted, terms_version=terms_version or CURRENT_TERMS_VERSION
    )
    await store.insert_consent(consent)
    return ConsentOut(purpose, granted, consent.terms_version, consent.at)


def _jsonable(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dict):
        return {("id" if k == "_id" else k): _jsonable(v) for k, v in value.items() if k not in _INTERNAL_FIELDS}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _clean(raw: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = _jsonable(raw)
    return cleaned


async def export(citizen_id: PydanticObjectId) -> dict[str, Any]:
    """Everything held about the citizen, as JSON-ready data; nothing of anyone else."""
    citizen = await store.raw_citizen(citizen_id)

    async def mine(model: Any, **extra: Any) -> list[dict[str, Any]]:
        return [_clean(raw) for raw in await store.raw_of(model, citizen_id, extra)]

    return {
        "exported_at": utcnow(),
        "profile": _clean(citizen) if citizen else None,
        "devices": [{k: v for k, v in d.items() if k != "token"} for d in await mine(Device)],
        "sessions": await mine(AuthSession),
        "documents": await mine(WalletDocument),
        "dossiers": await mine(Dossier),
        "notifications": await mine(Notification),
        "consents": await mine(Consent),
        "support_lookups": await mine(SupportLookup),
        "assisted_sessions": await mine(AssistedSession),
        "access_log": await mine(AccessRecord),
        # As the citizen's list shows them: a fee not yet paid is a request before the provider's
        # first callback writes its ledger entry (decision 0031).
        "payments": [_clean(p.model_dump(by_alias=True)) for p in await payments_for_citizen(citizen_id)],
        "sms_messages": await mine(SmsMessage),
        "postal_letters": await mine(PostalLetter),
        # How long each kind of data is kept (models/retention.py).
        "retention": retention.table(),
    }


WRONG_PASSWORD = AppError(
    403,
    "password-required",
    Text("Cần xác nhận mật khẩu", "Password confirmation needed"),
    Text(
        "Mật khẩu không đúng. Đóng tài khoản cần mật khẩu hiện tại của bạn.",
        "The password is wrong. Closing the account needs your current password.",
    ),
)
KEPT: list[tuple[Text, Text]] = [
    (
        Text("hồ sơ thủ tục hành chính", "dossiers"),
        Text(
            "Cơ quan giải quyết phải lưu hồ sơ thủ tục hành chính theo quy định; hồ sơ không còn gắn với tài khoản "
            "dùng được.",
            "Agencies must keep the records of the procedures they decided; they are no longer linked to a usable "
            "account.",
        ),
    ),
    (
        Text("nhật ký truy cập", "audit trail"),
        Text(
            "Nhật ký ai đã truy cập dữ liệu của bạn được giữ nguyên, chống sửa đổi, để việc truy cập vẫn được kiểm "
            "tra.",
            "Who accessed your data is kept, tamper-evident, so that access can still be checked and answered for.",
        ),
    ),
    (
        Text("số định danh, họ tên và ngày sinh", "national ID number, name and date of birth"),
        Text(
            "Cần để liên kết hồ sơ và nhật ký được lưu; số điện thoại và mật khẩu đã bị xoá.",
            "Needed to link the kept dossiers and audit records; the phone number and password are removed.",
        ),
    ),
]


async def close_account(citizen_id: PydanticObjectId, password: str, language: Language) -> DeletionOut:
    citizen = await store.citizen(citizen_id)
    if citizen is None or not verify_password(citizen.password_hash, password):
        raise WRONG_PASSWORD
    now = utcnow()
    deleted: dict[str, int] = {}
    for name, model in (
        ("devices", Device),
        ("notifications", Notification),
        ("wallet_documents", WalletDocument),
        ("consent_codes", ConsentCode),
        ("consents", Consent),
        ("sms_messages", SmsMessage),
    ):
        deleted[name] = await store.delete_all_of(model, citizen_id)
    sessions = await store.revoke_sessions(citizen_id, now)
    await announce_revoked(citizens=[citizen_id])
    deleted["signed_in_sessions"] = sessions
    await store.close(citizen_id, now)
    deleted["phone_and_password"] = 1
    return DeletionOut(
        deleted=deleted, kept=[KeptRecord(what.render(language), why.render(language)) for what, why in KEPT]
    )
