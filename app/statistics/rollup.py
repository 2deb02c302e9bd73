"""Keeping the statistics rollups up to date (decision 26).

A cron job (workers/settings.py) finds the dossiers changed since its last run, re-derives
each one's facts (app/statistics/facts.py), and recomputes the day counters those facts
touch (before and after the change), then the months of those days, the recent processing
histograms of the procedures touched, and the backlog. Every step recomputes from stored
facts rather than adding deltas, so running it twice, or after a crash, gives the same
counters. A lease in the store keeps two runs (two workers, or a test beside the cron) from
interleaving.

"Changed since" is a later `changed_at`, which every dossier write sets, the insert
included (app/dossiers/store.py). Each run looks back `LOOKBACK` before its last start, so a write
stamped just before a run but stored just after it is still seen. The look-back is short: each
run re-reads every dossier changed within it, so five minutes made the store read each change
six times over (decision 26, 2026-12-02 evening). A write that took longer than that to land,
or a host whose clock ran that far behind, is caught by the nightly recheck: the first run in
`RECHECK_HOURS` (Vietnam time) looks back to the previous recheck's start. Dossiers stored
before `changed_at` existed lack it: the first run after that upgrade (`CHANGES_VERSION`) reads
every dossier once.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from beanie import Document
from pymongo import DeleteOne, InsertOne, ReplaceOne

from app.in_lists import IN_LIST_MAX, pieces
from app.statistics import store, views
from app.statistics.facts import (
    add_counters,
    counters_for_day,
    day_of,
    days_of_month,
    empty_counters,
    facts_of,
    merge_histogram,
    month_of,
)
from models.common import utcnow
from models.statistics import Backlog, DailyStats, DossierFacts, MonthlyStats, RecentProcessing
from models.working_days import local, working_days_between

log = structlog.get_logger(__name__)

# Covers the clock difference between the hosts that stamp `changed_at` (NTP keeps it far
# below a second) and a write's time between its stamp and the store.
LOOKBACK = timedelta(seconds=30)
# The nightly recheck: once a night, in these local hours, a run looks back over everything
# changed since the previous recheck (a day), for a change that landed later than LOOKBACK.
RECHECK_HOURS = range(2, 5)
RECHECK_EVERY = timedelta(hours=20)
# How the rollup finds changed dossiers: 1 = `changed_at` (before: history, rating and
# payment moments). A state written by another version reads every dossier once.
CHANGES_VERSION = 1
LEASE = timedelta(minutes=10)
# Dossiers (and their facts) read by one `$in` (app/in_lists.py says why 100).
BATCH = IN_LIST_MAX
# Up to this many touched days of a procedure are read by name, more as one range.
FEW_DAYS = 32
# The recent window a citizen's expected date is drawn from, in calendar days of resolution.
RECENT_WINDOW_DAYS = 180
# Dossier fields the facts read: loading the rest (forms, attachments, outbox) is wasted work.
FACT_FIELDS = {
    name: 1
    for name in (
        "agency_code",
        "service_code",
        "province_code",
        "submitted_at",
        "assisted_by",
        "clock",
        "history.status",
        "history.at",
        "due_at",
        "result_document_id",
        "payment.paid_at",
        "rating",
    )
}

Procedure = tuple[str, str]  # (agency_code, service_code)
# (agency_code, service_code, province): what one counter document is about, besides its period.
Key = tuple[str, str, str | None]


@dataclass
class RollupReport:
    dossiers_seen: int = 0
    facts_changed: int = 0
    days: int = 0
    months: int = 0
    windows: int = 0
    backlog_keys: int = 0
    view_documents: int = 0
    touched: set[tuple[str, str, str | None, str]] = field(default_factory=set)


async def _take_lease(holder: str, now: datetime, wait: timedelta) -> dict[str, Any]:
    """The state document, leased to `holder`; waits (polling the lease) while another run holds it."""
    deadline = utcnow() + wait
    await store.ensure_state()
    while True:
        taken = await store.try_lease(holder, utcnow() + LEASE)
        if taken is not None:
            return taken
        if utcnow() > deadline:
            raise TimeoutError("another statistics rollup holds the lease")
        await asyncio.sleep(0.2)


async def _dossier_batches(since: datetime | None) -> AsyncIterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Changed dossiers (their fact fields) in batches, each with the filter that finds the
    facts stored for them: their ids (`$in`, point reads of the `_id` index; a range over
    `_id` would be a collection scan of the facts on the embedded store). The first run
    reads every dossier, window by window (store.all_dossiers)."""
    if since is None:
        async for window in store.all_dossiers(FACT_FIELDS):
            for batch in pieces(window, BATCH):
                yield list(batch), {"_id": {"$in": [raw["_id"] for raw in batch]}}
        return
    for piece in pieces(await store.changed_dossier_ids(since), BATCH):
        ids = list(piece)
        yield await store.dossiers(ids, FACT_FIELDS), {"_id": {"$in": ids}}


async def _refresh_facts(
    since: datetime | None, report: RollupReport, seen: Callable[[int], None] | None = None
) -> None:
    async for batch, stored_filter in _dossier_batches(since):
        stored = {raw["_id"]: raw async for raw in store.facts(stored_filter)}
        writes: list[store.Write] = []
        for raw in batch:
            report.dossiers_seen += 1
            new = facts_of(raw)
            old = stored.get(raw["_id"])
            if old is not None:
                old.pop("_id")
                old.pop("revision_id", None)
                if old == new:
                    continue
                report.touched.update(
                    (old["agency_code"], old["service_code"], old["province"], d) for d in old["days"]
                )
            report.touched.update((new["agency_code"], new["service_code"], new["province"], d) for d in new["days"])
            writes.append(
                InsertOne({"_id": raw["_id"], **new}) if old is None else ReplaceOne({"_id": raw["_id"]}, new)
            )
        if writes:
            await store.write(DossierFacts, writes)
            report.facts_changed += len(writes)
        if seen is not None:
            seen(report.dossiers_seen)


def _by_key(touched: Iterable[tuple[str, str, str | None, str]]) -> dict[Key, list[str]]:
    """Touched periods grouped by counter key, so each key costs one read."""
    grouped: dict[Key, set[str]] = defaultdict(set)
    for agency, service, province, period in touched:
        grouped[(agency, service, province)].add(period)
    return {key: sorted(periods) for key, periods in sorted(grouped.items(), key=lambda item: str(item[0]))}


def _key_filter(key: Key) -> dict[str, Any]:
    agency, service, province = key
    # `province: None` also matches documents without the field, as the store has them.
    return {"agency_code": agency, "service_code": service, "province": province}


async def _recompute_days(touched: Iterable[tuple[str, str, str | None, str]]) -> int:
    count = 0
    for key, days in _by_key(touched).items():
        on_day: dict[str, list[dict[str, Any]]] = {day: [] for day in days}
        # A few days: by name; many (a backfill): one range over them, the rest filtered here.
        which = {"$in": days} if len(days) <= FEW_DAYS else {"$gte": days[0], "$lte": days[-1]}
        async for f in store.facts({**_key_filter(key), "days": which}):
            for day in f["days"]:
                if day in on_day:
                    on_day[day].append(f)
        names = _key_filter(key)
        fresh = {day: {**names, "day": day, **counters_for_day(found, day)} for day, found in on_day.items() if found}
        count += await _write_counters(DailyStats, names, "day", days, fresh)
    return count


async def _write_counters(
    model: type[Document],
    key: dict[str, Any],
    field: str,
    periods: list[str],
    fresh: dict[str, dict[str, Any]],
) -> int:
    """Make the stored counters of `periods` equal `fresh` (absent: none), writing only what
    differs: inserts for new periods, replacements for changed ones (an upsert costs the
    embedded store twice an insert)."""
    which = {"$in": periods} if len(periods) <= FEW_DAYS else {"$gte": periods[0], "$lte": periods[-1]}
    stored = {raw[field]: raw async for raw in store.counters(model, {**key, field: which})}
    writes: list[store.Write] = []
    for period in periods:
        old, new = stored.get(period), fresh.get(period)
        if old is not None:
            old_id = old.pop("_id")
            if new is None:
                writes.append(DeleteOne({"_id": old_id}))
            elif old != new:
                writes.append(ReplaceOne({"_id": old_id}, new))
        elif new is not None:
            writes.append(InsertOne(new))
    if writes:
        await store.write(model, writes)
    return len(writes)


async def _recompute_months(months: Iterable[tuple[str, str, str | None, str]]) -> int:
    count = 0
    for key, wanted in _by_key(months).items():
        names = _key_filter(key)
        totals: dict[str, dict[str, Any]] = {}
        first, last = days_of_month(wanted[0])[0], days_of_month(wanted[-1])[-1]
        async for raw in store.counters(DailyStats, {**names, "day": {"$gte": first, "$lte": last}}):
            if (month := month_of(raw["day"])) in wanted:
                add_counters(totals.setdefault(month, empty_counters()), raw)
        fresh = {month: {**names, "month": month, **totals[month]} for month in totals}
        count += await _write_counters(MonthlyStats, names, "month", wanted, fresh)
    return count


async def _recompute_windows(keys: Iterable[Procedure], today: date) -> int:
    """The recent processing histogram of each procedure touched, or computed on an earlier day."""
    stale = {
        (raw["agency_code"], raw["service_code"])
        async for raw in store.counters(
            RecentProcessing, {"computed_for": {"$lt": today.isoformat()}}, {"agency_code": 1, "service_code": 1}
        )
    }
    first = (today - timedelta(days=RECENT_WINDOW_DAYS - 1)).isoformat()
    count = 0
    for agency, service in sorted(set(keys) | stale):
        histogram: dict[str, int] = {}
        async for raw in store.counters(
            DailyStats,
            {"agency_code": agency, "service_code": service, "day": {"$gte": first, "$lte": today.isoformat()}},
            {"processing_histogram": 1},
        ):
            merge_histogram(histogram, raw.get("processing_histogram") or {})
        key = {"agency_code": agency, "service_code": service}
        document = {
            **key,
            "window_days": RECENT_WINDOW_DAYS,
            "computed_for": today.isoformat(),
            "processing_histogram": histogram,
        }
        await store.put(RecentProcessing, key, document)
        count += 1
    return count


def lateness_bucket(working_days_late: int) -> str:
    if working_days_late <= 5:
        return "late_up_to_5"
    if working_days_late <= 10:
        return "late_6_to_10"
    return "late_over_10"


async def _recompute_backlog(now: datetime) -> int:
    """Running dossiers past their deadline now. Time alone makes a dossier late, so this is
    rebuilt on every run from the facts of running dossiers already past due (an index range)."""
    rows: dict[Key, dict[str, Any]] = {}
    async for raw in store.running_late_facts(now):
        key = (raw["agency_code"], raw["service_code"], raw.get("province"))
        row = rows.setdefault(key, {"overdue": 0, "late_up_to_5": 0, "late_6_to_10": 0, "late_over_10": 0})
        row["overdue"] += 1
        row[lateness_bucket(working_days_between(raw["running_due_at"], now))] += 1
    for key, row in rows.items():
        names = _key_filter(key)
        await store.put(Backlog, names, {**names, **row, "as_of": now})
    await store.delete_backlog_not_as_of(now)
    return len(rows)


async def run_rollup(
    *,
    now: datetime | None = None,
    wait: timedelta = timedelta(seconds=30),
    seen: Callable[[int], None] | None = None,
) -> RollupReport:
    """One pass of the rollup. `now` is the moment the backlog and the recent windows are
    computed for (the clock by default); `seen(n)` after each batch of dossiers read (a long
    backfill's progress)."""
    now = now or utcnow()
    holder = secrets.token_hex(8)
    state = await _take_lease(holder, now, wait)
    started = utcnow()
    report = RollupReport()
    try:
        watermark: datetime | None = state.get("watermark")
        if state.get("changes_version") != CHANGES_VERSION:
            watermark = None  # a state from before `changed_at`: every dossier, once
        since = watermark - LOOKBACK if watermark is not None else None
        # A backfill (no `since`) reads every dossier: as good as a recheck.
        rechecking = since is None or recheck_due(now, state.get("rechecked_at"))
        if since is not None and rechecking:
            since = min(since, (state.get("rechecked_at") or since - timedelta(days=1)) - LOOKBACK)
        await _refresh_facts(since, report, seen)
        report.days = await _recompute_days(report.touched)
        report.months = await _recompute_months({(a, s, p, month_of(d)) for a, s, p, d in report.touched})
        if state.get("views_version") == views.VERSION:
            report.view_documents = await views.refresh("day", report.touched)
            report.view_documents += await views.refresh(
                "month", {(a, s, p, month_of(d)) for a, s, p, d in report.touched}
            )
        else:  # the first run with the views (or a new shape of them): all of them, in one pass
            report.view_documents = await views.rebuild("day") + await views.rebuild("month")
        report.windows = await _recompute_windows({(a, s) for a, s, _, _ in report.touched}, local(now).date())
        report.backlog_keys = await _recompute_backlog(now)
        await store.set_watermark(
            holder,
            started,
            views_version=views.VERSION,
            changes_version=CHANGES_VERSION,
            rechecked=rechecking,
        )
    finally:
        await store.release_lease(holder)
    if report.facts_changed:
        log.info("statistics_rollup", dossiers=report.dossiers_seen, changed=report.facts_changed, days=report.days)
    return report


def recheck_due(now: datetime, rechecked_at: datetime | None) -> bool:
    """Whether this run is the night's recheck: in the quiet hours, and none for most of a day."""
    return local(now).hour in RECHECK_HOURS and (rechecked_at is None or now - rechecked_at >= RECHECK_EVERY)


async def rollup_job(ctx: dict[str, Any]) -> int:
    """The arq cron entry (workers/settings.py)."""
    return (await run_rollup()).facts_changed


def today_vn(now: datetime | None = None) -> str:
    return day_of(now or utcnow())
