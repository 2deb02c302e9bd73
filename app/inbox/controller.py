from __future__ import annotations

from litestar import Controller, Request, get

from app.config import Settings
from app.i18n import negotiate
from app.inbox import service
from app.inbox.schemas import NotificationOut
from app.pagination import Page, clamp_limit
from app.security import Principal, citizen_only


class InboxController(Controller):
    path = "/api/v1/me/notifications"
    tags = ["notifications"]
    guards = [citizen_only]

    @get("/")
    async def inbox(
        self,
        request: Request[Principal, object, object],
        settings: Settings,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[NotificationOut]:
        """The citizen's notifications, newest first."""
        return await service.list_inbox(
            request.user.object_id,
            negotiate(request.headers.get("accept-language")),
            cursor,
            clamp_limit(limit, settings.page_limit_max),
        )
