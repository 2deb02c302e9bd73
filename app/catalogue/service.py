"""The service catalogue as citizens read it, and loading it from its data file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from beanie import PydanticObjectId

from app.catalogue import cache, store
from app.catalogue.routing import Routing
from app.catalogue.schemas import (
    AttachmentSpecOut,
    FormFieldOut,
    PrefilledAttachment,
    PrefillOut,
    ServedByOut,
    ServiceOut,
    StepOut,
)
from app.errors import AppError, Text, not_found
from app.i18n import Language
from models.catalogue import CATALOGUE_FILE, Service, read_catalogue_file
from models.wallet import WalletDocument

SERVICE = Text("thủ tục", "service")


def service_out(service: Service, language: Language, routing: Routing | None = None) -> ServiceOut:
    """The procedure as citizens read it. `agency_code` is the agency that takes dossiers from
    every province without an agency of its own (the catalogue's, until another is registered
    nationwide); `served_by` says who serves where."""
    nationwide = routing.nationwide if routing else None
    agency_name = service.agency_name.pick(language) if service.agency_name else None
    if nationwide is not None and nationwide.agency_code != service.agency_code:
        agency_name = nationwide.name
    return ServiceOut(
        code=service.code,
        name=service.name.pick(language),
        agency_code=nationwide.agency_code if nationwide else service.agency_code,
        agency_name=agency_name,
        fee_vnd=service.fee_vnd,
        payment_timing=service.payment_timing,
        postage_fee_vnd=service.postage_fee_vnd,
        processing_days=service.processing_days,
        result_document_type=service.result_document_type,
        required_eid_level=service.required_eid_level,
        delivery_methods=list(service.delivery_methods),
        form_fields=[
            FormFieldOut(
                name=f.name,
                type=f.type,
                required=f.required,
                label=f.label.pick(language),
                max_length=f.max_length,
                choices=f.choices,
                prefill=f.prefill,
            )
            for f in service.form_fields
        ],
        attachments=[
            AttachmentSpecOut(
                name=a.name,
                label=a.label.pick(language),
                required=a.required,
                upload=a.upload,
                wallet_types=list(a.wallet_types),
            )
            for a in service.attachments
        ],
        steps=[
            StepOut(status=status.value, text=step.text.pick(language), notify=step.notify)
            for status in service.statuses()
            if (step := service.step(status)) is not None
        ],
        # Who may move a dossier of this procedure from which status to which.
        status_table={
            actor: {source.value: sorted(t.value for t in targets) for source, targets in moves.items()}
            for actor, moves in service.status_table.items()
        },
        catalogue_version=service.catalogue_version,
        renews_field=service.renews_field,
        served_by=[
            ServedByOut(
                agency_code=server.agency_code,
                name=server.name,
                provinces=list(server.provinces),
                nationwide=not server.provinces,
            )
            for server in (routing.served_by() if routing else [])
        ],
    )


def unknown_service(code: str) -> AppError:
    return AppError(
        422,
        "unknown-service",
        Text("Thủ tục không tồn tại", "Unknown service"),
        Text(
            "Không có thủ tục mã '{code}'. Hãy chọn một mã trong danh mục GET /api/v1/services.",
            "There is no service with code '{code}'. Pick a code from GET /api/v1/services.",
        ),
        params={"code": code},
    )


async def list_services() -> list[Service]:
    return await store.active_services()


async def find_service(code: str) -> Service | None:
    return await store.active_service(code)


async def get_service(code: str) -> Service:
    """The service a dossier asks for; an unknown or closed code is the caller's input error
    (422). From the API process's memory (app/catalogue/cache.py): a load that closes a
    procedure is announced, and forgotten at once."""
    service = await cache.CACHE.get(code, store.service)
    if service is None or not service.active:
        raise unknown_service(code)
    return service


async def service_of(code: str) -> Service:
    """The procedure of an existing dossier, closed or not (remembered by the API process,
    app/catalogue/cache.py)."""
    service = await cache.CACHE.get(code, store.service)
    if service is None:
        raise not_found(SERVICE)
    return service


async def procedures(codes: set[str]) -> dict[str, Service]:
    """The procedures of a page of dossiers, closed or not, by code (remembered by the API
    process, app/catalogue/cache.py: a page's procedures are a handful, read by every page)."""
    found = {code: await cache.CACHE.get(code, store.service) for code in sorted(codes)}
    return {code: service for code, service in found.items() if service is not None}


# What the catalogue owns in a stored procedure. `agency_code` is not in it when the
# procedure already exists: routing a procedure to another agency is an operator's
# decision (`cwallet agency create`), which a catalogue update must not undo.
_ROUTING = {"agency_code", "agency_name"}


async def load_catalogue(path: Path = CATALOGUE_FILE) -> int:
    """Insert or update every procedure of the catalogue file; close those it no longer lists.

    Returns how many procedures the file holds. Loading the same file twice changes nothing.
    """
    version, services = read_catalogue_file(path)
    for service in services:
        body: dict[str, Any] = {**service.model_dump(), "active": True, "catalogue_version": version}
        content = {k: v for k, v in body.items() if k not in _ROUTING}
        routing = {k: v for k, v in body.items() if k in _ROUTING}
        await store.upsert_service(service.code, content, routing)
    await store.close_services_except([s.code for s in services])
    await cache.announce_changed()
    return len(services)


async def loaded_version() -> str | None:
    found = await store.any_active_service()
    return found.catalogue_version if found else None


# --- prefill ------------------------------------------------------------------------------


def _from_document(document: WalletDocument, path: str) -> Any:
    if path == "number":
        return document.number
    if path in ("valid_from", "valid_until"):
        return getattr(document, path)
    if path.startswith("fields."):
        value: Any = document.fields
        for part in path.removeprefix("fields.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value
    return None


async def _newest_valid_documents(citizen_id: PydanticObjectId) -> dict[str, WalletDocument]:
    """The citizen's newest valid document of each type."""
    newest: dict[str, WalletDocument] = {}
    for document in await store.valid_documents(citizen_id):
        if document.type not in newest and document.shown_status(date.today()) == "valid":
            newest[document.type] = document
    return newest


async def prefill(citizen_id: PydanticObjectId, code: str) -> PrefillOut:
    """Fill the procedure's form from the citizen's profile and wallet. Reads only the caller's own data."""
    service = await find_service(code)
    if service is None:
        raise not_found(SERVICE)
    citizen = await store.citizen(citizen_id)
    if citizen is None:
        raise not_found(Text("tài khoản", "account"))
    documents = await _newest_valid_documents(citizen_id)
    profile = {
        "full_name": citizen.full_name,
        "date_of_birth": citizen.date_of_birth,
        "national_id": citizen.national_id,
        "phone": citizen.phone,
    }
    form: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in service.form_fields:
        if not spec.prefill:
            continue
        value: Any = None
        source = spec.prefill.split(".", 1)[0]
        if spec.prefill.startswith("profile."):
            value = profile.get(spec.prefill.removeprefix("profile."))
        elif spec.prefill.startswith("wallet:"):
            document_type, _, path = spec.prefill.removeprefix("wallet:").partition(".")
            document = documents.get(document_type)
            value = _from_document(document, path) if document else None
        if value is not None and value != "":
            form[spec.name] = value
            sources[spec.name] = source
    attachments = [
        PrefilledAttachment(name=spec.name, document_id=str(documents[t].id), document_type=t)
        for spec in service.attachments
        if (t := next((t for t in spec.wallet_types if t in documents), None)) is not None
    ]
    attached = {a.name for a in attachments}
    missing = [f.name for f in service.form_fields if f.required and f.name not in form]
    missing += [a.name for a in service.attachments if a.required and a.name not in attached]
    return PrefillOut(
        service_code=service.code, form=form, sources=sources, attachments=attachments, missing_required=missing
    )
