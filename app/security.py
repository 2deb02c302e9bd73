"""Who is calling: JWT bearer tokens (Litestar's JWTAuth), principals and guards.

One signing key and one middleware serve three kinds of caller. The kind is in the token's
audience and subject, and each route's guard admits one kind only, so a citizen's token is
useless on agency routes and the reverse.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from typing import Any, Literal

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from beanie import PydanticObjectId
from bson.errors import InvalidId
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from app.agency_cache import CACHE as AGENCIES
from app.agency_cache import AgencyPrincipal
from app.config import Settings, get_settings
from app.session_cache import CACHE as LIVE_SESSIONS
from app.token_check import CheckedToken
from models.agency import Agency, Clerk, Staff
from models.citizen import AuthSession
from models.postal import PostalOperator

PrincipalKind = Literal["citizen", "agency", "staff", "postal"]
AUDIENCES: dict[PrincipalKind, str] = {
    "citizen": "cwallet:citizen",
    "agency": "cwallet:agency",
    "staff": "cwallet:staff",
    "postal": "cwallet:postal",
}
ISSUER = "cwallet"


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2id with the library's recommended parameters; at argon2's floor only when
    ENVIRONMENT=test, because the suite hashes thousands of passwords on two cores. A hash
    carries its own parameters, so either verifies hashes made by the other."""
    if get_settings().environment == "test":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Verifying against this keeps the time of "no such account" equal to "wrong password".
    return _hasher().hash(secrets.token_urlsafe(16))


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    kind: PrincipalKind
    id: str
    session_id: str | None = None
    agency_code: str | None = None
    service_codes: tuple[str, ...] = ()
    document_types: tuple[str, ...] = ()
    # Agency powers beyond its services, e.g. "verify_identity" (models/agency.py).
    scopes: tuple[str, ...] = ()
    role: str | None = None
    # An agency's clerk (a person, decision 0027) rather than its machine client: their username.
    clerk: str | None = None

    @property
    def object_id(self) -> PydanticObjectId:
        return PydanticObjectId(self.id)

    @property
    def actor_id(self) -> str:
        """Who the audit trail names: the agency, or the agency and its clerk."""
        if self.kind == "agency" and self.clerk is not None:
            return f"{self.agency_code}/{self.clerk}"
        return self.agency_code if self.kind == "agency" and self.agency_code else self.id


# A request made with one of our tokens: `request.user` is the Principal.
PrincipalRequest = Request[Principal, Token, State]
AnyRequest = Request[Any, Any, State]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """Opaque high-entropy tokens (refresh tokens) are looked up by their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def _split_subject(token: Token) -> tuple[PrincipalKind, str] | None:
    kind, _, ident = token.sub.partition(":")
    if kind not in AUDIENCES or not ident:
        return None
    audience = token.aud if isinstance(token.aud, str) else None
    if audience != AUDIENCES[kind]:  # type: ignore[index]
        return None
    return kind, ident  # type: ignore[return-value]


async def retrieve_principal(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    split = _split_subject(token)
    if split is None:
        return None
    kind, ident = split
    try:
        if kind == "citizen":
            session_id = token.extras.get("sid")
            if not isinstance(session_id, str):
                return None
            if LIVE_SESSIONS.citizen_of(session_id) != ident and not await _session_is_live(session_id, ident):
                return None
            return Principal(kind="citizen", id=ident, session_id=session_id)
        if kind == "agency":
            # Remembered by the API process, forgotten on any write to it (app/agency_cache.py).
            agency = await AGENCIES.get(ident, _agency_principal)
            if agency is None:
                return None
            valid, clerk, role = await _clerk_of(token, agency.code)
            if not valid:
                return None
            return Principal(
                kind="agency",
                id=ident,
                agency_code=agency.code,
                service_codes=agency.service_codes,
                document_types=agency.document_types,
                scopes=agency.scopes,
                clerk=clerk,
                role=role,
            )
        if kind == "postal":
            operator = await PostalOperator.find_one(PostalOperator.code == ident)
            return None if operator is None else Principal(kind="postal", id=ident)
        staff = await Staff.get(PydanticObjectId(ident))
        if staff is None:
            return None
        return Principal(kind="staff", id=ident, role=staff.role)
    except InvalidId:
        return None


async def _agency_principal(code: str) -> AgencyPrincipal | None:
    # The four fields a principal takes, not the agency's secrets.
    raw = await Agency.get_pymongo_collection().find_one(
        {"code": code}, {"_id": 0, "code": 1, "service_codes": 1, "document_types": 1, "scopes": 1}
    )
    if raw is None:
        return None
    return AgencyPrincipal(
        code=raw["code"],
        service_codes=tuple(raw.get("service_codes") or ()),
        document_types=tuple(raw.get("document_types") or ()),
        scopes=tuple(raw.get("scopes") or ()),
    )


async def _clerk_of(token: Token, agency_code: str) -> tuple[bool, str | None, str | None]:
    """(valid, username, role) of the clerk a token names: (True, None, None) for the machine
    client, not valid when the clerk is unknown, disabled or moved to another agency."""
    clerk_id = token.extras.get("clerk")
    if clerk_id is None:
        return True, None, None
    clerk = await Clerk.get(PydanticObjectId(str(clerk_id)))
    if clerk is None or clerk.disabled_at is not None or clerk.agency_code != agency_code:
        return False, None, None
    return True, clerk.username, clerk.role


async def _session_is_live(session_id: str, citizen_id: str) -> bool:
    generation = LIVE_SESSIONS.generation
    # Three fields, not the whole session: the rotated token hashes are of no use here.
    raw = await AuthSession.get_pymongo_collection().find_one(
        {"_id": PydanticObjectId(session_id)}, {"citizen_id": 1, "revoked_at": 1, "expires_at": 1}
    )
    # A revoked session (logout, refresh reuse, lock) ends its access tokens at once.
    if raw is None or raw.get("revoked_at") is not None or str(raw.get("citizen_id")) != citizen_id:
        return False
    LIVE_SESSIONS.remember(session_id, citizen_id, raw["expires_at"], generation)
    return True


def build_jwt_auth(settings: Settings) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        retrieve_user_handler=retrieve_principal,
        # Our own tokens, verified without PyJWT's per-call key checks (app/token_check.py).
        token_cls=CheckedToken,
        token_secret=settings.jwt_secret,
        algorithm="HS256",
        accepted_audiences=list(AUDIENCES.values()),
        accepted_issuers=[ISSUER],
        require_claims=["exp", "sub", "aud", "iss"],
        exclude=[
            "^/health",
            "^/schema",
            "^/metrics",
            "^/api/v1/citizens$",
            "^/api/v1/citizens/claim$",
            "^/api/v1/auth/token$",
            "^/api/v1/auth/refresh$",
            "^/api/v1/agency/token$",
            "^/api/v1/staff/token$",
            # The catalogue is public; a procedure's prefill reads the caller's wallet.
            "^/api/v1/services/?$",
            "^/api/v1/services/[^/]+/?$",
            "^/api/v1/postal/token$",
            # The payment provider signs its callback (HMAC), it has no token.
            "^/api/v1/payments/callback$",
            # Verifiers have no account: the signing keys, the online check and the type registry.
            "^/\\.well-known/jwks\\.json$",
            "^/api/v1/verify/?$",
            "^/api/v1/document-types/?$",
            # The console signs people in with a cookie session of its own (app/console/session.py).
            "^/console(/|$)",
        ],
    )


# Guards are `async def`: Litestar runs a plain `def` guard in a worker thread.
def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException()
    return user


async def citizen_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _principal(connection).kind != "citizen":
        raise PermissionDeniedException()


async def agency_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _principal(connection).kind != "agency":
        raise PermissionDeniedException()


async def staff_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _principal(connection).kind != "staff":
        raise PermissionDeniedException()


async def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = _principal(connection)
    if principal.kind != "staff" or principal.role != "admin":
        raise PermissionDeniedException()


async def postal_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _principal(connection).kind != "postal":
        raise PermissionDeniedException()
