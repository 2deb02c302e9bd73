"""Following a dossier without signing in, as the public service portals allow: its code and
the secret printed on its receipt (decision 0029).

The answer is masked (status, dates, agency and procedure; nothing about the person). Every
lookup first takes a slot in two windows, per client address and per dossier code, atomically
in Redis (app/rate_limits.py), whatever it then finds: parallel guesses cannot slip past, and
one code cannot be tried more than its window allows from any number of addresses. An unknown
code, a wrong secret and a dossier without a secret get one and the same answer, after the
same work, so codes cannot be enumerated. A successful lookup is recorded in the citizen's
access log, so a citizen whose receipt went astray sees it and issues a new secret.
"""

from __future__ import annotations

import hashlib

from beanie import PydanticObjectId
from litestar import Controller, post
from litestar.middleware.rate_limit import DURATION_VALUES
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.audit.service import record
from app.catalogue.service import service_of
from app.config import Settings, get_settings
from app.dossiers import deadlines, store, tracking_secrets
from app.dossiers.expected import expected_for
from app.dossiers.schemas import PublicTrackingIn, PublicTrackingOut, TrackingSecretOut
from app.dossiers.service import get_for_citizen
from app.errors import AppError, Text
from app.i18n import Language, negotiate
from app.rate_limits import FixedWindows, Window, too_many_requests
from app.security import AnyRequest, PrincipalRequest, citizen_only
from models.common import utcnow
from models.dossier import Dossier

STORE = "tracking-lookups"

NOT_FOUND = AppError(
    404,
    "tracking-not-found",
    Text("Không tìm thấy hồ sơ", "Dossier not found"),
    Text(
        "Không có hồ sơ nào khớp với mã hồ sơ và mã tra cứu này. Hãy kiểm tra lại cả hai mã trên giấy biên nhận; "
        "nếu mất mã tra cứu, hãy đăng nhập ứng dụng để xem hồ sơ và cấp mã mới.",
        "No dossier matches this code and tracking secret. Check both against the receipt; if the secret is lost, "
        "sign in to the app to see the dossier and issue a new one.",
    ),
)


def _windows_store(request: AnyRequest) -> FixedWindows:
    """The windows over the app's Redis store, made once per app (the scripts register once)."""
    state = request.app.state
    cached: FixedWindows | None = getattr(state, "_tracking_windows", None)
    if cached is None:
        cached = FixedWindows(request.app.stores.get(STORE))
        state._tracking_windows = cached
    return cached


def _hashed(value: str) -> str:
    # Redis must not become a list of who looked up which dossier.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def windows(settings: Settings, address: str, code: str) -> list[Window]:
    prefix = f"tracking:{settings.mongodb_db}"
    return [
        Window(
            f"{prefix}:address:{_hashed(address)}",
            settings.tracking_lookups_per_address_minute,
            DURATION_VALUES["minute"],
        ),
        Window(f"{prefix}:code:{_hashed(code)}", settings.tracking_lookups_per_code_hour, DURATION_VALUES["hour"]),
    ]


async def masked(dossier: Dossier, language: Language) -> PublicTrackingOut:
    service = await service_of(dossier.service_code)
    agency = await store.agency(dossier.agency_code)
    step = service.step(dossier.status) if service else None
    now = utcnow()
    return PublicTrackingOut(
        code=dossier.code,
        status=dossier.status.value,
        step=step.text.pick(language) if step else None,
        service_code=dossier.service_code,
        service_name=service.name.pick(language) if service else None,
        agency_code=dossier.agency_code,
        agency_name=agency.name if agency else None,
        submitted_at=dossier.submitted_at,
        received_at=dossier.clock.received_at,
        due_at=deadlines.effective_due(dossier, now),
        expected=await expected_for(dossier, now),
        updated_at=dossier.history[-1].at if dossier.history else dossier.submitted_at,
    )


async def lookup(
    windows_store: FixedWindows, address: str, data: PublicTrackingIn, language: Language
) -> PublicTrackingOut:
    code = data.code.strip().upper()
    retry_after = await windows_store.take(windows(get_settings(), address, code))
    if retry_after:
        raise too_many_requests(retry_after, {})
    # Only the HMAC first: a known code with a wrong secret costs what an unknown one does.
    stored = await store.tracking_secret_hash(code)
    if not tracking_secrets.matches(code, data.secret, stored):
        raise NOT_FOUND
    dossier = await store.by_code(code)
    if dossier is None:  # deleted meanwhile
        raise NOT_FOUND
    await record(dossier.citizen_id, "public", "tracking-secret", "dossier.track", dossier.code)
    return await masked(dossier, language)


async def reissue(citizen_id: PydanticObjectId, code: str) -> TrackingSecretOut:
    """A new secret for the owner's dossier, to show once; the previous one stops working."""
    issued_at = utcnow()
    secret = ""

    async def attempt(dossier: Dossier) -> Dossier | None:
        nonlocal secret
        secret, digest = tracking_secrets.issue(dossier.code, issued_at)
        update = {"$set": {"tracking_secret_hash": digest, "tracking_secret_issued_at": issued_at}}
        return await store.write(dossier, update)

    dossier: Dossier = await store.retrying(lambda: get_for_citizen(citizen_id, code), attempt)
    return TrackingSecretOut(code=dossier.code, tracking_secret=secret, tracking_secret_issued_at=issued_at)


class PublicTrackingController(Controller):
    path = "/api/v1/public/tracking"
    tags = ["dossiers"]

    @post("/", status_code=HTTP_200_OK, security=[], opt={"exclude_from_auth": True})
    async def track(self, request: AnyRequest, data: JSONBody[PublicTrackingIn]) -> PublicTrackingOut:
        """Follow a dossier without signing in: its code and the tracking secret on the receipt. Masked: status,
        dates, agency and procedure only. Limited per address and per dossier code (429 with Retry-After); an
        unknown code and a wrong secret get the same 404."""
        client = request.scope.get("client")
        address = client[0] if client else "unknown"
        return await lookup(_windows_store(request), address, data, negotiate(request.headers.get("accept-language")))


class TrackingSecretController(Controller):
    path = "/api/v1/me/dossiers"
    tags = ["dossiers"]
    guards = [citizen_only]

    @post("/{code:str}/tracking-secret", status_code=HTTP_201_CREATED)
    async def issue(self, request: PrincipalRequest, code: FromPath[str]) -> TrackingSecretOut:
        """Issue a new tracking secret for one of the citizen's dossiers (for a dossier filed before secrets
        existed, or a lost receipt). Shown once; the previous secret stops working."""
        return await reissue(request.user.object_id, code)
