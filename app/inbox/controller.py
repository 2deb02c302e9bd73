from __future__ import annotations

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from app.config import Settings
from app.i18n import negotiate
from app.inbox import preferences, service
from app.inbox.schemas import MarkedRead, NotificationOut, PreferencesIn, PreferencesOut, ReadChange, UnreadCount
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
        unread: FromQuery[bool] = False,
    ) -> Page[NotificationOut]:
        """The citizen's notifications, newest first (`?unread=true`: only those not read yet)."""
        return await service.list_inbox(
            request.user.object_id,
            negotiate(request.headers.get("accept-language")),
            cursor,
            clamp_limit(limit, settings.page_limit_max),
            unread_only=unread,
        )

    @get("/unread-count")
    async def unread_count(self, request: PrincipalRequest) -> UnreadCount:
        """How many notifications the citizen has not read yet (the badge on the app icon)."""
        return UnreadCount(unread=await service.unread_count(request.user.object_id))

    @patch("/{notification_id:str}")
    async def mark(
        self, request: PrincipalRequest, notification_id: FromPath[str], data: JSONBody[ReadChange]
    ) -> NotificationOut:
        """`{"read": true}` marks one notification read; `{"read": false}` unread again."""
        language = negotiate(request.headers.get("accept-language"))
        return await service.mark_read(request.user.object_id, notification_id, data.read, language)

    @post("/read-all", status_code=200)
    async def mark_all(self, request: PrincipalRequest) -> MarkedRead:
        """Mark every notification read; says how many were unread."""
        return MarkedRead(marked=await service.mark_all_read(request.user.object_id))


class NotificationPreferencesController(Controller):
    path = "/api/v1/me/notification-preferences"
    tags = ["notifications"]
    guards = [citizen_only]

    @get("/")
    async def show(self, request: PrincipalRequest) -> PreferencesOut:
        """Which categories are pushed, and the quiet hours (Vietnam time)."""
        return await preferences.get_preferences(request.user.object_id)

    @put("/")
    async def replace(self, request: PrincipalRequest, data: JSONBody[PreferencesIn]) -> PreferencesOut:
        """Replace the preferences. A category left out is pushed; during quiet hours pushes
        wait for their end (the inbox gets them at once), except critical ones."""
        return await preferences.put_preferences(request.user.object_id, data)
