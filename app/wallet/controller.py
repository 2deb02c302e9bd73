from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from app.config import Settings
from app.i18n import negotiate
from app.pagination import Page, clamp_limit
from app.security import AnyRequest, PrincipalRequest, agency_only, citizen_only
from app.wallet import lifecycle, service
from app.wallet.schemas import (
    DocumentEventIn,
    DocumentOut,
    DocumentTypeOut,
    IssueDocumentIn,
    RenewalIn,
    SignedDocumentOut,
)


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
        """One document of the citizen's wallet (any version, including one a renewal replaced)."""
        return await service.get_document(request.user.object_id, document_id)

    @get("/{document_id:str}/versions")
    async def versions(self, request: PrincipalRequest, document_id: FromPath[str]) -> Page[DocumentOut]:
        """Every version of this document, newest first."""
        return await service.document_versions(request.user.object_id, document_id)

    @get("/{document_id:str}/signed")
    async def signed(self, request: PrincipalRequest, document_id: FromPath[str]) -> SignedDocumentOut:
        """The whole document as a compact JWS, verifiable with /.well-known/jwks.json."""
        return await service.signed_document(request.user.object_id, document_id)


class AgencyDocumentController(Controller):
    path = "/api/v1/agency/documents"
    tags = ["agency"]
    guards = [agency_only]

    @post("/", status_code=HTTP_201_CREATED)
    async def issue(self, request: PrincipalRequest, data: JSONBody[IssueDocumentIn]) -> Response[DocumentOut]:
        """Issue a signed document into a citizen's wallet. The same `event_id` again returns the first document."""
        citizen = await service.citizen_by_national_id(data.national_id)
        assert citizen.id is not None
        document, _ = await service.issue(request.user, citizen.id, data.event_id, data.document())
        return Response(service.document_out(document), status_code=HTTP_201_CREATED)

    @post("/{document_id:str}/renewals", status_code=HTTP_201_CREATED)
    async def renew(
        self,
        request: PrincipalRequest,
        document_id: FromPath[str],
        data: JSONBody[RenewalIn],
    ) -> DocumentOut:
        """Issue the next version of one of this agency's documents; the old one becomes `superseded`.
        `number` and `fields` default to the current version's. Idempotent by `event_id`."""
        renewed = await lifecycle.renew(request.user, document_id, data)
        return service.document_out(renewed)

    @post("/{document_id:str}/events", status_code=200)
    async def event(
        self,
        request: PrincipalRequest,
        document_id: FromPath[str],
        data: JSONBody[DocumentEventIn],
    ) -> DocumentOut:
        """Suspend (`suspended`), revoke (`revoked`) or reinstate (`valid`) one of this agency's documents,
        with a `reason` the citizen reads. Idempotent by `event_id`; another agency's document is 404."""
        return await lifecycle.apply_status_event(request.user, document_id, data)


class DocumentTypesController(Controller):
    path = "/api/v1/document-types"
    tags = ["wallet"]

    @get("/")
    async def document_types(self, request: AnyRequest) -> dict[str, list[DocumentTypeOut]]:
        """The document types a wallet holds, each with its fields (and their JSON Schema). No sign-in needed."""
        return {"items": service.document_types(negotiate(request.headers.get("accept-language")))}
