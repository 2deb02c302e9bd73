from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from app.citizens.schemas import ClaimCodeOut
from app.citizens.verification import issue_claim_code
from app.config import Settings
from app.dossiers import public_tracking
from app.dossiers import service as dossiers
from app.dossiers.schemas import DossierIn, DossierOut, TrackingSecretOut
from app.guardians import service
from app.guardians.schemas import ChildIn, ChildOut
from app.i18n import Language, negotiate
from app.pagination import Page, clamp_limit
from app.security import PrincipalRequest, citizen_only
from app.wallet import service as wallet
from app.wallet.schemas import DocumentOut

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="A fresh random key per new dossier (e.g. a UUID); resend the same key when retrying.",
    ),
]


def _language(request: PrincipalRequest) -> Language:
    return negotiate(request.headers.get("accept-language"))


class GuardianController(Controller):
    """A parent managing children under 14. Every read or submission lands in the child's access log."""

    path = "/api/v1/me/children"
    tags = ["guardians"]
    guards = [citizen_only]

    @post("/", status_code=HTTP_201_CREATED)
    async def add_child(self, request: PrincipalRequest, data: JSONBody[ChildIn]) -> ChildOut:
        """Add a child under 14 (no account of their own). Needs e-ID level 2."""
        return await service.add_child(request.user.object_id, data)

    @get("/")
    async def children(self, request: PrincipalRequest) -> Page[ChildOut]:
        """The children this citizen manages (not those who took their account over)."""
        return Page(items=await service.list_children(request.user.object_id))

    @get("/{child_id:str}/documents")
    async def documents(
        self,
        request: PrincipalRequest,
        child_id: FromPath[str],
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DocumentOut]:
        """The child's documents, newest first."""
        child = await service.child_of(request.user.object_id, child_id)
        assert child.id is not None
        page = await wallet.list_documents(child.id, cursor, clamp_limit(limit, settings.page_limit_max))
        await service.record(child, request.user.object_id, "document.list", "wallet")
        return page

    @get("/{child_id:str}/documents/{document_id:str}")
    async def document(
        self, request: PrincipalRequest, child_id: FromPath[str], document_id: FromPath[str]
    ) -> DocumentOut:
        """One document of the child's wallet."""
        child = await service.child_of(request.user.object_id, child_id)
        assert child.id is not None
        document = await wallet.get_document(child.id, document_id)
        await service.record(child, request.user.object_id, "document.read", document.id)
        return document

    @post("/{child_id:str}/dossiers", status_code=HTTP_201_CREATED)
    async def submit(
        self,
        request: PrincipalRequest,
        child_id: FromPath[str],
        data: JSONBody[DossierIn],
        idempotency_key: IdempotencyKey = None,
    ) -> DossierOut:
        """Apply for a public service for the child. Retrying with the same `Idempotency-Key` returns the first."""
        child = await service.child_of(request.user.object_id, child_id)
        assert child.id is not None
        dossier, _ = await dossiers.submit(child.id, idempotency_key, data)
        await service.record(child, request.user.object_id, "dossier.submit", dossier.code)
        out = await dossiers.view_for_citizen(child.id, dossier.code, _language(request))
        out.tracking_secret = dossiers.receipt_secret(dossier)  # for the receipt (decision 0029)
        return out

    @post("/{child_id:str}/dossiers/{code:str}/tracking-secret", status_code=HTTP_201_CREATED)
    async def issue_tracking_secret(
        self, request: PrincipalRequest, child_id: FromPath[str], code: FromPath[str]
    ) -> TrackingSecretOut:
        """A new tracking secret for one of the child's dossiers, shown once; the previous one stops working."""
        child = await service.child_of(request.user.object_id, child_id)
        assert child.id is not None
        issued = await public_tracking.reissue(child.id, code)
        await service.record(child, request.user.object_id, "dossier.tracking_secret", issued.code)
        return issued

    @get("/{child_id:str}/dossiers")
    async def list_dossiers(
        self,
        request: PrincipalRequest,
        child_id: FromPath[str],
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DossierOut]:
        """The child's dossiers, newest first."""
        child = await service.child_of(request.user.object_id, child_id)
        assert child.id is not None
        page = await dossiers.list_for_citizen(
            child.id, cursor, clamp_limit(limit, settings.page_limit_max), _language(request)
        )
        await service.record(child, request.user.object_id, "dossier.list", "dossiers")
        return page

    @get("/{child_id:str}/dossiers/{code:str}")
    async def dossier(self, request: PrincipalRequest, child_id: FromPath[str], code: FromPath[str]) -> DossierOut:
        """One of the child's dossiers with its history."""
        child = await service.child_of(request.user.object_id, child_id)
        assert child.id is not None
        found = await dossiers.view_for_citizen(child.id, code, _language(request))
        await service.record(child, request.user.object_id, "dossier.read", found.code)
        return found

    @post("/{child_id:str}/claim-code", status_code=HTTP_201_CREATED)
    async def claim_code(
        self, request: PrincipalRequest, child_id: FromPath[str], settings: NamedDependency[Settings]
    ) -> ClaimCodeOut:
        """A one-time code for a child of 14 or more to take the account over; shown once."""
        child = await service.child_of(request.user.object_id, child_id)
        return await issue_claim_code(child, "guardian", request.user.id, settings.claim_code_hours)
