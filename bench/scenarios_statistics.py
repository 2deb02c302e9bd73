"""Statistics: a year of dossiers grown in one store through `--statistics-sizes` (10k and
100k by default; 1M on request: `--statistics-sizes 10k,100k,1M`, about an hour of seeding
and rolling up on the embedded store), the rollup at each size (a backfill at the first, then
what a run costs after that many new dossiers), then the statistics endpoints, which read the
packed views only (app/statistics/views.py).

Target (issue 14): 200 ms per answer at 1M dossiers. The answers' cost follows the number
of view documents read (keys × months or years), not the dossiers: the rows at each size
show whether it holds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.statistics.rollup import BATCH as ROLLUP_BATCH
from app.statistics.rollup import run_rollup
from bench import seed
from bench.context import Context
from bench.stats import Figure, human_size, progress_marks
from models.working_days import add_working_days

BATCH = 5_000
DAY = timedelta(days=1)
# Where the dossiers were filed: a few provinces, so the province views have something to sum.
PROVINCES = ("01", "79", "48", "31", "92")
# The n-th dossier's place in the year: spread evenly at any size, so a store grown from 10k
# to 100k holds a year of dossiers at each size.
GOLDEN = 0.6180339887498949


def _dossier(n: int, service: dict[str, Any], received: datetime, now: datetime) -> dict[str, Any]:
    """One dossier of the year: most settled after 0–11 working days, some still running."""
    days = n % 12
    settled = add_working_days(received, days)
    running = n % 7 == 0 or settled > now
    history = [{"status": "submitted", "at": received, "actor": "citizen"}]
    history.append({"status": "received", "at": received, "actor": "agency"})
    clock: dict[str, Any] = {"state": "running", "received_at": received, "paused_working_days": 0}
    if not running:
        history.append({"status": "rejected" if n % 13 == 0 else "result_ready", "at": settled, "actor": "agency"})
        clock |= {"state": "stopped", "stopped_at": settled}
    return {
        "code": f"HS-STATS-{n:08d}",
        "province_code": PROVINCES[n % len(PROVINCES)],
        "citizen_id": ObjectId(),
        "service_code": service["code"],
        "agency_code": service["agency_code"],
        "status": history[-1]["status"],
        "form": {},
        "delivery": {"method": "online"},
        "submitted_at": received,
        "due_at": add_working_days(received, 7),
        "clock": clock,
        "history": history,
        "assisted_by": "staff:bench" if n % 10 == 0 else None,
        "rating": {"score": 1 + n % 5, "at": settled} if not running and n % 3 == 0 else None,
        "result_document_id": ObjectId() if not running and n % 2 == 0 else None,
        "late_after": None,
        "rev": 1,
        "changed_at": now,  # as the app's insert stamps it: the next rollup finds it by this
    }


async def _seed_year(
    database: AsyncDatabase[dict[str, Any]],
    services: list[dict[str, Any]],
    first: int,
    count: int,
    progress: Callable[[str], None],
) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(days=365)
    total, t0 = count - first, time.monotonic()
    marks = progress_marks(total)
    progress(f"  seeding dossiers {first:,} to {count:,} ...")
    for low in range(first, count, BATCH):
        docs = [
            _dossier(n, services[n % len(services)], start + timedelta(days=365) * ((n * GOLDEN) % 1.0), now)
            for n in range(low, min(low + BATCH, count))
        ]
        await database["dossiers"].insert_many(docs, ordered=False)
        done = min(low + BATCH, count) - first
        if any(done - BATCH < m <= done for m in marks):
            rate = done / max(time.monotonic() - t0, 1e-9)
            progress(f"    {done:>10,} / {total:,} dossiers ({done / total:.0%}, {rate:,.0f} dossiers/s)")


def _reads(ctx: Context, admin: str, agency_code: str) -> dict[str, list[tuple[str, str | None, str]]]:
    agency = f"Bearer {seed.agency_token(agency_code, ctx.stack.jwt_secret)}"
    today = datetime.now(UTC).date()
    year = f"from={today - 364 * DAY}&to={today}"
    quarter = f"from={today - 90 * DAY}&to={today}"
    return {
        "stats agency year by month": [(f"/api/v1/agency/statistics?period=month&{year}", agency, "")],
        "stats admin year by agency": [(f"/api/v1/admin/statistics?period=month&{year}", f"Bearer {admin}", "")],
        "stats admin quarter by day and agency": [
            (f"/api/v1/admin/statistics?period=day&{quarter}&by=agency", f"Bearer {admin}", "")
        ],
        "stats public quarter by day": [(f"/api/v1/public/statistics?period=day&{quarter}&by=agency", None, "")],
        "stats public year by province": [(f"/api/v1/public/statistics?period=month&{year}", None, "")],
    }


def _seed_and_roll(
    ctx: Context, services: list[dict[str, Any]], first: int, size: int
) -> Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[dict[str, Any]]]:
    """Dossiers `first` to `size` of the year, then one rollup run over what is new."""

    async def run(database: AsyncDatabase[dict[str, Any]]) -> dict[str, Any]:
        if first == 0:
            await database["dossiers"].delete_many({"code": {"$regex": "^HS-STATS-"}})
        await _seed_year(database, services, first, size, ctx.progress)
        ctx.progress(f"  rolling up {size - first:,} new dossiers (the first run backfills every view) ...")
        t0 = time.perf_counter()
        marks, rolled_t0 = set(progress_marks(size - first)), time.monotonic()

        def seen(n: int) -> None:
            if any(n - ROLLUP_BATCH < m <= n for m in marks):
                rate = n / max(time.monotonic() - rolled_t0, 1e-9)
                ctx.progress(f"    {n:>10,} / {size - first:,} dossiers rolled up ({rate:,.0f}/s)")

        report = await run_rollup(wait=timedelta(minutes=5), seen=seen)
        seconds = time.perf_counter() - t0
        rollups = {
            n: await database[n].estimated_document_count()
            for n in ("dossier_stats_daily", "dossier_stats_monthly", "dossier_stats_views")
        }
        return {
            "dossiers": size,
            "rollup_seconds": round(seconds, 1),
            "rolled_up": report.dossiers_seen,
            **rollups,
            "admin": await seed.staff_token(database, ctx.stack.jwt_secret),
        }

    return run


def statistics(ctx: Context) -> list[Figure]:
    services = ctx.services()
    sizes = ctx.config.statistics_sizes
    ctx.progress(f"Statistics: a year of {', '.join(map(human_size, sizes))} dossiers, the rollup, the reads ...")
    figures: list[Figure] = []
    seeded = 0
    for size in sizes:
        rolled = ctx.db(_seed_and_roll(ctx, services, seeded, size))
        seeded = size
        admin = rolled.pop("admin")
        ctx.progress(f"  {human_size(size)}: {rolled}")
        figures += _measure(ctx, _reads(ctx, admin, services[0]["agency_code"]), human_size(size), rolled)
    return figures


def _measure(
    ctx: Context, reads: dict[str, list[tuple[str, str | None, str]]], label: str, rolled: dict[str, Any]
) -> list[Figure]:
    ctx.stack.start_emulator()  # the API refuses to start in production without a push endpoint
    api = ctx.stack.start_server(f"api-statistics-{label}", ctx.config.api_target, ctx.config.server, "/health/live")
    figures = []
    with ctx.stack.running(api):
        url = api.url or ""
        for name, rows in reads.items():
            lines = ctx.lines(f"{name.replace(' ', '-')}-{label}", rows)
            ctx.warm_up(url, lines, concurrency=1)
            figure = ctx.measure(f"{name} @{label}", api, url, lines, 1, others=ctx.store_group())
            figure.extra.update(rolled)
            figures.append(figure)
    return figures
