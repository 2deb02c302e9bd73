"""Statistics routes: an agency's own figures, the administrators' view and ranking, and the
public summary. Every table is also CSV (`Accept: text/csv` or `?format=csv`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, Router, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from app.errors import FieldProblem, Text, invalid_input
from app.security import AnyRequest, PrincipalRequest, admin_only, agency_only
from app.statistics import service
from app.statistics.schemas import RankingOut, RankingRow, StatisticsOut, StatsRow

FORMATS = ("json", "csv")
CSV_TYPE = "text/csv; charset=utf-8"


def _query(name: str, description: str | None = None) -> QueryParameter:
    return QueryParameter(name=name, description=description, required=False)


PeriodQuery = Annotated[str | None, _query("period", "day, month (default), quarter or year: the rows' period")]
FromQuery = Annotated[str | None, _query("from", "first day, YYYY-MM-DD (Vietnamese date)")]
ToQuery = Annotated[str | None, _query("to", "last day, YYYY-MM-DD; today by default")]
FormatQuery = Annotated[str | None, _query("format", "json (default) or csv; or send Accept: text/csv")]
AgencyQuery = Annotated[str | None, _query("agency_code")]
ProvinceQuery = Annotated[str | None, _query("province", "three-digit province code, e.g. 001 (Hà Nội)")]
ProcedureQuery = Annotated[str | None, _query("service_code", "one procedure only")]


def _wants_csv(request: AnyRequest, fmt: str | None) -> bool:
    if fmt is not None and fmt not in FORMATS:
        raise invalid_input(
            [
                FieldProblem(
                    "format",
                    Text(
                        "Định dạng '{value}' không hỗ trợ. Dùng json hoặc csv.",
                        "Unknown format '{value}'. Use json or csv.",
                    ),
                    {"value": fmt},
                )
            ]
        )
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in (request.headers.get("accept") or "")


def _csv(rows: Sequence[msgspec.Struct], columns: Sequence[str], name: str) -> Response[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = msgspec.to_builtins(row)
        writer.writerow(["" if values.get(c) is None else values[c] for c in columns])
    return Response(
        out.getvalue().encode(),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Vary": "Accept"},
    )


def _table_answer(request: AnyRequest, table: StatisticsOut, fmt: str | None, name: str) -> Response[Any]:
    if _wants_csv(request, fmt):
        columns = [f for f in StatsRow.__struct_fields__ if f in table.group_by or f not in service.GROUP_FIELDS]
        return _csv(table.rows, columns, f"{name}-{table.period}-{table.from_}-{table.to}")
    return Response(table, headers={"Vary": "Accept"})


TABLE = {200: ResponseSpec(StatisticsOut, description="The table as JSON, or as CSV (text/csv) when asked")}
RANKING = {200: ResponseSpec(RankingOut, description="The ranking as JSON, or as CSV (text/csv) when asked")}


def _scope(**filters: str | None) -> dict[str, Any]:
    return {name: value for name, value in filters.items() if value}


class AgencyStatisticsController(Controller):
    path = "/agency/statistics"
    tags = ["statistics"]
    guards = [agency_only]

    @get("/", responses=TABLE)
    async def own(
        self,
        request: PrincipalRequest,
        period: PeriodQuery = None,
        first: FromQuery = None,
        last: ToQuery = None,
        by: Annotated[str | None, _query("by", "procedure (default) or agency (totals)")] = None,
        procedure: ProcedureQuery = None,
        fmt: FormatQuery = None,
    ) -> Response[Any]:
        """The calling agency's own indicators per period (by procedure), and its backlog now."""
        rng = service.parse_range(period, first, last)
        group_by = service.group_fields(by, ("agency_code", "service_code"), ("agency_code", "service_code"))
        scope = _scope(agency_code=request.user.agency_code, service_code=procedure)
        return _table_answer(request, await service.table(rng, scope, group_by), fmt, "statistics")


class AdminStatisticsController(Controller):
    path = "/admin/statistics"
    tags = ["statistics"]
    guards = [admin_only]

    @get("/", responses=TABLE)
    async def all_agencies(
        self,
        request: AnyRequest,
        period: PeriodQuery = None,
        first: FromQuery = None,
        last: ToQuery = None,
        by: Annotated[str | None, _query("by", "any of province, agency (default), procedure, comma-separated")] = None,
        agency: AgencyQuery = None,
        province: ProvinceQuery = None,
        procedure: ProcedureQuery = None,
        fmt: FormatQuery = None,
    ) -> Response[Any]:
        """Every agency's indicators per period (administrators only)."""
        rng = service.parse_range(period, first, last)
        group_by = service.group_fields(by, service.GROUP_FIELDS, ("agency_code",))
        scope = _scope(agency_code=agency, province=province, service_code=procedure)
        return _table_answer(request, await service.table(rng, scope, group_by), fmt, "statistics-all")

    @get("/ranking", responses=RANKING)
    async def ranking(
        self,
        request: AnyRequest,
        first: FromQuery = None,
        last: ToQuery = None,
        province: ProvinceQuery = None,
        fmt: FormatQuery = None,
    ) -> Response[Any]:
        """Agencies ranked by on-time rate over the range (administrators only)."""
        rng = service.parse_range("month", first, last)
        ranked: RankingOut = await service.ranking(rng, _scope(province=province))
        if _wants_csv(request, fmt):
            return _csv(ranked.rows, list(RankingRow.__struct_fields__), f"ranking-{ranked.from_}-{ranked.to}")
        return Response(ranked, headers={"Vary": "Accept"})


class PublicStatisticsController(Controller):
    path = "/public/statistics"
    tags = ["statistics"]

    @get("/", security=[], opt={"exclude_from_auth": True}, responses=TABLE)
    async def summary(
        self,
        request: AnyRequest,
        period: PeriodQuery = None,
        first: FromQuery = None,
        last: ToQuery = None,
        by: Annotated[str | None, _query("by", "province (default) or agency")] = None,
        agency: AgencyQuery = None,
        province: ProvinceQuery = None,
        fmt: FormatQuery = None,
    ) -> Response[Any]:
        """The published summary per province or agency, as the service portals publish it.
        No sign-in; counts only, nothing about any person."""
        rng = service.parse_range(period, first, last)
        group_by = service.group_fields(by, ("province", "agency_code"), ("province",))
        scope = _scope(agency_code=agency, province=province)
        return _table_answer(request, await service.table(rng, scope, group_by), fmt, "statistics-public")


statistics_router = Router(
    path="/api/v1",
    route_handlers=[AgencyStatisticsController, AdminStatisticsController, PublicStatisticsController],
)
