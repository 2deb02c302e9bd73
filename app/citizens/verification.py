"""What only an identity check can do: e-ID level 2, unlocking a self-locked account, and
the one-time code with which a child of 14 takes over the account a parent managed."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from pymongo.errors import DuplicateKeyError

from app.audit import store as audit_store
from app.auth.phone import canonical_phone
from app.citizens import store
from app.citizens.identity import age_on, birthday_at_age, national_id_problem
from app.citizens.schemas import CitizenOut, ClaimCodeOut, ClaimIn, IdentityStatusOut
from app.citizens.service import ALREADY_REGISTERED, OWN_ACCOUNT_AGE, citizen_out, contact_problems, today_in_vietnam
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.security import Principal, hash_password, hash_token
from models.audit import AccessRecord, ActorKind
from models.citizen import Citizen
from models.common import utcnow

VERIFY_IDENTITY = "verify_identity"
# No 0/O, 1/I/L: the code is read out at a counter or over the phone.
_CLAIM_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CLAIM_CODE_LENGTH = 10
CITIZEN = Text("công dân với số định danh này", "citizen with this ID number")

SCOPE_MISSING = AppError(
    403,
    "scope-missing",
    Text("Cơ quan không có quyền xác thực danh tính", "Agency may not verify identity"),
    Text(
        "Cơ quan của bạn không được cấp quyền '{scope}'. Chỉ cơ quan được phép xác thực danh tính (ví dụ công an "
        "xã/phường) mới nâng mức định danh, mở khoá tài khoản hay cấp mã nhận tài khoản. Hãy liên hệ quản trị hệ "
        "thống để được cấp quyền.",
        "Your agency does not have the '{scope}' scope. Only an agency allowed to verify identity (e.g. the ward "
        "police) may raise the e-ID level, unlock an account or give a takeover code. Ask the system administrators "
        "for the scope.",
    ),
    params={"scope": VERIFY_IDENTITY},
)
BAD_CLAIM = AppError(
    401,
    "bad-claim-code",
    Text("Mã nhận tài khoản không đúng", "Takeover code not accepted"),
    Text(
        "Số định danh hoặc mã nhận tài khoản không đúng, hoặc mã đã hết hạn hay đã dùng. Hãy xin cha mẹ (hoặc công an "
        "xã/phường) một mã mới.",
        "The ID number or the takeover code is wrong, or the code expired or was used. Ask your parent (or the ward "
        "police) for a new code.",
    ),
)


def verifies_identity(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: an agency with the identity-verification scope (a 403 that says so otherwise)."""
    user = connection.scope.get("user")
    if isinstance(user, Principal) and user.kind == "agency" and VERIFY_IDENTITY not in user.scopes:
        raise SCOPE_MISSING


async def _citizen(national_id: str) -> Citizen:
    if national_id_problem(national_id):
        raise invalid_input(
            [
                FieldProblem(
                    "national_id",
                    Text("Số định danh phải gồm đúng 12 chữ số.", "The national ID must be exactly 12 digits."),
                )
            ]
        )
    citizen = await store.by_national_id(national_id)
    if citizen is None:
        raise not_found(CITIZEN)
    return citizen


def _status(citizen: Citizen) -> IdentityStatusOut:
    return IdentityStatusOut(
        national_id=citizen.national_id, eid_level=citizen.eid_level, locked=citizen.locked_at is not None
    )


async def _record(
    citizen: Citizen, actor_kind: ActorKind, actor_id: str, action: str, target: str, reason: str | None = None
) -> None:
    assert citizen.id is not None
    await audit_store.insert(
        AccessRecord(
            citizen_id=citizen.id, actor_kind=actor_kind, actor_id=actor_id, action=action, target=target, reason=reason
        )
    )


async def set_eid_level(agency: Principal, national_id: str, level: int, reason: str | None) -> IdentityStatusOut:
    assert agency.agency_code is not None
    citizen = await _citizen(national_id)
    raw = await store.set_fields({"_id": citizen.id}, {"eid_level": level})
    assert raw is not None
    await _record(citizen, "agency", agency.agency_code, "eid-level.set", f"level-{level}", reason)
    return _status(Citizen.model_validate(raw))


async def unlock(agency: Principal, national_id: str, reason: str | None) -> IdentityStatusOut:
    assert agency.agency_code is not None
    citizen = await _citizen(national_id)
    raw = await store.set_fields({"_id": citizen.id}, {"locked_at": None})
    assert raw is not None
    await _record(citizen, "agency", agency.agency_code, "account.unlock", "account", reason)
    return _status(Citizen.model_validate(raw))


async def issue_claim_code(child: Citizen, actor_kind: ActorKind, actor_id: str, hours: int) -> ClaimCodeOut:
    """A fresh one-time code for the child (any earlier one stops working)."""
    if child.has_own_account:
        raise AppError(
            409,
            "already-has-account",
            Text("Đã có tài khoản riêng", "Already has an account"),
            Text(
                "Người này đã có tài khoản riêng và đăng nhập bằng số điện thoại, mật khẩu của mình.",
                "This person already has an account of their own and signs in with their own phone and password.",
            ),
        )
    born = date.fromisoformat(child.date_of_birth)
    if age_on(born, today_in_vietnam()) < OWN_ACCOUNT_AGE:
        raise AppError(
            409,
            "too-young-to-take-over",
            Text("Chưa đủ {age} tuổi", "Not {age} yet"),
            Text(
                "Trẻ chỉ nhận tài khoản riêng từ {age} tuổi, tức từ ngày {date}. Hãy tạo mã từ ngày đó.",
                "A child takes over the account from age {age}, that is from {date}. Make the code from that day.",
            ),
            params={"age": OWN_ACCOUNT_AGE, "date": birthday_at_age(born, OWN_ACCOUNT_AGE).isoformat()},
        )
    code = "".join(secrets.choice(_CLAIM_ALPHABET) for _ in range(CLAIM_CODE_LENGTH))
    expires_at = utcnow() + timedelta(hours=hours)
    await store.set_claim_code(child.id, hash_token(code), expires_at)
    await _record(child, actor_kind, actor_id, "claim-code.issue", "account")
    return ClaimCodeOut(claim_code=code, expires_at=expires_at)


async def claim_code_from_agency(agency: Principal, national_id: str, hours: int) -> ClaimCodeOut:
    assert agency.agency_code is not None
    return await issue_claim_code(await _citizen(national_id), "agency", agency.agency_code, hours)


async def claim(data: ClaimIn) -> CitizenOut:
    """The child takes the account over: own phone and password; the guardians' access ends."""
    phone = canonical_phone(data.phone)
    problems = contact_problems(data.national_id, data.phone, phone, data.password)
    if problems:
        raise invalid_input(problems)
    assert phone is not None
    code = data.claim_code.strip().upper().replace("-", "").replace(" ", "")
    now = utcnow()
    match = {
        "national_id": data.national_id,
        "password_hash": None,
        "claim_code_hash": hash_token(code),
        "claim_code_expires_at": {"$gt": now},
    }
    # A wrong code costs no password hashing (a cheap way to load the server otherwise).
    if await store.matching(match) is None:
        raise BAD_CLAIM
    password_hash = hash_password(data.password)
    try:
        # One atomic update checks the code again and hands the account over; a second use of
        # the same code finds it gone. Emptying guardian_ids here ends the parents' access in
        # the same write.
        raw = await store.set_fields(
            match,
            {
                "phone": phone,
                "password_hash": password_hash,
                "claimed_at": now,
                "guardian_ids": [],
                "claim_code_hash": None,
                "claim_code_expires_at": None,
            },
        )
    except DuplicateKeyError:
        raise ALREADY_REGISTERED from None
    if raw is None:
        raise BAD_CLAIM
    citizen = Citizen.model_validate(raw)
    await _record(citizen, "citizen", str(citizen.id), "account.claim", "account")
    return citizen_out(citizen)
