from __future__ import annotations

from arq import ArqRedis
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from app.config import Settings
from app.inbox.outbox import flush
from app.pagination import Page, clamp_limit
from app.security import PrincipalRequest, agency_only, citizen_only
from app.wallet import service
from app.wallet.schemas import DocumentOut, IssueDocumentIn
from models.wallet import WalletDocument


class WalletController(Controller):
    path = "/api/v1/me/documents"
    tags = ["wallet"]
    guards = [citizen_only]

    @get("/")
    async def documents(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DocumentOut]:
        """The citizen's documents, newest first; `status` is true at the moment of reading."""
        return await service.list_documents(request.user.object_id, cursor, clamp_limit(limit, settings.page_limit_max))

    @get("/{document_id:str}")
    async def document(self, request: PrincipalRequest, document_id: FromPath[str]) -> DocumentOut:
        """One document of the citizen's wallet."""
        return await service.get_document(request.user.object_id, document_id)


class AgencyDocumentController(Controller):
    path = "/api/v1/agency/documents"
    tags = ["agency"]
    guards = [agency_only]

    @post("/", status_code=HTTP_201_CREATED)
    async def issue(
        self, request: PrincipalRequest, data: JSONBody[IssueDocumentIn], queue_pool: NamedDependency[ArqRedis]
    ) -> Response[DocumentOut]:
        """Issue a document into a citizen's wallet. The same `event_id` again returns the first document."""
        citizen = await service.citizen_by_national_id(data.national_id)
        assert citizen.id is not None
        document, _ = await service.issue(request.user, citizen.id, data.event_id, data.document())
        raw = await WalletDocument.get_pymongo_collection().find_one({"_id": document.id})
        if raw is not None:
            await flush(WalletDocument, raw, queue_pool)
        return Response(service.document_out(document), status_code=HTTP_201_CREATED)
