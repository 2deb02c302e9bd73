"""An agency's clerks in the console: the worklist, a dossier, its moves and supplement
checklists. Everything goes through the agency's own services (app/dossiers: worklist,
events → transitions, the one status writer) with the clerk's Principal, so the guards, the
agency's scope and the audit trail are the API's, naming the clerk (decision 0027)."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Stream, Template

from app.catalogue.service import service_of
from app.console.charts import over_time, performance_charts
from app.console.documents import document_from, inputs_of
from app.console.pages import local_time, page, problem, see_other
from app.console.texts import Words, language
from app.dossiers import attachments, events, transitions, worklist
from app.dossiers.schemas import AgencyDossierOut, EventIn
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.pagination import Page
from app.security import AnyRequest, PrincipalRequest, agency_only
from app.statistics import service as statistics
from app.statistics.rollup import today_vn
from app.statistics.schemas import PERIODS
from models.document_types import get_type
from models.dossier_status import DossierStatus

PAGE_SIZE = 25
CHECKLIST_KINDS = ("attachment", "wallet_document", "field", "other")
SUPPLEMENT = DossierStatus.SUPPLEMENT_REQUIRED.value
RESULT_READY = DossierStatus.RESULT_READY.value
PREVIEW_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
}


async def clerks_only(connection: Any, handler: Any) -> None:
    """Agency routes of the console are for its people, not for a machine client's token."""
    await agency_only(connection, handler)
    if connection.scope["user"].clerk is None:
        raise PermissionDeniedException()


async def heads_only(connection: Any, handler: Any) -> None:
    if connection.scope["user"].role != "head":
        raise PermissionDeniedException()


def deadline_class(dossier: AgencyDossierOut) -> str:
    """How close or late, for the colour (and the words beside it: colour is never alone)."""
    deadline = dossier.deadline
    if deadline is None or deadline.clock == "stopped":
        return "stopped"
    return "paused" if deadline.clock == "paused" else deadline.state


class ClerkController(Controller):
    path = "/console/agency"
    guards = [clerks_only]
    include_in_schema = False

    @get("/dossiers")
    async def worklist_page(self, request: PrincipalRequest) -> Template:
        query = request.query_params
        names = ("status", "service_code", "deadline", "code", "national_id")
        filters = {name: (query.get(name) or "").strip() or None for name in names}
        # As GET /api/v1/agency/dossiers narrows: one dossier by its code, one citizen's by their ID.
        citizen_id = await worklist.citizen_by_national_id(filters["national_id"]) if filters["national_id"] else None
        narrow = worklist.Narrowing(code=filters["code"], citizen_id=citizen_id)
        found = (
            await worklist.worklist(request.user, filters["status"], filters["service_code"], filters["deadline"],
                                    query.get("cursor") or None, PAGE_SIZE, narrow)
            if not (filters["national_id"] and citizen_id is None)
            else Page[AgencyDossierOut](items=[])
        )  # fmt: skip
        rows = [{"d": d, "state": deadline_class(d), "due": local_time(d.due_at)} for d in found.items]
        return page(
            request,
            "worklist.html",
            rows=rows,
            filters=filters,
            next_cursor=found.next_cursor,
            statuses=[s.value for s in DossierStatus],
            procedures=sorted(request.user.service_codes),
            deadline_states=worklist.DEADLINE_STATES,
        )

    @get("/dossiers/{code:str}")
    async def dossier_page(self, request: PrincipalRequest, code: FromPath[str]) -> Template:
        moved = request.query_params.get("moved")
        words = Words(language(request))
        message = words("moved", status=words.status_name(moved)) if moved in {s.value for s in DossierStatus} else None
        return await self._dossier(request, code, message=message)

    async def _dossier(self, request: PrincipalRequest, code: str, status: int = 200, **context: Any) -> Template:
        # The read is recorded in the citizen's access log, as the clerk (app/dossiers/events.py).
        dossier = await events.agency_view(request.user, await worklist.agency_dossier(request.user, code))
        service = await service_of(dossier.service_code)
        moves = transitions.allowed(service, "agency", DossierStatus(dossier.status))
        result_type = get_type(service.result_document_type or "") if RESULT_READY in moves else None
        return page(
            request,
            "dossier.html",
            status,
            d=dossier,
            state=deadline_class(dossier),
            due=local_time(dossier.due_at),
            when=local_time,
            moves=[m for m in moves if m != SUPPLEMENT],
            can_supplement=SUPPLEMENT in moves,
            # One id per showing of the form: sending it twice (a double click) moves the dossier once.
            event_id=f"console-{secrets.token_hex(8)}",
            kinds=CHECKLIST_KINDS,
            targets=[f.name for f in service.form_fields] + [a.name for a in service.attachments],
            result_type=result_type,
            result_inputs=inputs_of(result_type) if result_type else [],
            today=today_vn(),
            **context,
        )

    @post("/dossiers/{code:str}/moves", status_code=303)
    async def move(self, request: PrincipalRequest, code: FromPath[str]) -> Response[Any]:
        """A status move; `result_ready` with the result document when the form carries one."""
        form = await request.form()
        status = str(form.get("status") or "")
        body: dict[str, Any] = {
            "event_id": str(form.get("event_id") or "") or f"console-{secrets.token_hex(8)}",
            "status": status,
            "note": str(form.get("note") or "").strip() or None,
        }
        try:
            if status == RESULT_READY and form.get("doc_number") is not None:
                dossier = await worklist.agency_dossier(request.user, code)
                document_type = get_type((await service_of(dossier.service_code)).result_document_type or "")
                if document_type is not None:
                    body["result"] = {"document": document_from(form, document_type)}
            await events.apply_event(request.user, code, msgspec.convert(body, EventIn))
        except AppError as exc:
            return await self._dossier(request, code, exc.status, problem=problem(exc, language(request)))
        except msgspec.ValidationError as exc:
            return await self._dossier(request, code, 422, problem=problem(_unreadable(str(exc)), language(request)))
        return see_other(f"/console/agency/dossiers/{code}?moved={status}")

    @post("/dossiers/{code:str}/supplement", status_code=303)
    async def supplement(self, request: PrincipalRequest, code: FromPath[str]) -> Response[Any]:
        form = await request.form()
        rows = zip(*(form.getall(name) for name in ("kind", "target", "reason", "action")), strict=False)
        checklist = [
            {"kind": kind, "target": target.strip() or None, "reason": reason.strip(), "action": action.strip()}
            for kind, target, reason, action in rows
            if reason.strip() or action.strip()
        ]
        try:
            if not checklist:
                raise invalid_input([FieldProblem("checklist", Text(
                    "Hãy ghi ít nhất một mục cần bổ sung: lý do và việc công dân cần làm.",
                    "Write at least one item: the reason and what the citizen should do.",
                ))])  # fmt: skip
            # The note the procedure requires with this move: the clerk's, or the checklist read out.
            note = (form.get("note") or "").strip() or "\n".join(f"{i['reason']}: {i['action']}" for i in checklist)
            event = msgspec.convert(
                {"event_id": form.get("event_id") or f"console-{secrets.token_hex(8)}", "status": SUPPLEMENT,
                 "note": note, "checklist": checklist},
                EventIn,
            )  # fmt: skip
            await events.apply_event(request.user, code, event)
        except AppError as exc:
            return await self._dossier(request, code, exc.status, problem=problem(exc, language(request)))
        except msgspec.ValidationError as exc:
            return await self._dossier(request, code, 422, problem=problem(_unreadable(str(exc)), language(request)))
        return see_other(f"/console/agency/dossiers/{code}?moved={SUPPLEMENT}")

    @get("/checklist-row")
    async def checklist_row(self, request: AnyRequest) -> Template:
        """One more empty item of the checklist editor (htmx adds it without reloading)."""
        n = request.query_params.get("n", "2")
        number = int(n) if n.isdigit() and int(n) < 100 else 2
        # The button comes back too (out of band), counting on to the next item.
        return page(request, "checklist_row.html", n=number, kinds=CHECKLIST_KINDS, targets=[], oob=True)

    @get("/dossiers/{code:str}/attachments/{upload_id:str}")
    async def attachment(self, request: PrincipalRequest, code: FromPath[str], upload_id: FromPath[str]) -> Stream:
        """A paper of the dossier, for the preview; the read is audited as the API's is."""
        dossier = await worklist.agency_dossier(request.user, code)
        if upload_id not in {str(i) for i in attachments.attached_upload_ids(dossier)}:
            raise not_found(attachments.ATTACHMENT)
        stored = await attachments.open_upload(dossier.citizen_id, upload_id)
        await events.record_agency_reads(request.user, [dossier], action="attachment.read")
        # The dossier page previews it in a frame: this origin may frame it, nothing in it runs.
        headers = {"content-length": str(stored.size), **PREVIEW_HEADERS}
        return Stream(stored.chunks, media_type=stored.content_type, headers=headers)

    @get("/performance", guards=[heads_only])
    async def performance(self, request: PrincipalRequest) -> Template:
        """The agency's own figures (as GET /api/v1/agency/statistics), over time."""
        query = request.query_params
        period = query.get("period") or "month"
        rng = statistics.parse_range(period, query.get("from") or None, query.get("to") or None)
        table = await statistics.table(rng, {"agency_code": request.user.agency_code}, ("agency_code",))
        points = over_time(table.rows, rng)
        return page(
            request,
            "performance.html",
            points=points,
            backlog=table.backlog,
            period=period,
            periods=PERIODS,
            first=rng.first.isoformat(),
            last=rng.last.isoformat(),
            charts=performance_charts(points, Words(language(request))),
        )


def _unreadable(detail: str) -> AppError:
    """A form the service's schema refuses (too long, too many items, a malformed date): what
    the decoder said, which names the field."""
    return invalid_input([FieldProblem("form", Text("Biểu mẫu chưa đúng: {detail}", "The form is not right: {detail}"),
                                       {"detail": detail[:300]})])  # fmt: skip
