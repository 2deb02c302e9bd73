"""Counters packed for reading: one document per key and month holding its days, and per key
and year holding its months, for four views of the keys (decision 26, "Views").

The flat counters (one document per agency, procedure, province and day or month) are what
the rollup recomputes from the facts; a wide read over them fetched one document per key
and day, and the embedded store spends about as much on each document as on its content.
Here the same counters are summed over the key fields a view leaves out and packed by span,
so a quarter by day for every agency reads one document per agency and month, whatever the
number of procedures and provinces. The rollup keeps them from the flat counters it has just
written, slot by slot for the periods it touched (recomputed, never added to), and builds
them all in one pass the first time (`VERSION` in the rollup's state).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Literal

from beanie import Document
from pymongo import ReplaceOne, UpdateOne

from app.statistics import store
from app.statistics.facts import add_counters, empty_counters
from models.statistics import DailyStats, MonthlyStats, StatsView

# Bumped when the views' shape changes: the next rollup then rebuilds them all.
VERSION = 1
Grain = Literal["day", "month"]
# The key fields each view keeps, smallest view first: a read takes the first view that keeps
# every field it filters or groups on.
VIEWS: dict[str, tuple[str, ...]] = {
    "province": ("province",),
    "agency": ("agency_code",),
    "procedure": ("agency_code", "service_code"),
    "all": ("agency_code", "service_code", "province"),
}
FEW = 32
WRITE_BATCH = 500
# (agency_code, service_code, province, period): a flat counter document touched by the rollup.
Touched = tuple[str, str, str | None, str]


def view_for(fields: Iterable[str]) -> str:
    wanted = set(fields)
    return next(name for name, kept in VIEWS.items() if wanted <= set(kept))


def _source(grain: Grain) -> tuple[type[Document], str]:
    if grain == "day":
        return DailyStats, "day"
    return MonthlyStats, "month"


def _split(period: str) -> tuple[str, str]:
    """`2026-02-13` → (`2026-02`, `13`); `2026-02` → (`2026`, `02`)."""
    span, _, slot = period.rpartition("-")
    return span, slot


def _counters(raw: Mapping[str, Any]) -> dict[str, Any]:
    return add_counters(empty_counters(), raw)


def _filter(view: str, grain: Grain, names: Mapping[str, Any], span: str) -> dict[str, Any]:
    # `province: None` also matches a document without the field, as the flat counters have it.
    return {"view": view, "grain": grain, **names, "span": span}


async def _write(updates: Sequence[UpdateOne | ReplaceOne[dict[str, Any]]]) -> None:
    for start in range(0, len(updates), WRITE_BATCH):
        await store.write(StatsView, list(updates[start : start + WRITE_BATCH]))


async def refresh(grain: Grain, touched: Iterable[Touched]) -> int:
    """Recompute, in every view, the slots of the periods touched, from the flat counters."""
    source, field = _source(grain)
    groups: dict[tuple[str, tuple[Any, ...], str], set[str]] = defaultdict(set)
    for agency, service, province, period in touched:
        full = {"agency_code": agency, "service_code": service, "province": province}
        for view, kept in VIEWS.items():
            groups[(view, tuple(full[k] for k in kept), _split(period)[0])].add(period)
    updates: list[UpdateOne | ReplaceOne[dict[str, Any]]] = []
    for (view, key, span), wanted in sorted(groups.items(), key=lambda item: str(item[0])):
        names = dict(zip(VIEWS[view], key, strict=True))
        periods = sorted(wanted)
        which = {"$in": periods} if len(periods) <= FEW else {"$gte": periods[0], "$lte": periods[-1]}
        totals: dict[str, dict[str, Any]] = {}
        async for raw in store.counters(source, {**names, field: which}):
            if raw[field] in wanted:
                add_counters(totals.setdefault(raw[field], empty_counters()), raw)
        update: dict[str, Any] = {}
        if present := {f"slots.{_split(p)[1]}": totals[p] for p in periods if p in totals}:
            update["$set"] = present
        if gone := {f"slots.{_split(p)[1]}": "" for p in periods if p not in totals}:
            update["$unset"] = gone
        # Upserted: the filter's fields make the new document.
        updates.append(UpdateOne(_filter(view, grain, names, span), update, upsert=True))
    await _write(updates)
    return len(updates)


async def rebuild(grain: Grain) -> int:
    """Every view of `grain` from all the flat counters, in one pass in period order (the first
    run after the views were added, or changed)."""
    source, field = _source(grain)
    await store.delete_views(grain)
    built: dict[tuple[str, tuple[Any, ...], str], dict[str, dict[str, Any]]] = {}
    written = 0
    current_span: str | None = None

    async def flush() -> int:
        replaces: list[UpdateOne | ReplaceOne[dict[str, Any]]] = []
        for (view, key, span), slots in built.items():
            names = dict(zip(VIEWS[view], key, strict=True))
            where = _filter(view, grain, names, span)
            replaces.append(ReplaceOne(where, {**where, "slots": slots}, upsert=True))
        await _write(replaces)
        built.clear()
        return len(replaces)

    async for raw in store.counters(source, {}, order=field):
        span, slot = _split(raw[field])
        if span != current_span:
            written += await flush()
            current_span = span
        for view, kept in VIEWS.items():
            key = tuple(raw.get(k) for k in kept)
            slots = built.setdefault((view, key, span), {})
            add_counters(slots.setdefault(slot, empty_counters()), raw)
    return written + await flush()


async def read(
    grain: Grain, scope: Mapping[str, Any], group_by: Sequence[str], first: str, last: str
) -> list[dict[str, Any]]:
    """Counters per key of the smallest view that serves `scope` and `group_by`, for each period
    from `first` to `last` (days or months, inclusive), each with the date it starts (`_on`)."""
    view = view_for([*scope, *group_by])
    query = {"view": view, "grain": grain, **scope, "span": {"$gte": _split(first)[0], "$lte": _split(last)[0]}}
    found: list[dict[str, Any]] = []
    async for raw in store.views(query):
        names = {k: raw.get(k) for k in VIEWS[view]}
        for slot, counters in raw.get("slots", {}).items():
            period = f"{raw['span']}-{slot}"
            if first <= period <= last:
                on = date.fromisoformat(period if grain == "day" else f"{period}-01")
                found.append({**names, **_counters(counters), "_on": on})
    return found
