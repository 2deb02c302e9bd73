"""Staff accounts: created by the CLI (with a TOTP secret), seen by themselves and admins."""

from __future__ import annotations

import secrets

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.auth import store as auth_store
from app.auth.totp import new_secret, provisioning_uri, seal_totp_secret
from app.errors import Text, not_found
from app.security import hash_password
from app.staff.schemas import StaffOut
from models.agency import Staff, StaffRole


def staff_out(staff: Staff) -> StaffOut:
    return StaffOut(
        username=staff.username,
        role=staff.role,
        totp_enrolled=staff.totp_secret_sealed is not None or staff.totp_secret is not None,
        created_at=staff.created_at,
    )


class StaffRefused(Exception):
    """The account could not be created as asked; nothing was stored."""


async def create(username: str, role: StaffRole, office: str | None = None) -> dict[str, str]:
    """A new account; its password and TOTP secret are shown this once, never stored in clear
    (the TOTP secret is sealed, as the server must compute the codes)."""
    password = secrets.token_urlsafe(18)
    totp_secret = new_secret()
    try:
        await auth_store.insert_staff(
            Staff(
                username=username,
                password_hash=hash_password(password),
                role=role,
                totp_secret_sealed=seal_totp_secret(username, totp_secret),
                office=office or None,
            )
        )
    except DuplicateKeyError:
        raise StaffRefused(f"a staff member named {username} already exists") from None
    return {
        "username": username,
        "password": password,
        "role": role,
        "totp_secret": totp_secret,
        "totp_uri": provisioning_uri(totp_secret, username),
    }


async def me(staff_id: PydanticObjectId) -> StaffOut:
    staff = await auth_store.staff(staff_id)
    if staff is None:
        raise not_found(Text("tài khoản nhân viên", "staff account"))
    return staff_out(staff)


async def list_staff() -> list[StaffOut]:
    return [staff_out(s) for s in await auth_store.all_staff()]
