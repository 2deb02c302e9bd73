"""Statistics: a year of dossiers (`--population` of them, 10k by default), the rollup's
backfill over them, then the statistics endpoints, which read the rollups only.

Target (issue 14): 200 ms per answer at 1M dossiers. The answers' cost follows the number
of rollup documents read (agencies × procedures × months or days), not the dossiers; the
backfill time is what a first run of the cron costs at this size.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.statistics.rollup import run_rollup
from bench import seed
from bench.context import Context
from bench.stats import Figure
from models.working_days import add_working_days

BATCH = 5_000
DAY = timedelta(days=1)


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
    }


async def _seed_year(database: AsyncDatabase[dict[str, Any]], services: list[dict[str, Any]], count: int) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(days=365)
    step = timedelta(days=365) / max(count, 1)
    for first in range(0, count, BATCH):
        docs = [
            _dossier(n, services[n % len(services)], start + step * n, now)
            for n in range(first, min(first + BATCH, count))
        ]
        await database["dossiers"].insert_many(docs, ordered=False)


def statistics(ctx: Context) -> list[Figure]:
    services = ctx.services()
    count = ctx.config.population
    ctx.progress(f"Statistics: {count:,} dossiers over a year, the rollup's backfill, then the statistics reads ...")

    async def seed_and_roll(database: AsyncDatabase[dict[str, Any]]) -> dict[str, Any]:
        await database["dossiers"].delete_many({"code": {"$regex": "^HS-STATS-"}})
        await _seed_year(database, services, count)
        t0 = time.perf_counter()
        report = await run_rollup(wait=timedelta(minutes=5))
        seconds = time.perf_counter() - t0
        rollups = {
            n: await database[n].estimated_document_count() for n in ("dossier_stats_daily", "dossier_stats_monthly")
        }
        return {
            "backfill_seconds": round(seconds, 1),
            "dossiers": report.dossiers_seen,
            **rollups,
            "admin": await seed.staff_token(database, ctx.stack.jwt_secret),
        }

    rolled = ctx.db(seed_and_roll)
    admin = rolled.pop("admin")
    ctx.progress(f"  backfill: {rolled}")
    agency_code = services[0]["agency_code"]
    agency = f"Bearer {seed.agency_token(agency_code, ctx.stack.jwt_secret)}"
    today = datetime.now(UTC).date()
    year = f"from={today - 364 * DAY}&to={today}"
    reads = {
        "stats agency year by month": [(f"/api/v1/agency/statistics?period=month&{year}", agency, "")],
        "stats admin year by agency": [(f"/api/v1/admin/statistics?period=month&{year}", f"Bearer {admin}", "")],
        "stats public quarter by day": [
            (f"/api/v1/public/statistics?period=day&from={today - 90 * DAY}&to={today}&by=agency", None, "")
        ],
    }
    api = ctx.stack.start_server("api-statistics", ctx.config.api_target, ctx.config.server, "/health/live")
    figures = []
    with ctx.stack.running(api):
        url = api.url or ""
        for name, rows in reads.items():
            lines = ctx.lines(name.replace(" ", "-"), rows)
            ctx.warm_up(url, lines, concurrency=1)
            figure = ctx.measure(name, api, url, lines, 1, others=ctx.store_group())
            figure.extra.update(rolled)
            figures.append(figure)
    return figures
