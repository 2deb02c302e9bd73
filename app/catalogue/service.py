"""The service catalogue as citizens read it."""

from __future__ import annotations

from app.catalogue.schemas import FormFieldOut, ServiceOut
from app.errors import AppError, Text
from app.i18n import Language
from models.catalogue import Service, read_catalogue


def service_out(service: Service, language: Language) -> ServiceOut:
    return ServiceOut(
        code=service.code,
        name=service.name.pick(language),
        agency_code=service.agency_code,
        fee_vnd=service.fee_vnd,
        processing_days=service.processing_days,
        result_document_type=service.result_document_type,
        required_eid_level=service.required_eid_level,
        delivery_methods=list(service.delivery_methods),
        form_fields=[
            FormFieldOut(
                name=f.name, type=f.type, required=f.required, label=f.label.pick(language), max_length=f.max_length
            )
            for f in service.form_fields
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
    return await Service.find_all().sort("code").to_list()


async def find_service(code: str) -> Service | None:
    return await Service.find_one(Service.code == code)


async def get_service(code: str) -> Service:
    """The service a dossier asks for; an unknown code is the caller's input error (422)."""
    service = await find_service(code)
    if service is None:
        raise unknown_service(code)
    return service


async def load_catalogue() -> int:
    """Insert or update every procedure of the catalogue file; returns how many."""
    services = read_catalogue()
    collection = Service.get_pymongo_collection()
    for service in services:
        body = service.model_dump(exclude={"id", "revision_id"})
        await collection.update_one({"code": service.code}, {"$set": body}, upsert=True)
    return len(services)
