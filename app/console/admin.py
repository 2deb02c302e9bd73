"""Admins in the console, under the API's admin guard: announcements with a live progress bar
(app/announcements, as /api/v1/admin/announcements), staff and clerk accounts (app/staff,
app/auth/clerks.py, as the CLI), and agency secrets' rotation (app/auth/agencies.py)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import structlog
from arq import ArqRedis
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.announcements import service
from app.announcements.schemas import AnnouncementIn, AnnouncementOut
from app.auth import agencies, clerks
from app.config import Settings
from app.console.pages import is_fragment, page, problem, see_other
from app.console.texts import language
from app.errors import AppError, FieldProblem, Text, invalid_input
from app.security import PrincipalRequest, admin_only
from app.staff import service as staff_service

log = structlog.get_logger(__name__)
LISTED = 20
USERNAME = re.compile(r"[a-z0-9._-]{3,64}")


@dataclass
class ClerkForm:
    agency_code: str = ""
    username: str = ""
    role: str = "clerk"


ClerkData = Annotated[ClerkForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass
class StaffForm:
    username: str = ""
    role: str = "support"
    office: str = ""


StaffData = Annotated[StaffForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass
class AnnouncementForm:
    title_vi: str = ""
    title_en: str = ""
    body_vi: str = ""
    body_en: str = ""
    province: str = ""
    idempotency_key: str = ""


AnnouncementData = Annotated[AnnouncementForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


def shown(announcement: AnnouncementOut) -> dict[str, Any]:
    """The progress bar's figures: devices handled (sent, failed or dropped) out of all planned."""
    p = announcement.progress
    handled = p.sent + p.failed + p.dropped
    return {
        "a": announcement,
        "handled": handled,
        "total": max(p.devices, handled),
        "live": announcement.state != "done",
    }


class AdminConsoleController(Controller):
    path = "/console/admin"
    guards = [admin_only]
    include_in_schema = False

    @get("/announcements")
    async def announcements(self, request: PrincipalRequest) -> Template:
        return await self._page(request)

    async def _page(self, request: PrincipalRequest, status: int = 200, **context: Any) -> Template:
        listed = await service.list_announcements(None, LISTED, request.app.state.queue_pool)
        return page(
            request,
            "announcements.html",
            status,
            items=[shown(a) for a in listed.items],
            # Drawn when the form is shown: sending it twice sends one announcement.
            idempotency_key=f"console-{secrets.token_hex(12)}",
            **context,
        )

    @post("/announcements", status_code=303)
    async def send(
        self, request: PrincipalRequest, data: AnnouncementData, queue_pool: NamedDependency[ArqRedis]
    ) -> Response[Any]:
        body = {
            "title": {"vi": data.title_vi.strip(), "en": data.title_en.strip()},
            "body": {"vi": data.body_vi.strip(), "en": data.body_en.strip()},
            "segment": {"province": data.province.strip() or None},
        }
        try:
            try:
                announcement = msgspec.convert(body, AnnouncementIn)
            except msgspec.ValidationError:
                raise invalid_input([FieldProblem("title", Text(
                    "Hãy ghi tiêu đề (tối đa 100 ký tự) và nội dung (tối đa 1000 ký tự) bằng cả hai thứ tiếng.",
                    "Write the title (100 characters at most) and the text (1000 at most) in both languages.",
                ))]) from None  # fmt: skip
            key = data.idempotency_key[:128] if len(data.idempotency_key) >= 8 else None
            await service.create(request.user, announcement, key, queue_pool)
        except AppError as exc:
            return await self._page(request, exc.status, problem=problem(exc, language(request)), form=data)
        return see_other("/console/admin/announcements")

    @get("/accounts")
    async def accounts(self, request: PrincipalRequest) -> Template:
        return await self._accounts(request)

    async def _accounts(self, request: PrincipalRequest, status: int = 200, **context: Any) -> Template:
        return page(
            request,
            "accounts.html",
            status,
            staff=await staff_service.list_staff(),
            clerks=await clerks.list_clerks(),
            agencies=await agencies.list_agencies(),
            **context,
        )

    @post("/clerks", status_code=200)
    async def new_clerk(self, request: PrincipalRequest, data: ClerkData) -> Template:
        """A clerk account; its password and TOTP secret are shown this once."""
        role = data.role if data.role in ("clerk", "head") else "clerk"
        try:
            _check_username(data.username)
            created = await clerks.create(data.agency_code, data.username.strip(), role)  # type: ignore[arg-type]
        except clerks.ClerkRefused as refused:
            return await self._accounts(request, 409, problem={"title": str(refused), "detail": "", "fields": []})
        except AppError as exc:
            return await self._accounts(request, exc.status, problem=problem(exc, language(request)))
        return await self._accounts(request, created=created)

    @post("/staff", status_code=200)
    async def new_staff(self, request: PrincipalRequest, data: StaffData) -> Template:
        """A support or admin account; its password and TOTP secret are shown this once."""
        role = data.role if data.role in ("support", "admin") else "support"
        try:
            _check_username(data.username)
            created = await staff_service.create(data.username.strip(), role, data.office.strip()[:200])  # type: ignore[arg-type]
        except staff_service.StaffRefused as refused:
            return await self._accounts(request, 409, problem={"title": str(refused), "detail": "", "fields": []})
        except AppError as exc:
            return await self._accounts(request, exc.status, problem=problem(exc, language(request)))
        return await self._accounts(request, created=created)

    @post("/clerks/{username:str}/disable", status_code=303)
    async def disable_clerk(self, username: FromPath[str]) -> Response[Any]:
        await clerks.disable(username)
        return see_other("/console/admin/accounts")

    @post("/agencies/{code:str}/rotate", status_code=200)
    async def rotate(
        self, request: PrincipalRequest, code: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template:
        """A new client secret for the agency's system, shown once; the old one works for the overlap."""
        try:
            rotated = await agencies.rotate_secret(code, settings.agency_secret_overlap_hours)
        except AppError as exc:
            return await self._accounts(request, exc.status, problem=problem(exc, language(request)))
        log.info("agency_secret_rotated", agency_code=code, by=request.user.id)  # never the secret
        return await self._accounts(request, rotated=rotated, rotated_code=code)

    @get("/announcements/{announcement_id:str}/progress")
    async def progress(self, request: PrincipalRequest, announcement_id: FromPath[str]) -> Template:
        """The bar alone, which htmx asks for every two seconds until the sending is done."""
        item = shown(await service.get(announcement_id, request.app.state.queue_pool))
        if is_fragment(request):
            return page(request, "announcement_progress.html", item=item)
        return page(request, "announcements.html", items=[item], idempotency_key=None)


def _check_username(username: str) -> None:
    if not USERNAME.fullmatch(username.strip()):
        raise invalid_input([FieldProblem("username", Text(
            "Tên đăng nhập: 3 đến 64 chữ thường, số, dấu chấm, gạch ngang hoặc gạch dưới.",
            "A username is 3 to 64 lowercase letters, digits, dots, hyphens or underscores.",
        ))])  # fmt: skip
