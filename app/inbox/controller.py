from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from app.config import Settings
from app.i18n import negotiate
from app.inbox import service
from app.inbox.schemas import NotificationOut
from app.pagination import Page, clamp_limit
from app.security import PrincipalRequest, citizen_only


class InboxController(Controller):
    path = "/api/v1/me/notifications"
    tags = ["notifications"]
    guards = [citizen_only]

    @get("/")
    async def inbox(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[NotificationOut]:
        """The citizen's notifications, newest first."""
        return await service.list_inbox(
            request.user.object_id,
            negotiate(request.headers.get("accept-language")),
            cursor,
            clamp_limit(limit, settings.page_limit_max),
        )
