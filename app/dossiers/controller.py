from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.catalogue.service import service_of
from app.config import Settings
from app.dossiers import attachments, events, notices, service, supplement, timeline, worklist
from app.dossiers.notices import NoticeReceiptOut
from app.dossiers.schemas import (
    AgencyDossierOut,
    DossierIn,
    DossierOut,
    EventIn,
    RatingIn,
    SupplementAnswerIn,
    TimelineItemOut,
    UploadForm,
    UploadOut,
    WithdrawIn,
)
from app.dossiers.views import dossier_out
from app.errors import not_found
from app.i18n import Language, negotiate
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
# Litestar refuses bodies above this before our handler reads them; the configured cap
# (Settings.attachment_max_bytes) is checked while reading.
UPLOAD_BODY_LIMIT = 20 * 1024 * 1024


def _language(request: PrincipalRequest) -> Language:
    return negotiate(request.headers.get("accept-language"))


async def _out(request: PrincipalRequest, dossier: Dossier) -> DossierOut:
    return dossier_out(dossier, await service_of(dossier.service_code), _language(request))


class CitizenDossierController(Controller):
    path = "/api/v1/me/dossiers"
    tags = ["dossiers"]
    guards = [citizen_only]

    @post("/", status_code=HTTP_201_CREATED)
    async def submit(
        self,
        request: PrincipalRequest,
        data: JSONBody[DossierIn],
        idempotency_key: IdempotencyKey = None,
    ) -> DossierOut:
        """Apply for a public service. Retrying with the same `Idempotency-Key` returns the first dossier. The answer
        that creates it, and a retry of it, carry `tracking_secret`, for the receipt."""
        dossier, _ = await service.submit(request.user.object_id, idempotency_key, data)
        out = await _out(request, dossier)
        out.tracking_secret = service.receipt_secret(dossier)
        return out

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
            request.user.object_id, cursor, clamp_limit(limit, settings.page_limit_max), _language(request)
        )

    @get("/{code:str}")
    async def get_dossier(self, request: PrincipalRequest, code: FromPath[str]) -> DossierOut:
        """One dossier with its history, deadline, payment, checklist and parcel."""
        return await service.view_for_citizen(request.user.object_id, code, _language(request))

    @post("/{code:str}/withdraw", status_code=HTTP_200_OK)
    async def withdraw(
        self,
        request: PrincipalRequest,
        code: FromPath[str],
        data: JSONBody[WithdrawIn | None] = None,
    ) -> DossierOut:
        """Take the dossier back, only before the agency has received it. Doing it twice is harmless."""
        dossier = await service.withdraw(request.user.object_id, code, data or WithdrawIn())
        return await _out(request, dossier)

    @post("/{code:str}/supplement/answers", status_code=HTTP_200_OK)
    async def answer_supplement(
        self,
        request: PrincipalRequest,
        code: FromPath[str],
        data: JSONBody[SupplementAnswerIn],
    ) -> DossierOut:
        """Answer one item of the supplement checklist; the last answer sends the dossier back to processing."""
        dossier = await supplement.answer(request.user.object_id, code, data)
        return await _out(request, dossier)

    @post("/{code:str}/rating", status_code=HTTP_201_CREATED)
    async def rate(self, request: PrincipalRequest, code: FromPath[str], data: JSONBody[RatingIn]) -> DossierOut:
        """Rate the service (1 to 5, and a comment) once the dossier is completed; once per dossier."""
        return await _out(request, await service.rate(request.user.object_id, code, data))


class CitizenAttachmentController(Controller):
    path = "/api/v1/me/attachments"
    tags = ["dossiers"]
    guards = [citizen_only]

    @post("/", status_code=HTTP_201_CREATED, request_max_body_size=UPLOAD_BODY_LIMIT)
    async def upload(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> UploadOut:
        """Upload a paper for a dossier (multipart field `data`): PDF, JPEG or PNG by content, within the size cap."""
        return await attachments.upload(request.user.object_id, data.data, settings.attachment_max_bytes)

    @get("/{upload_id:str}")
    async def download(self, request: PrincipalRequest, upload_id: FromPath[str]) -> Stream:
        """One of the citizen's own uploads."""
        stored = await attachments.open_upload(request.user.object_id, upload_id)
        return Stream(stored.chunks, media_type=stored.content_type, headers={"content-length": str(stored.size)})


class TimelineController(Controller):
    path = "/api/v1/me/timeline"
    tags = ["dossiers"]
    guards = [citizen_only]

    @get("/")
    async def timeline(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[TimelineItemOut]:
        """Everything that happened to the citizen's dossiers, payments, deliveries and wallet, newest first."""
        return await timeline.timeline(
            request.user.object_id, _language(request), cursor, clamp_limit(limit, settings.page_limit_max)
        )


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
        deadline: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        code: FromQuery[str | None] = None,
        national_id: FromQuery[str | None] = None,
        due_after: FromQuery[str | None] = None,
        due_before: FromQuery[str | None] = None,
    ) -> Page[AgencyDossierOut]:
        """The agency's own dossiers, the nearest deadline first. `deadline`: on_track, at_risk, overdue (running
        clocks) or paused (waiting for the citizen). `code`: one dossier; `national_id`: one citizen's dossiers;
        `due_after`/`due_before` (YYYY-MM-DD, Vietnam's days, both included): a deadline window. Each read is
        recorded in the citizen's access log."""
        due_from, due_until = worklist.deadline_window(due_after, due_before)
        citizen_id = await worklist.citizen_by_national_id(national_id) if national_id is not None else None
        page_limit = clamp_limit(limit, settings.page_limit_max)
        if national_id is not None and citizen_id is None:
            return Page(items=[])  # nobody holds that number: nothing of theirs to list
        narrow = worklist.Narrowing(code=code, citizen_id=citizen_id, due_from=due_from, due_until=due_until)
        return await worklist.worklist(request.user, status, service_code, deadline, cursor, page_limit, narrow)

    @get("/{code:str}")
    async def get_dossier(self, request: PrincipalRequest, code: FromPath[str]) -> AgencyDossierOut:
        """One of the agency's dossiers; the read is recorded in the citizen's access log."""
        return await events.agency_view(request.user, await worklist.agency_dossier(request.user, code))

    @get("/{code:str}/notices")
    async def notices(self, request: PrincipalRequest, code: FromPath[str]) -> list[NoticeReceiptOut]:
        """Read receipts: the notices the citizen got about this dossier, when each was read, and the SMS and
        letters that followed an unread critical one. The look is recorded in the citizen's access log."""
        return await notices.receipts(request.user, await worklist.agency_dossier(request.user, code))

    @get("/{code:str}/attachments/{upload_id:str}")
    async def attachment(self, request: PrincipalRequest, code: FromPath[str], upload_id: FromPath[str]) -> Stream:
        """A paper uploaded with one of the agency's dossiers; the read is recorded in the citizen's access log."""
        dossier = await worklist.agency_dossier(request.user, code)
        if upload_id not in {str(i) for i in attachments.attached_upload_ids(dossier)}:
            raise not_found(attachments.ATTACHMENT)
        stored = await attachments.open_upload(dossier.citizen_id, upload_id)
        await events.record_agency_reads(request.user, [dossier], action="attachment.read")
        return Stream(stored.chunks, media_type=stored.content_type, headers={"content-length": str(stored.size)})

    @post("/{code:str}/events", status_code=HTTP_200_OK)
    async def post_event(
        self,
        request: PrincipalRequest,
        code: FromPath[str],
        data: JSONBody[EventIn],
    ) -> Response[DossierOut]:
        """Move the dossier to a new status. The same `event_id` again: the same answer, no second effect."""
        outcome = await events.apply_event(request.user, code, data)
        return Response(dossier_out(outcome.dossier, outcome.service, "vi"), status_code=HTTP_200_OK)
