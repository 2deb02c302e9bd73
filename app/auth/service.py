"""Signing in: citizens (password, rotating refresh tokens), agencies and staff."""

from __future__ import annotations

import secrets
from datetime import timedelta

from beanie import PydanticObjectId
from litestar.security.jwt import JWTAuth, Token
from pymongo import ReturnDocument

from app.auth.schemas import AccessToken, TokenPair
from app.citizens.identity import canonical_phone
from app.config import Settings
from app.errors import AppError, Text
from app.security import AUDIENCES, ISSUER, Principal, hash_token, verify_password
from models.agency import Agency, Staff
from models.citizen import AuthSession, Citizen
from models.common import utcnow

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

    async def login_citizen(self, username: str, password: str, user_agent: str | None) -> TokenPair:
        username = username.strip()
        citizen: Citizen | None
        if username.isdigit() and len(username) == 12:
            citizen = await Citizen.find_one(Citizen.national_id == username)
        else:
            phone = canonical_phone(username)
            citizen = await Citizen.find_one(Citizen.phone == phone) if phone else None
        # verify_password runs the hash even with no citizen, so timing does not tell.
        if not verify_password(citizen.password_hash if citizen else None, password) or citizen is None:
            raise BAD_CREDENTIALS
        assert citizen.id is not None
        refresh = secrets.token_urlsafe(32)
        session = AuthSession(
            citizen_id=citizen.id,
            refresh_token_hash=hash_token(refresh),
            expires_at=utcnow() + timedelta(days=self.settings.refresh_token_days),
            user_agent=(user_agent or "")[:200] or None,
        )
        await session.insert()
        assert session.id is not None
        return self._citizen_pair(citizen.id, session.id, refresh)

    async def refresh_citizen(self, refresh_token: str) -> TokenPair:
        new_refresh = secrets.token_urlsafe(32)
        now = utcnow()
        # Rotation is one atomic compare-and-set on the token hash: of two racing refreshes
        # with the same token only one wins, and the old token stops working.
        collection = AuthSession.get_pymongo_collection()
        raw = await collection.find_one_and_update(
            {"refresh_token_hash": hash_token(refresh_token), "revoked_at": None, "expires_at": {"$gt": now}},
            {"$set": {"refresh_token_hash": hash_token(new_refresh), "last_used_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            raise BAD_REFRESH
        return self._citizen_pair(raw["citizen_id"], raw["_id"], new_refresh)

    async def logout(self, principal: Principal) -> None:
        if principal.session_id is None:
            return
        await AuthSession.get_pymongo_collection().update_one(
            {"_id": PydanticObjectId(principal.session_id), "revoked_at": None},
            {"$set": {"revoked_at": utcnow()}},
        )

    async def agency_token(self, client_id: str, client_secret: str) -> AccessToken:
        agency = await Agency.find_one(Agency.client_id == client_id)
        if not verify_password(agency.client_secret_hash if agency else None, client_secret) or agency is None:
            raise BAD_CLIENT
        minutes = self.settings.agency_token_minutes
        return AccessToken(access_token=self._access_token("agency", agency.code, minutes), expires_in=minutes * 60)

    async def staff_token(self, username: str, password: str) -> AccessToken:
        staff = await Staff.find_one(Staff.username == username)
        if not verify_password(staff.password_hash if staff else None, password) or staff is None:
            raise BAD_CREDENTIALS
        minutes = self.settings.staff_token_minutes
        return AccessToken(access_token=self._access_token("staff", str(staff.id), minutes), expires_in=minutes * 60)
