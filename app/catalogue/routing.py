"""Which agency receives a new dossier: the rule, in one place (docs/decisions/0022).

The agencies registered for a procedure (`Agency.service_codes`) serve it where they say
(`Agency.provinces`; none listed: every province no other agency serves). For one procedure
and one place, the agency registered last takes the new dossiers: registering an agency is
how an operator hands a procedure (or a province of it) over, and dossiers already routed
stay where they are. A dossier goes to the agency of the province the citizen chose
(`province_code`), else of the province their postal address ends with, else to the
procedure's nationwide agency; when only provincial agencies serve it and none serves the
place, the citizen is told what to choose. A procedure no agency is registered for keeps
the catalogue's `agency_code`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.catalogue import store
from app.errors import AppError, FieldProblem, Text
from app.redis_channel import KeyedMemory
from models.catalogue import Service
from models.provinces import PROVINCES, label, province_of_address

_EPOCH = datetime.min.replace(tzinfo=UTC)
_FIELDS = {"code": 1, "name": 1, "service_codes": 1, "provinces": 1, "created_at": 1}


@dataclass(frozen=True)
class Server:
    agency_code: str
    name: str
    # The provinces it receives dossiers from; empty: every province without an agency of its own.
    provinces: tuple[str, ...] = ()


@dataclass
class Routing:
    nationwide: Server | None = None
    by_province: dict[str, Server] = field(default_factory=dict)

    def served_by(self) -> list[Server]:
        """Who receives new dossiers where: the nationwide agency first, then one entry per
        provincial agency with the provinces it actually takes."""
        provincial: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        for code, server in sorted(self.by_province.items()):
            provincial.setdefault(server.agency_code, []).append(code)
            names[server.agency_code] = server.name
        entries = [self.nationwide] if self.nationwide else []
        return entries + [Server(agency, names[agency], tuple(codes)) for agency, codes in provincial.items()]

    def choices(self) -> list[str]:
        return sorted(self.by_province)


def _registration_order(raw: dict[str, Any]) -> tuple[datetime, str]:
    created = raw.get("created_at")
    # Demo agencies upserted before `created_at` was written count as the oldest.
    when = created.replace(tzinfo=UTC) if isinstance(created, datetime) and created.tzinfo is None else created
    return (when if isinstance(when, datetime) else _EPOCH, str(raw.get("_id")))


def routing_from(service_code: str, agencies: Iterable[dict[str, Any]]) -> Routing:
    """The routing of one procedure from raw agency records (any order)."""
    routing = Routing()
    serving = [a for a in agencies if service_code in (a.get("service_codes") or [])]
    for raw in sorted(serving, key=_registration_order):
        provinces = tuple(raw.get("provinces") or ())
        server = Server(raw["code"], raw.get("name") or raw["code"], provinces)
        if not provinces:
            routing.nationwide = server
        for province in provinces:
            routing.by_province[province] = Server(server.agency_code, server.name)
    return routing


# Remembered by the API process while it follows the agencies' channel, and forgotten on
# any agency's write (app/agency_cache.py): a submission does not read the agencies.
ROUTINGS: KeyedMemory[Routing] = KeyedMemory(ttl_seconds=60.0)


async def _read_routing(service_code: str) -> Routing:
    return routing_from(service_code, await store.agencies({"service_codes": service_code}, _FIELDS))


async def routing_of(service_code: str) -> Routing:
    """Shared with other requests: read it, never change it."""
    routing = await ROUTINGS.get(service_code, _read_routing)
    assert routing is not None  # _read_routing always answers (a procedure nobody serves: empty)
    return routing


async def all_agencies() -> list[dict[str, Any]]:
    """Every agency's routing fields (a small collection), for the catalogue's `served_by`."""
    return await store.agencies({}, _FIELDS)


# --- choosing the agency of a new dossier ---------------------------------------------------


def _served_text(routing: Routing) -> Text | str:
    if routing.nationwide is not None:
        return Text("mọi tỉnh, thành phố", "every province")
    return ", ".join(label(code) for code in routing.choices())


def _choices_extra(routing: Routing) -> dict[str, Any]:
    return {
        "choices": [
            {"province_code": code, "name": PROVINCES.get(code, code), "agency_code": server.agency_code}
            for code, server in sorted(routing.by_province.items())
        ]
    }


def unknown_province(code: str, routing: Routing) -> AppError:
    return AppError(
        422,
        "invalid-input",
        Text("Dữ liệu không hợp lệ", "Invalid input"),
        Text(
            "Mã tỉnh, thành phố không đúng. Hãy sửa trường 'province_code' rồi gửi lại.",
            "The province code is wrong. Correct 'province_code' and send the request again.",
        ),
        errors=[
            FieldProblem(
                "province_code",
                Text(
                    "Không có tỉnh, thành phố mã '{code}'. Dùng mã 2 chữ số, ví dụ 01 (Hà Nội), 79 (Hồ Chí Minh); "
                    "thủ tục này nhận hồ sơ tại: {served}.",
                    "There is no province with code '{code}'. Use a two-digit code such as 01 (Hà Nội) or 79 (Hồ "
                    "Chí Minh); this procedure is served in: {served}.",
                ),
                {"code": code, "served": _served_text(routing)},
            )
        ],
        extra=_choices_extra(routing),
    )


def place_not_served(service: Service, routing: Routing, place: str | None) -> AppError:
    choices = ", ".join(label(code) for code in routing.choices())
    if place is None:
        message = Text(
            "Thủ tục này do cơ quan cấp tỉnh giải quyết: hãy chọn nơi nộp hồ sơ (province_code), một trong: {choices}.",
            "This procedure is handled by a provincial agency: choose where to file it (province_code), one of: "
            "{choices}.",
        )
    else:
        message = Text(
            "Chưa có cơ quan nhận hồ sơ thủ tục này tại {place}. Hãy chọn province_code là một trong: {choices}.",
            "No agency takes this procedure's dossiers for {place} yet. Set province_code to one of: {choices}.",
        )
    return AppError(
        422,
        "place-not-served",
        Text("Cần chọn nơi nộp hồ sơ", "Choose where to file"),
        Text(
            "Thủ tục '{service}' chỉ nhận hồ sơ tại một số tỉnh, thành phố. Hãy chọn 'province_code' theo "
            "'errors' rồi gửi lại.",
            "'{service}' is taken in some provinces only. Choose 'province_code' as 'errors' says and send again.",
        ),
        params={"service": service.code},
        errors=[FieldProblem("province_code", message, {"choices": choices, "place": label(place or "")})],
        extra=_choices_extra(routing),
    )


async def agency_for(service: Service, province_code: str | None, postal_address: str | None) -> tuple[str, str | None]:
    """The agency a new dossier of `service` goes to, and the province it was filed for (if
    any); a 422 saying what to choose when no agency serves the place."""
    routing = await routing_of(service.code)
    if province_code is not None and province_code not in PROVINCES:
        raise unknown_province(province_code, routing)
    place = province_code or province_of_address(postal_address)
    if place is not None and place in routing.by_province:
        return routing.by_province[place].agency_code, place
    if routing.nationwide is not None:
        return routing.nationwide.agency_code, place
    if not routing.by_province:
        # No agency registered for it yet: the agency the catalogue names, as before; it sees
        # these dossiers once registered under that code (the demo data's agencies are).
        return service.agency_code, place
    raise place_not_served(service, routing, place)
