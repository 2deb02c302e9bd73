from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from app.catalogue import routing, search, service
from app.catalogue.schemas import PrefillOut, ServiceOut
from app.errors import Text, not_found
from app.i18n import negotiate
from app.pagination import Page
from app.security import AnyRequest, PrincipalRequest, citizen_only


class CatalogueController(Controller):
    path = "/api/v1/services"
    tags = ["catalogue"]

    @get("/", security=[])
    async def list_services(self, request: AnyRequest, q: FromQuery[str | None] = None) -> Page[ServiceOut]:
        """Every public service a citizen can apply for, in the caller's language. No sign-in needed.

        With `q`, only those whose name (Vietnamese or English) or keywords hold a word of it,
        with or without diacritics ("ho chieu" finds "hộ chiếu"), best match first."""
        language = negotiate(request.headers.get("accept-language"))
        services = await service.list_services()
        if q is not None:
            services = search.search(services, q)
        agencies = await routing.all_agencies()
        return Page(items=[service.service_out(s, language, routing.routing_from(s.code, agencies)) for s in services])

    @get("/{code:str}", security=[])
    async def get_service(self, request: AnyRequest, code: FromPath[str]) -> ServiceOut:
        """One service, with the form fields, papers and status steps of its dossier."""
        language = negotiate(request.headers.get("accept-language"))
        found = await service.find_service(code)
        if found is None:
            raise not_found(Text("thủ tục", "service"))
        return service.service_out(found, language, await routing.routing_of(found.code))

    @get("/{code:str}/prefill", guards=[citizen_only])
    async def prefill(self, request: PrincipalRequest, code: FromPath[str]) -> PrefillOut:
        """The form as far as the citizen's profile and wallet can fill it, and which wallet papers fit."""
        return await service.prefill(request.user.object_id, code)
