from __future__ import annotations

from typing import Annotated

from arq import ArqRedis
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.announcements import service
from app.announcements.schemas import AnnouncementIn, AnnouncementOut
from app.config import Settings
from app.pagination import Page, clamp_limit
from app.security import PrincipalRequest, admin_only

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="A fresh random key per announcement (e.g. a UUID); resend the same key when retrying.",
    ),
]


class AnnouncementController(Controller):
    path = "/api/v1/admin/announcements"
    tags = ["admin"]
    guards = [admin_only]

    @post("/")
    async def send(
        self,
        request: PrincipalRequest,
        data: JSONBody[AnnouncementIn],
        queue_pool: NamedDependency[ArqRedis],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AnnouncementOut]:
        """Send a message to everyone, or to one province (`segment.province`, the first three
        digits of the national ID). Workers fan it out; follow its progress with GET."""
        out, created = await service.create(request.user, data, idempotency_key, queue_pool)
        return Response(out, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @get("/")
    async def index(
        self,
        settings: NamedDependency[Settings],
        queue_pool: NamedDependency[ArqRedis],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[AnnouncementOut]:
        """Announcements, newest first, each with its progress."""
        return await service.list_announcements(cursor, clamp_limit(limit, settings.page_limit_max), queue_pool)

    @get("/{announcement_id:str}")
    async def show(self, announcement_id: FromPath[str], queue_pool: NamedDependency[ArqRedis]) -> AnnouncementOut:
        """One announcement and its progress: devices sent, failed, waiting, and batches done."""
        return await service.get(announcement_id, queue_pool)
