"""Citizen accounts and their push devices."""

from __future__ import annotations

from datetime import date

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.citizens.identity import canonical_phone, national_id_problem
from app.citizens.schemas import CitizenIn, CitizenOut, DeviceIn, DeviceOut, ProfileOut
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.security import hash_password
from models.citizen import Citizen, Device
from models.common import utcnow

MIN_PASSWORD_LENGTH = 12
ALREADY_REGISTERED = AppError(
    409,
    "already-registered",
    Text("Đã có tài khoản", "Already registered"),
    # Deliberately the same answer for a taken ID and a taken phone: it reveals nothing.
    Text(
        "Số định danh hoặc số điện thoại này đã được đăng ký. Hãy đăng nhập, hoặc dùng chức năng quên mật khẩu.",
        "This ID number or phone number is already registered. Sign in, or use password recovery.",
    ),
)
DEVICE = Text("thiết bị", "device")


def _registration_problems(data: CitizenIn, phone: str | None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if national_id_problem(data.national_id):
        problems.append(
            FieldProblem(
                "national_id",
                Text(
                    "Số định danh cá nhân phải gồm đúng 12 chữ số.", "The national ID number must be exactly 12 digits."
                ),
            )
        )
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
    if len(data.password) < MIN_PASSWORD_LENGTH:
        problems.append(
            FieldProblem(
                "password",
                Text("Mật khẩu phải có ít nhất {n} ký tự.", "The password must have at least {n} characters."),
                {"n": MIN_PASSWORD_LENGTH},
            )
        )
    if data.date_of_birth > date.today():
        problems.append(
            FieldProblem(
                "date_of_birth", Text("Ngày sinh không thể ở tương lai.", "The date of birth cannot be in the future.")
            )
        )
    if not data.full_name.strip():
        problems.append(
            FieldProblem("full_name", Text("Họ tên không được để trống.", "The full name cannot be empty."))
        )
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
        await citizen.insert()
    except DuplicateKeyError:
        raise ALREADY_REGISTERED from None
    return citizen_out(citizen)


async def profile(citizen_id: PydanticObjectId) -> ProfileOut:
    citizen = await Citizen.get(citizen_id)
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


async def register_device(citizen_id: PydanticObjectId, data: DeviceIn) -> DeviceOut:
    now = utcnow()
    # One upsert keyed by the FCM token: a phone that changes hands (or account) moves with
    # its token, and a repeated registration changes nothing but the timestamps.
    raw = await Device.get_pymongo_collection().find_one_and_update(
        {"token": data.token},
        {
            "$set": {"citizen_id": citizen_id, "platform": data.platform, "locale": data.locale, "updated_at": now},
            "$setOnInsert": {"created_at": now},
        },
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return device_out(Device.model_validate(raw))


async def list_devices(citizen_id: PydanticObjectId) -> list[DeviceOut]:
    devices = await Device.find(Device.citizen_id == citizen_id).sort("-_id").to_list()
    return [device_out(d) for d in devices]


async def remove_device(citizen_id: PydanticObjectId, device_id: str) -> None:
    try:
        oid = PydanticObjectId(device_id)
    except Exception:
        raise not_found(DEVICE) from None
    result = await Device.get_pymongo_collection().delete_one({"_id": oid, "citizen_id": citizen_id})
    if result.deleted_count == 0:
        raise not_found(DEVICE)
