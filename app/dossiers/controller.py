from __future__ import annotations

from typing import Annotated

from arq import ArqRedis
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.config import Settings
from app.dossiers import service
from app.dossiers.schemas import AgencyDossierOut, DossierIn, DossierOut, EventIn
from app.inbox.outbox import flush
from app.pagination import Page, clamp_limit
from app.security import PrincipalRequest, agency_only, citizen_only
from models.dossier import Dossier

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="A fresh random key per new dossier (e.g. a UUID); resend the same key when retrying.",
    ),
]


async def _flush(dossier: Dossier, pool: ArqRedis) -> None:
    if dossier.outbox:
        raw = await Dossier.get_pymongo_collection().find_one({"_id": dossier.id})
        if raw is not None:
            await flush(Dossier, raw, pool)


class CitizenDossierController(Controller):
    path = "/api/v1/me/dossiers"
    tags = ["dossiers"]
    guards = [citizen_only]

    @post("/", status_code=HTTP_201_CREATED)
    async def submit(
        self,
        request: PrincipalRequest,
        data: JSONBody[DossierIn],
        queue_pool: NamedDependency[ArqRedis],
        idempotency_key: IdempotencyKey = None,
    ) -> DossierOut:
        """Apply for a public service. Retrying with the same `Idempotency-Key` returns the first dossier."""
        dossier, _ = await service.submit(request.user.object_id, idempotency_key, data)
        # Also on a retry: if the first call died before queueing the push, this finishes it.
        await _flush(dossier, queue_pool)
        return service.dossier_out(dossier)

    @get("/")
    async def list_dossiers(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DossierOut]:
        """The citizen's dossiers, newest first."""
        return await service.list_for_citizen(
            request.user.object_id, cursor, clamp_limit(limit, settings.page_limit_max)
        )

    @get("/{code:str}")
    async def get_dossier(self, request: PrincipalRequest, code: FromPath[str]) -> DossierOut:
        """One dossier with its history."""
        return service.dossier_out(await service.get_for_citizen(request.user.object_id, code))


class AgencyDossierController(Controller):
    path = "/api/v1/agency/dossiers"
    tags = ["agency"]
    guards = [agency_only]

    @get("/")
    async def worklist(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        status: FromQuery[str | None] = None,
        service_code: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[AgencyDossierOut]:
        """The agency's own dossiers, oldest first. Each read is recorded in the citizen's access log."""
        return await service.worklist(
            request.user, status, service_code, cursor, clamp_limit(limit, settings.page_limit_max)
        )

    @post("/{code:str}/events", status_code=HTTP_200_OK)
    async def post_event(
        self,
        request: PrincipalRequest,
        code: FromPath[str],
        data: JSONBody[EventIn],
        queue_pool: NamedDependency[ArqRedis],
    ) -> Response[DossierOut]:
        """Move the dossier to a new status. The same `event_id` again: the same answer, no second effect."""
        dossier, _ = await service.apply_event(request.user, code, data)
        await _flush(dossier, queue_pool)
        return Response(service.dossier_out(dossier), status_code=HTTP_200_OK)
