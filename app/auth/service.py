"""Signing in: citizens (password, rotating refresh tokens), agencies and staff (TOTP)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import msgspec
import structlog
from beanie import PydanticObjectId
from litestar.security.jwt import JWTAuth, Token

from app.auth import known_devices, store
from app.auth.phone import canonical_phone
from app.auth.schemas import AccessToken, SignedIn, TokenPair
from app.auth.throttle import account_of
from app.auth.totp import accepted_step, open_totp_secret, seal_totp_secret
from app.config import Settings
from app.errors import AppError, Text
from app.security import AUDIENCES, ISSUER, Principal, hash_token, verify_password
from app.session_cache import announce_revoked
from models.agency import Agency, Clerk, Staff
from models.citizen import AuthSession, Citizen
from models.common import utcnow

log = structlog.get_logger(__name__)

# Rotated-away refresh hashes kept per session to recognise a replay (~12 days of
# refreshing every 15 minutes); an older copy coming back is refused without more ado.
ROTATED_HASHES_KEPT = 1000

BAD_CREDENTIALS = AppError(
    401,
    "bad-credentials",
    Text("Đăng nhập không thành công", "Sign-in failed"),
    Text(
        "Tên đăng nhập hoặc mật khẩu không đúng. Hãy kiểm tra lại số định danh hoặc số điện thoại và mật khẩu.",
        "The username or password is wrong. Check your ID number or phone number and your password.",
    ),
)
BAD_REFRESH = AppError(
    401,
    "bad-refresh-token",
    Text("Phiên đăng nhập không còn hiệu lực", "Session no longer valid"),
    Text(
        "Mã làm mới không hợp lệ hoặc đã dùng. Hãy đăng nhập lại.",
        "The refresh token is invalid or used. Sign in again.",
    ),
)
BAD_CLIENT = AppError(
    401,
    "bad-client-credentials",
    Text("Sai thông tin ứng dụng", "Bad client credentials"),
    Text("client_id hoặc client_secret không đúng.", "The client_id or client_secret is wrong."),
)
ACCOUNT_LOCKED = AppError(
    403,
    "account-locked",
    Text("Tài khoản định danh đang bị khoá", "e-ID locked"),
    Text(
        "Tài khoản đang bị khoá theo yêu cầu của bạn. Để mở khoá, hãy mang căn cước công dân gắn chíp đến công an "
        "xã/phường (cơ quan được phép xác thực danh tính).",
        "This account is locked at your request. To unlock it, take your chip-based ID card to the commune or ward "
        "police (an agency allowed to verify identity).",
    ),
)
OTP_REQUIRED = AppError(
    401,
    "otp-required",
    Text("Cần mã xác thực hai lớp", "One-time code needed"),
    Text(
        "Nhân viên phải nhập mã 6 chữ số từ ứng dụng xác thực (trường 'otp') cùng mật khẩu.",
        "Staff must send the 6-digit code from their authenticator app (field 'otp') with the password.",
    ),
)
BAD_STAFF_CREDENTIALS = AppError(
    401,
    "bad-credentials",
    Text("Đăng nhập không thành công", "Sign-in failed"),
    Text(
        "Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng. Mỗi mã chỉ dùng được một lần: hãy chờ mã mới.",
        "The username, password or one-time code is wrong. Each code works once: wait for the next one.",
    ),
)
TOTP_NOT_ENROLLED = AppError(
    403,
    "otp-not-set-up",
    Text("Chưa thiết lập xác thực hai lớp", "Second factor not set up"),
    Text(
        "Tài khoản nhân viên này chưa có mã xác thực hai lớp. Hãy nhờ quản trị viên tạo lại tài khoản bằng "
        "`cwallet staff create`.",
        "This staff account has no second factor yet. Ask an administrator to re-create it with "
        "`cwallet staff create`.",
    ),
)


class AuthService:
    def __init__(self, settings: Settings, jwt_auth: JWTAuth[Principal, Token]) -> None:
        self.settings = settings
        self.jwt_auth = jwt_auth

    def _access_token(self, kind: str, ident: str, minutes: int, extras: dict[str, str] | None = None) -> str:
        return self.jwt_auth.create_token(
            identifier=f"{kind}:{ident}",
            token_expiration=timedelta(minutes=minutes),
            token_issuer=ISSUER,
            token_audience=AUDIENCES[kind],  # type: ignore[index]
            token_unique_jwt_id=secrets.token_hex(8),
            token_extras=extras or {},
        )

    def _citizen_pair(self, citizen_id: PydanticObjectId, session_id: PydanticObjectId, refresh: str) -> TokenPair:
        minutes = self.settings.access_token_minutes
        access = self._access_token("citizen", str(citizen_id), minutes, {"sid": str(session_id)})
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=minutes * 60)

    async def login_citizen(self, username: str, password: str, user_agent: str | None) -> SignedIn:
        username = username.strip()
        citizen: Citizen | None
        if username.isdigit() and len(username) == 12:
            citizen = await store.citizen_by_national_id(username)
        else:
            phone = canonical_phone(username)
            citizen = await store.citizen_by_phone(phone) if phone else None
        # verify_password runs the hash even with no citizen (or a child with no account of
        # its own), so timing does not tell.
        if not verify_password(citizen.password_hash if citizen else None, password) or citizen is None:
            raise BAD_CREDENTIALS
        # Only someone who knows the password learns that the account is locked.
        if citizen.locked_at is not None:
            raise ACCOUNT_LOCKED
        assert citizen.id is not None
        refresh = secrets.token_urlsafe(32)
        session = AuthSession(
            citizen_id=citizen.id,
            refresh_token_hash=hash_token(refresh),
            expires_at=utcnow() + timedelta(days=self.settings.refresh_token_days),
            user_agent=(user_agent or "")[:200] or None,
        )
        await store.insert_session(session)
        assert session.id is not None
        # A self-lock that landed between the check above and the insert revoked every
        # session but could not see this one: look again, after the insert.
        if await store.is_locked(citizen.id):
            await revoke_session(session.id, "self-lock")
            raise ACCOUNT_LOCKED
        pair = self._citizen_pair(citizen.id, session.id, refresh)
        device_token = known_devices.issue(self.settings, account_of("citizen", citizen.national_id))
        return SignedIn(**msgspec.structs.asdict(pair), device_token=device_token)

    async def refresh_citizen(self, refresh_token: str) -> TokenPair:
        presented = hash_token(refresh_token)
        new_refresh = secrets.token_urlsafe(32)
        now = utcnow()
        # Rotation is one atomic compare-and-set on the token hash: of two racing refreshes
        # with the same token only one wins, and the old token stops working.
        raw = await store.rotate_refresh(presented, hash_token(new_refresh), now, ROTATED_HASHES_KEPT)
        if raw is not None:
            return self._citizen_pair(raw["citizen_id"], raw["_id"], new_refresh)
        # An already-rotated token came back: one of the two holders is a thief, and we cannot
        # tell which, so the whole family (the session) ends for both.
        reused = await store.revoke_reused(presented, now)
        if reused is not None:
            await announce_revoked(sessions=[reused["_id"]])
            log.warning("refresh_token_reuse", session_id=str(reused["_id"]))
        raise BAD_REFRESH

    async def logout(self, principal: Principal) -> None:
        if principal.session_id is not None:
            await revoke_session(PydanticObjectId(principal.session_id), "logout")

    async def agency_token(self, client_id: str, client_secret: str) -> AccessToken:
        agency = await store.agency_by_client_id(client_id)
        if agency is None or not _agency_secret_matches(agency, client_secret):
            raise BAD_CLIENT
        minutes = self.settings.agency_token_minutes
        return AccessToken(access_token=self._access_token("agency", agency.code, minutes), expires_in=minutes * 60)

    async def staff_token(self, username: str, password: str, otp: str | None) -> AccessToken:
        if not otp:
            raise OTP_REQUIRED
        staff = await store.staff_by_username(username)
        if not verify_password(staff.password_hash if staff else None, password) or staff is None:
            raise BAD_STAFF_CREDENTIALS
        secret = await _totp_secret(staff)
        if secret is None:
            raise TOTP_NOT_ENROLLED
        step = accepted_step(secret, otp)
        # The step moves forward by compare-and-set: a code seen once (or an older one) is
        # refused, even when two sign-ins race with the same code.
        if step is None or not await _claim_totp_step(Staff, staff.id, step):
            raise BAD_STAFF_CREDENTIALS
        minutes = self.settings.staff_token_minutes
        return AccessToken(access_token=self._access_token("staff", str(staff.id), minutes), expires_in=minutes * 60)

    async def clerk_token(self, username: str, password: str, otp: str | None) -> AccessToken:
        """A person of an agency (decision 0027): password and TOTP as staff, then an agency
        token that names the clerk, so every guard of the agency's routes applies unchanged."""
        if not otp:
            raise OTP_REQUIRED
        clerk = await store.clerk_named(username)
        if not verify_password(clerk.password_hash if clerk else None, password) or clerk is None:
            raise BAD_STAFF_CREDENTIALS
        secret, _ = open_totp_secret(clerk_totp_context(clerk.username), clerk.totp_secret_sealed)
        if secret is None or clerk.disabled_at is not None:
            raise BAD_STAFF_CREDENTIALS
        step = accepted_step(secret, otp)
        if step is None or not await _claim_totp_step(Clerk, clerk.id, step):
            raise BAD_STAFF_CREDENTIALS
        minutes = self.settings.staff_token_minutes
        token = self._access_token("agency", clerk.agency_code, minutes, {"clerk": str(clerk.id)})
        return AccessToken(access_token=token, expires_in=minutes * 60)


def clerk_totp_context(username: str) -> str:
    # Apart from staff usernames: a clerk's sealed secret cannot be opened as a staff member's.
    return f"clerk:{username}"


def _agency_secret_matches(agency: Agency, client_secret: str) -> bool:
    if verify_password(agency.client_secret_hash, client_secret):
        return True
    expires = agency.previous_secret_expires_at
    return (
        agency.previous_secret_hash is not None
        and expires is not None
        and expires > utcnow()
        and (verify_password(agency.previous_secret_hash, client_secret))
    )


async def _totp_secret(staff: Staff) -> str | None:
    """The staff member's TOTP secret, opened from its seal. A record from before sealing
    (the secret in clear) is sealed now, and its clear copy removed."""
    if staff.totp_secret_sealed is not None:
        secret, resealed = open_totp_secret(staff.username, staff.totp_secret_sealed)
        if secret is None:
            log.warning("totp_secret_unreadable", staff_id=str(staff.id))
        elif resealed is not None:
            # Sealed under a previous SECRETS_KEY: stored again under the current one.
            await store.update_staff(
                staff.id, {"totp_secret_sealed": staff.totp_secret_sealed}, {"$set": {"totp_secret_sealed": resealed}}
            )
            log.info("totp_secret_resealed", staff_id=str(staff.id))
        return secret
    if staff.totp_secret is None:
        return None
    await store.update_staff(
        staff.id,
        {"totp_secret": staff.totp_secret},
        {
            "$set": {"totp_secret_sealed": seal_totp_secret(staff.username, staff.totp_secret)},
            "$unset": {"totp_secret": ""},
        },
    )
    return staff.totp_secret


async def _claim_totp_step(model: type[Staff] | type[Clerk], person_id: PydanticObjectId | None, step: int) -> bool:
    return await store.update_person(
        model,
        person_id,
        {"$or": [{"totp_last_step": {"$lt": step}}, {"totp_last_step": {"$exists": False}}]},
        {"$set": {"totp_last_step": step}},
    )


async def revoke_session(session_id: PydanticObjectId, reason: str) -> bool:
    """End one session (its access and refresh tokens) at once. False if it had already ended."""
    revoked = await store.revoke_session(session_id, reason)
    await announce_revoked(sessions=[session_id])
    return revoked


async def revoke_all_sessions(citizen_id: PydanticObjectId, reason: str) -> int:
    revoked = await store.revoke_sessions_of(citizen_id, reason)
    await announce_revoked(citizens=[citizen_id])
    return revoked
