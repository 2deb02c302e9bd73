from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from app.audit import service
from app.config import Settings
from app.pagination import Page, clamp_limit
from app.security import PrincipalRequest, citizen_only


class AccessLogController(Controller):
    path = "/api/v1/me/access-log"
    tags = ["privacy"]
    guards = [citizen_only]

    @get("/")
    async def access_log(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[service.AccessLogEntry]:
        """Who looked at or changed your data (agencies, support staff, verifiers), newest first."""
        return await service.access_log(request.user.object_id, cursor, clamp_limit(limit, settings.page_limit_max))
