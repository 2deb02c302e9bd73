"""Papers of a dossier filed within an assisted session: files uploaded on the citizen's behalf
through the citizen's own upload checks (app/dossiers/attachments.py: sniffed by content,
capped, stored once per citizen), or documents of their wallet. All or nothing: a filing that
is refused leaves none of the files it stored behind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.datastructures import UploadFile

from app.audit.service import record
from app.catalogue.service import get_service
from app.dossiers import attachments
from app.dossiers.schemas import AttachmentIn, DossierIn
from app.dossiers.service import IDEMPOTENCY_KEY_REUSED
from app.errors import AppError, FieldProblem, Text, invalid_input
from app.security import Principal
from app.support import service
from models.catalogue import Service
from models.dossier import Dossier

# Tries of a filing whose files raced a copy of the same filing (a double click, see below).
ATTEMPTS = 3


@dataclass
class Paper:
    """One paper the procedure asks for (its catalogue name): a file, a wallet document's id, or both (refused)."""

    name: str
    file: UploadFile | None = None
    document_id: str | None = None


def _file_problem(procedure: Service, name: str, exc: AppError) -> FieldProblem:
    spec = next((a for a in procedure.attachments if a.name == name), None)
    label = Text(spec.label.vi, spec.label.en) if spec else Text(name, name)
    message = Text("'{label}': " + exc.detail.vi, "'{label}': " + exc.detail.en)
    return FieldProblem(f"attachments.{name}", message, {**exc.params, "label": label})


def _refused(problems: list[tuple[AppError, FieldProblem]]) -> AppError:
    if len(problems) == 1:
        # One bad file keeps its own answer (413 too large, 415 wrong type, 422 empty), naming the paper.
        exc, problem = problems[0]
        return AppError(exc.status, exc.code, exc.title, exc.detail, params=exc.params, errors=[problem])
    return invalid_input([problem for _, problem in problems])


async def _a_copy_vanished(citizen_id: Any, uploads: list[tuple[str, str]]) -> bool:
    """Whether an upload this try referred to is gone (deleted by the request that stored it)."""
    for _, upload_id in uploads:
        if await attachments.find_upload(citizen_id, upload_id) is None:
            return True
    return False


async def submit_with_papers(
    principal: Principal,
    session_id: str,
    idempotency_key: str | None,
    data: DossierIn,
    papers: list[Paper],
    max_bytes: int,
) -> tuple[Dossier, bool]:
    """`service.submit_for_citizen` with the papers attached: every file is judged before any is
    stored, and the files this call stored are deleted again when the dossier is refused."""
    session = await service.active_session(principal, session_id, "submit_dossier")
    procedure = await get_service(data.service_code)
    checked: list[tuple[str, attachments.CheckedFile]] = []
    problems: list[tuple[AppError, FieldProblem]] = []
    for paper in papers:
        if paper.file is None:
            continue
        try:
            checked.append((paper.name, await attachments.check(paper.file, max_bytes)))
        except AppError as exc:
            problems.append((exc, _file_problem(procedure, paper.name, exc)))
    if problems:
        raise _refused(problems)

    for attempt in range(1, ATTEMPTS + 1):
        stored: list[str] = []
        uploads: list[tuple[str, str]] = []
        try:
            for name, file in checked:
                out, new = await attachments.keep(session.citizen_id, file)
                uploads.append((name, out.id))
                if new:
                    stored.append(out.id)
            attached = [AttachmentIn(name=name, upload_id=upload_id) for name, upload_id in uploads]
            attached += [AttachmentIn(name=p.name, document_id=p.document_id) for p in papers if p.document_id]
            dossier, created = await service.submit_for_citizen(
                principal, session_id, idempotency_key, msgspec.structs.replace(data, attachments=attached)
            )
            break
        except Exception as exc:
            await attachments.discard(session.citizen_id, stored)
            # A double click raced this one: another copy of the same file went into the dossier
            # first. Ours (stored here) is gone now; a copy found by digest may be a third
            # request's losing copy, deleted by it meanwhile. The next try finds the winner's by
            # digest: the same dossier.
            if (
                attempt < ATTEMPTS
                and uploads
                and isinstance(exc, AppError)
                and (exc.code == IDEMPOTENCY_KEY_REUSED.code or await _a_copy_vanished(session.citizen_id, uploads))
            ):
                continue
            raise
    if created:
        actor = await service.staff_name(principal)
        for name, upload_id in uploads:
            await record(
                session.citizen_id,
                "staff",
                actor,
                "attachment.upload.assisted",
                upload_id,
                reason=f"assisted-session:{session_id}",
                changed_fields=[name],
            )
    return dossier, created
