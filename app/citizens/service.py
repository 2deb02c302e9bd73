"""Citizen accounts and their push devices."""

from __future__ import annotations

from datetime import date, timedelta

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.auth.phone import canonical_phone
from app.auth.service import revoke_all_sessions
from app.citizens import store
from app.citizens.identity import age_on, national_id_mismatch
from app.citizens.passwords import password_problem
from app.citizens.schemas import CitizenIn, CitizenOut, DeviceIn, DeviceOut, LockOut, ProfileOut
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.i18n import Language
from app.security import hash_password
from models.citizen import Citizen, Device
from models.common import utcnow

# Younger than this, a person has no account of their own: a parent manages it.
OWN_ACCOUNT_AGE = 14
ALREADY_REGISTERED = AppError(
    409,
    "already-registered",
    Text("Đã có tài khoản", "Already registered"),
    # Deliberately the same answer for a taken ID and a taken phone: it reveals nothing.
    Text(
        "Số định danh hoặc số điện thoại này đã được đăng ký. Hãy đăng nhập, hoặc dùng chức năng quên mật khẩu. "
        "Nếu cha mẹ đang quản lý tài khoản của bạn, hãy xin họ (hoặc công an xã/phường) mã nhận tài khoản.",
        "This ID number or phone number is already registered. Sign in, or use password recovery. If a parent "
        "manages your account, ask them (or the ward police) for a takeover code.",
    ),
)
UNLOCK_HOW = Text(
    "Mọi phiên đăng nhập đã bị đăng xuất. Để mở khoá, hãy mang căn cước công dân gắn chíp đến công an xã/phường.",
    "Every session was signed out. To unlock, take your chip-based ID card to the commune or ward police.",
)
DEVICE = Text("thiết bị", "device")


def today_in_vietnam() -> date:
    """Ages and birthdays count in Vietnam's time (UTC+7, no daylight saving)."""
    return (utcnow() + timedelta(hours=7)).date()


def person_problems(national_id: str, full_name: str, date_of_birth: date) -> list[FieldProblem]:
    """What is wrong with the identity facts of anyone registered, adult or child."""
    problems: list[FieldProblem] = []
    mismatch = national_id_mismatch(national_id, date_of_birth)
    if mismatch is not None:
        problems.append(FieldProblem("national_id", mismatch))
    if date_of_birth > today_in_vietnam():
        problems.append(
            FieldProblem(
                "date_of_birth", Text("Ngày sinh không thể ở tương lai.", "The date of birth cannot be in the future.")
            )
        )
    if not full_name.strip():
        problems.append(
            FieldProblem("full_name", Text("Họ tên không được để trống.", "The full name cannot be empty."))
        )
    return problems


def _registration_problems(data: CitizenIn, phone: str | None) -> list[FieldProblem]:
    problems = person_problems(data.national_id, data.full_name, data.date_of_birth)
    if age_on(data.date_of_birth, today_in_vietnam()) < OWN_ACCOUNT_AGE and data.date_of_birth <= today_in_vietnam():
        problems.append(
            FieldProblem(
                "date_of_birth",
                Text(
                    "Người dưới {age} tuổi chưa có tài khoản riêng: cha mẹ thêm con từ tài khoản của mình (mục Con).",
                    "People under {age} have no account of their own: a parent adds the child from their own "
                    "account (Children).",
                ),
                {"age": OWN_ACCOUNT_AGE},
            )
        )
    problems.extend(contact_problems(data.national_id, data.phone, phone, data.password))
    return problems


def contact_problems(national_id: str, raw_phone: str, phone: str | None, password: str) -> list[FieldProblem]:
    """The phone and password of someone getting an account of their own."""
    problems: list[FieldProblem] = []
    if phone is None:
        problems.append(
            FieldProblem(
                "phone",
                Text(
                    "Số điện thoại di động Việt Nam không hợp lệ (ví dụ 0912345678 hoặc +84912345678).",
                    "Not a Vietnamese mobile number (e.g. 0912345678 or +84912345678).",
                ),
            )
        )
    weak = password_problem(password, national_id, phone or raw_phone)
    if weak is not None:
        problems.append(weak)
    return problems


def citizen_out(citizen: Citizen) -> CitizenOut:
    return CitizenOut(
        id=str(citizen.id), national_id=citizen.national_id, full_name=citizen.full_name, eid_level=citizen.eid_level
    )


async def register(data: CitizenIn) -> CitizenOut:
    phone = canonical_phone(data.phone)
    problems = _registration_problems(data, phone)
    if problems:
        raise invalid_input(problems)
    assert phone is not None
    citizen = Citizen(
        national_id=data.national_id,
        full_name=data.full_name.strip(),
        date_of_birth=data.date_of_birth.isoformat(),
        phone=phone,
        password_hash=hash_password(data.password),
    )
    try:
        await store.insert(citizen)
    except DuplicateKeyError:
        raise ALREADY_REGISTERED from None
    return citizen_out(citizen)


async def lock(citizen_id: PydanticObjectId, language: Language) -> LockOut:
    """Self-lock (a lost phone): every session ends now, and sign-in is refused until an
    identity-verifying agency unlocks the account."""
    now = utcnow()
    # The mark first, then the sessions: a sign-in racing with the lock either sees the mark
    # or has its new session revoked here (app/auth/service.py looks again after inserting).
    await store.mark_locked(citizen_id, now)
    await revoke_all_sessions(citizen_id, "self-lock")
    citizen = await store.citizen(citizen_id)
    return LockOut(
        locked_at=citizen.locked_at if citizen and citizen.locked_at else now, detail=UNLOCK_HOW.render(language)
    )


async def profile(citizen_id: PydanticObjectId) -> ProfileOut:
    citizen = await store.citizen(citizen_id)
    if citizen is None:
        raise not_found(Text("tài khoản", "account"))
    return ProfileOut(
        id=str(citizen.id),
        national_id=citizen.national_id,
        full_name=citizen.full_name,
        date_of_birth=date.fromisoformat(citizen.date_of_birth),
        phone=citizen.phone,
        eid_level=citizen.eid_level,
        created_at=citizen.created_at,
    )


def device_out(device: Device) -> DeviceOut:
    return DeviceOut(
        id=str(device.id),
        platform=device.platform,
        locale=device.locale,
        created_at=device.created_at,
        updated_at=device.updated_at,
    )


async def register_device(citizen_id: PydanticObjectId, data: DeviceIn, max_devices: int) -> DeviceOut:
    """Register (or refresh) a phone; beyond `max_devices`, the phones seen longest ago are dropped."""
    now = utcnow()
    # One upsert keyed by the FCM token: a phone that changes hands (or account) moves with
    # its token, and a repeated registration changes nothing but the timestamps.
    raw = await store.upsert_device(
        data.token, {"citizen_id": citizen_id, "platform": data.platform, "locale": data.locale}, now
    )
    await store.drop_devices_beyond(citizen_id, max_devices)
    return device_out(Device.model_validate(raw))


async def list_devices(citizen_id: PydanticObjectId) -> list[DeviceOut]:
    devices = await store.devices_newest_first(citizen_id)
    return [device_out(d) for d in devices]


async def remove_device(citizen_id: PydanticObjectId, device_id: str) -> None:
    try:
        oid = PydanticObjectId(device_id)
    except Exception:
        raise not_found(DEVICE) from None
    if not await store.remove_device(citizen_id, oid):
        raise not_found(DEVICE)
