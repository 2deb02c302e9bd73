from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from app.catalogue import service
from app.catalogue.schemas import ServiceOut
from app.errors import Text, not_found
from app.i18n import negotiate
from app.pagination import Page
from app.security import AnyRequest


class CatalogueController(Controller):
    path = "/api/v1/services"
    tags = ["catalogue"]

    @get("/", security=[])
    async def list_services(self, request: AnyRequest) -> Page[ServiceOut]:
        """Every public service a citizen can apply for, in the caller's language. No sign-in needed."""
        language = negotiate(request.headers.get("accept-language"))
        return Page(items=[service.service_out(s, language) for s in await service.list_services()])

    @get("/{code:str}", security=[])
    async def get_service(self, request: AnyRequest, code: FromPath[str]) -> ServiceOut:
        """One service, with the form fields its dossier needs."""
        language = negotiate(request.headers.get("accept-language"))
        found = await service.find_service(code)
        if found is None:
            raise not_found(Text("thủ tục", "service"))
        return service.service_out(found, language)
