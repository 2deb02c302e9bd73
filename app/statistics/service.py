"""Reading the statistics: periods, tables and the ranking, from the rollups only.

A range is read as whole months from the months of a year and the days at its ragged ends
from the days of a month, in the smallest packed view that keeps the fields asked for
(app/statistics/views.py): a year by agency costs one or two documents per agency, a quarter
by day one per agency and month. Nothing here reads a dossier or a flat counter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.errors import FieldProblem, Text, invalid_input
from app.statistics import store, views
from app.statistics.facts import add_counters, empty_counters, quantile
from app.statistics.rollup import today_vn
from app.statistics.schemas import (
    PERIODS,
    BacklogRow,
    Period,
    RankingOut,
    RankingRow,
    StatisticsOut,
    StatsRow,
)
from models.statistics import Backlog

MAX_DAY_BUCKETS = 366
MAX_YEARS = 10
GROUP_FIELDS = ("province", "agency_code", "service_code")


@dataclass(frozen=True)
class Range:
    period: Period
    first: date
    last: date


def _problem(field: str, vi: str, en: str, **params: object) -> FieldProblem:
    return FieldProblem(field, Text(vi, en), dict(params))


def _parse_day(raw: str | None, name: str, problems: list[FieldProblem]) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(
            _problem(
                name,
                "'{value}' không phải là ngày dạng YYYY-MM-DD (ví dụ 2026-01-31).",
                "'{value}' is not a date of the form YYYY-MM-DD (e.g. 2026-01-31).",
                value=raw,
            )
        )
        return None


def parse_range(period: str | None, first: str | None, last: str | None) -> Range:
    """The period and the inclusive range of days; 422 with every problem at once."""
    problems: list[FieldProblem] = []
    chosen = period or "month"
    if chosen not in PERIODS:
        problems.append(
            _problem(
                "period",
                "Kỳ '{value}' không hợp lệ. Dùng một trong: {all}.",
                "Unknown period '{value}'. Use one of: {all}.",
                value=chosen,
                all=", ".join(PERIODS),
            )
        )
    end = _parse_day(last, "to", problems) or date.fromisoformat(today_vn())
    default_start = end.replace(day=1) if chosen == "day" else end.replace(month=1, day=1)
    start = _parse_day(first, "from", problems) or default_start
    if start > end:
        problems.append(
            _problem(
                "from",
                "Ngày bắt đầu {start} sau ngày kết thúc {end}. Hãy đổi 'from' hoặc 'to'.",
                "The start {start} is after the end {end}. Swap or correct 'from' and 'to'.",
                start=start.isoformat(),
                end=end.isoformat(),
            )
        )
    elif chosen == "day" and (end - start).days + 1 > MAX_DAY_BUCKETS:
        problems.append(
            _problem(
                "to",
                "Theo ngày thì tối đa {max} ngày. Hãy thu hẹp khoảng hoặc dùng period=month.",
                "By day the range is at most {max} days. Narrow it, or use period=month.",
                max=MAX_DAY_BUCKETS,
            )
        )
    elif end.year - start.year >= MAX_YEARS:
        problems.append(
            _problem(
                "from",
                "Khoảng thời gian tối đa {max} năm. Hãy thu hẹp khoảng.",
                "The range is at most {max} years. Narrow it.",
                max=MAX_YEARS,
            )
        )
    if problems:
        raise invalid_input(problems)
    return Range(chosen, start, end)  # type: ignore[arg-type]


def bucket_of(period: Period, day: date) -> tuple[str, date, date]:
    """The label, first and last day of the period that holds `day`."""
    if period == "day":
        return day.isoformat(), day, day
    if period == "year":
        return str(day.year), date(day.year, 1, 1), date(day.year, 12, 31)
    first_month = day.month if period == "month" else 3 * ((day.month - 1) // 3) + 1
    months = 1 if period == "month" else 3
    start = date(day.year, first_month, 1)
    after = date(start.year + (first_month + months - 1) // 12, (first_month + months - 1) % 12 + 1, 1)
    label = f"{day:%Y-%m}" if period == "month" else f"{day.year}-Q{(first_month - 1) // 3 + 1}"
    return label, start, after - timedelta(days=1)


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _split(first: date, last: date) -> tuple[list[str], list[tuple[date, date]]]:
    """Whole months inside [first, last], and the day ranges left at its ends."""
    months: list[str] = []
    edges: list[tuple[date, date]] = []
    cursor = first
    while cursor <= last:
        month_end = _month_after(cursor) - timedelta(days=1)
        if cursor.day == 1 and month_end <= last:
            months.append(f"{cursor:%Y-%m}")
        else:
            edges.append((cursor, min(month_end, last)))
        cursor = month_end + timedelta(days=1)
    return months, edges


async def _counter_docs(
    scope: Mapping[str, Any], group_by: tuple[str, ...], first: date, last: date, by_day: bool
) -> list[dict[str, Any]]:
    """Counters inside the range, each with the date it stands for (`_on`), from the packed
    views (app/statistics/views.py): whole months from the months of each year, the rest
    from the days of each month."""
    found: list[dict[str, Any]] = []
    months, edges = ([], [(first, last)]) if by_day else _split(first, last)
    if months:  # contiguous
        found += await views.read("month", scope, group_by, months[0], months[-1])
    for start, end in edges:
        found += await views.read("day", scope, group_by, start.isoformat(), end.isoformat())
    return found


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def indicators(counters: Mapping[str, Any]) -> dict[str, Any]:
    resolved = int(counters["resolved"])
    ratings = int(counters["rating_count"])
    histogram = counters["processing_histogram"]
    return {
        "received": counters["received"],
        "filed_online": counters["filed_online"],
        "assisted": counters["assisted"],
        "resolved": resolved,
        "resolved_on_time": counters["resolved_on_time"],
        "on_time_rate": _ratio(counters["resolved_on_time"], resolved),
        "processing_days_average": round(counters["processing_days_total"] / resolved, 2) if resolved else None,
        "processing_days_p90": quantile(histogram, 0.9),
        "supplement": counters["supplement"],
        "supplement_share": _ratio(counters["supplement"], resolved),
        "rejected": counters["rejected"],
        "rejected_share": _ratio(counters["rejected"], resolved),
        "results_in_wallet": counters["results_in_wallet"],
        "paid_online": counters["paid_online"],
        "rating_count": ratings,
        "rating_average": round(counters["rating_sum"] / ratings, 2) if ratings else None,
    }


def _grouped(docs: Iterable[dict[str, Any]], rng: Range, group_by: tuple[str, ...]) -> list[StatsRow]:
    buckets: dict[tuple[Any, ...], dict[str, Any]] = {}
    spans: dict[str, tuple[date, date]] = {}
    for raw in docs:
        label, start, end = bucket_of(rng.period, raw["_on"])
        spans[label] = (max(start, rng.first), min(end, rng.last))
        key = (label, *(raw.get(name) for name in group_by))
        add_counters(buckets.setdefault(key, empty_counters()), raw)
    rows = []
    for key in sorted(buckets, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        label, *values = key
        start, end = spans[label]
        names = dict(zip(group_by, values, strict=True))
        rows.append(
            StatsRow(
                period=label,
                period_start=start.isoformat(),
                period_end=end.isoformat(),
                **names,
                **indicators(buckets[key]),
            )
        )
    return rows


async def _backlog(scope: Mapping[str, Any], group_by: tuple[str, ...]) -> tuple[list[BacklogRow], datetime | None]:
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    as_of: datetime | None = None
    async for raw in store.counters(Backlog, dict(scope)):
        as_of = raw.get("as_of")
        row = rows.setdefault(
            tuple(raw.get(name) for name in group_by),
            {"overdue": 0, "late_up_to_5": 0, "late_6_to_10": 0, "late_over_10": 0},
        )
        for name in row:
            row[name] += int(raw.get(name) or 0)
    return [
        BacklogRow(**dict(zip(group_by, key, strict=True)), **counts)
        for key, counts in sorted(rows.items(), key=lambda item: tuple(str(v) for v in item[0]))
    ], as_of


async def table(rng: Range, scope: Mapping[str, Any], group_by: tuple[str, ...]) -> StatisticsOut:
    docs = await _counter_docs(scope, group_by, rng.first, rng.last, by_day=rng.period == "day")
    backlog, as_of = await _backlog(scope, group_by)
    return StatisticsOut(
        period=rng.period,
        from_=rng.first.isoformat(),
        to=rng.last.isoformat(),
        group_by=list(group_by),
        rows=_grouped(docs, rng, group_by),
        backlog=backlog,
        backlog_as_of=as_of,
    )


def group_fields(raw: str | None, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
    """`by=agency,procedure` → ("agency_code", "service_code")."""
    if not raw:
        return default
    names = {"province": "province", "agency": "agency_code", "procedure": "service_code"}
    chosen = [names.get(part.strip(), part.strip()) for part in raw.split(",") if part.strip()]
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        words = [k for k, v in names.items() if v in allowed]
        raise invalid_input(
            [
                _problem(
                    "by",
                    "Không nhóm được theo '{value}'. Dùng một hoặc vài giá trị: {all}.",
                    "Cannot group by '{value}'. Use one or more of: {all}.",
                    value=", ".join(unknown),
                    all=", ".join(words),
                )
            ]
        )
    return tuple(f for f in GROUP_FIELDS if f in chosen)


async def ranking(rng: Range, scope: Mapping[str, Any]) -> RankingOut:
    """Agencies over the whole range, best on-time rate first (more dossiers settled breaks ties)."""
    docs = await _counter_docs(scope, ("agency_code",), rng.first, rng.last, by_day=False)
    totals: dict[str, dict[str, Any]] = {}
    for raw in docs:
        add_counters(totals.setdefault(raw["agency_code"], empty_counters()), raw)
    backlog, _ = await _backlog(scope, ("agency_code",))
    overdue = {row.agency_code: row.overdue for row in backlog}
    figures = {code: indicators(counters) for code, counters in totals.items()}
    order = sorted(figures, key=lambda c: (-(figures[c]["on_time_rate"] or 0.0), -figures[c]["resolved"], c))
    return RankingOut(
        from_=rng.first.isoformat(),
        to=rng.last.isoformat(),
        rows=[
            RankingRow(
                rank=n,
                agency_code=code,
                resolved=figures[code]["resolved"],
                on_time_rate=figures[code]["on_time_rate"],
                processing_days_average=figures[code]["processing_days_average"],
                processing_days_p90=figures[code]["processing_days_p90"],
                rating_average=figures[code]["rating_average"],
                overdue=overdue.get(code, 0),
            )
            for n, code in enumerate(order, start=1)
        ],
    )
