"""Every page of the agency worklist, timed on the embedded store at a given size.

`uv run python -m bench.worklist_pages --dossiers 100k --pages 8 --repeat 5` starts its own
store, seeds dossiers straight into it (spread over the catalogue's procedures, statuses and
three weeks of deadlines, with ties), then reads one agency's worklist page after page
through `app.dossiers.worklist.worklist` (the endpoint's own code, applicants included) and
prints each page's p50/p99 and the store's plan of one page query. A figure, never a test.

Two layouts. By default every dossier belongs to one of the catalogue's few agencies and is
due at 17:00 of one of 21 days: the measured agency holds a large share of the whole store
and hundreds of its dossiers share each deadline (the worst case for a store that reads a
page's whole index range). `--agency-dossiers K --due-times office` is the country's shape:
the measured agency holds K dossiers and the rest belong to a thousand other agencies, and
deadlines keep the time of day of the filing (`add_working_days`), a quarter of them at
07:30 (filed on a weekend or a holiday).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId

from app.catalogue import cache as procedure_cache
from app.dossiers.worklist import ORDER, read_page, window_hint, worklist, worklist_queries
from app.security import Principal
from bench import seed
from bench.stats import parse_size, percentile, progress_marks
from devtools.devstack import start_embedded_mongo

STATUSES = ("submitted", "received", "processing", "approved", "completed")


OTHER_AGENCIES = 1_000


def _due_at(rng: random.Random, base: datetime, due_times: str) -> datetime:
    day = base + timedelta(days=rng.randrange(21))
    if due_times == "tied" or rng.random() < 0.25:
        # 17:00 (tied) or 07:30, the opening (office): many dossiers share one deadline.
        return day + (timedelta(hours=7) if due_times == "tied" else timedelta(hours=-2, minutes=-30))
    return day + timedelta(seconds=rng.randrange(-2 * 3600, 7 * 3600), milliseconds=rng.randrange(1000))


async def _seed(
    database: Any,
    count: int,
    services: list[dict[str, Any]],
    measured: str | None = None,
    agency_dossiers: int | None = None,
    due_times: str = "tied",
) -> None:
    templates = seed.Templates(datetime.now(UTC), "-", services)
    # 10:00 UTC is 17:00 in Vietnam.
    base = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    rng = random.Random(18)
    mine = [s for s in services if s["agency_code"] == measured]
    every = max(1, count // agency_dossiers) if agency_dossiers else 1
    marks = progress_marks(count)
    for first in range(0, count, 5_000):
        batch = []
        for n in range(first, min(first + 5_000, count)):
            status = STATUSES[n % len(STATUSES)]
            if agency_dossiers is None:
                doc = templates.dossier_doc(ObjectId(), f"HS-WL-{n:08d}", services[n % len(services)], status)
            elif n % every == 0 and n // every < agency_dossiers:
                own = n // every  # the agency's own count: its procedures and statuses in turn
                status = STATUSES[own % len(STATUSES)]
                doc = templates.dossier_doc(ObjectId(), f"HS-WL-{n:08d}", mine[own % len(mine)], status)
            else:
                doc = templates.dossier_doc(ObjectId(), f"HS-WL-{n:08d}", services[n % len(services)], status)
                doc["agency_code"] = f"OTHER_{n % OTHER_AGENCIES:04d}"
            doc["due_at"] = _due_at(rng, base, due_times)
            batch.append(doc)
        await database["dossiers"].insert_many(batch, ordered=False)
        done = min(first + 5_000, count)
        if any(done - 5_000 < m <= done for m in marks):
            print(f"  {done:>10,} / {count:,} dossiers seeded", flush=True)


async def run(count: int, pages: int, repeat: int, status: str, agency_dossiers: int | None, due_times: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = start_embedded_mongo(Path(tmp) / "store", log_path=Path(tmp) / "store.log")
        try:
            client, database = await seed.connect(store.url or "", "worklist_pages")
            services = await seed.prepare(database)
            agency = await database["agencies"].find_one({"service_codes.0": {"$exists": True}})
            assert agency is not None
            t0 = time.monotonic()
            await _seed(database, count, services, agency["code"], agency_dossiers, due_times)
            print(f"seeded {count:,} dossiers in {time.monotonic() - t0:.0f} s")
            # An API process follows the catalogue's channel and so trusts its procedure cache
            # (app/catalogue/cache.py); nothing here writes the catalogue, so this one may too.
            procedure_cache.CACHE.subscribed = True
            principal = Principal(
                kind="agency",
                id=agency["code"],
                agency_code=agency["code"],
                service_codes=tuple(agency["service_codes"]),
            )
            total = await database["dossiers"].count_documents({"agency_code": agency["code"], "status": status})
            print(f"agency {agency['code']}: {len(principal.service_codes)} procedures, {total:,} dossiers '{status}'")
            timings: list[list[float]] = [[] for _ in range(pages)]
            window_timings: list[list[float]] = [[] for _ in range(pages)]
            range_timings: list[list[float]] = [[] for _ in range(pages)]
            collection = database["dossiers"]
            for _ in range(repeat):
                cursor = None
                for page in range(pages):
                    # Interleaved, on the same cursor: the page's ranges read whole (as before
                    # windows), the page's windows alone (`read_page`), then the whole page as
                    # the endpoint builds it (the windows again, the applicants, the models).
                    queries, _ = worklist_queries(principal, status, None, None, cursor)
                    started = time.perf_counter()
                    await asyncio.gather(*(collection.find(q, sort=ORDER, limit=20).to_list() for q in queries))
                    range_timings[page].append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    await read_page(queries, 20, window_hint(cursor))
                    window_timings[page].append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    answer = await worklist(principal, status, None, None, cursor, 20)
                    timings[page].append((time.perf_counter() - started) * 1000)
                    cursor = answer.next_cursor
                    if cursor is None:
                        break
            every_page: dict[str, list[float]] = {"whole page": [], "windows": [], "whole ranges": []}
            for page, (values, windows, ranges) in enumerate(
                zip(timings, window_timings, range_timings, strict=True), 1
            ):
                if values:
                    every_page["whole page"] += values
                    every_page["windows"] += windows
                    every_page["whole ranges"] += ranges
                    print(
                        f"page {page}: whole page p50 {statistics.median(values):.1f} / p99 "
                        f"{percentile(values, 99):.1f} ms; its windows p50 {statistics.median(windows):.1f}"
                        f" / p99 {percentile(windows, 99):.1f} ms; its ranges read whole p50 "
                        f"{statistics.median(ranges):.1f} / p99 {percentile(ranges, 99):.1f} ms ({len(values)} reads)"
                    )
            for name, values in every_page.items():
                print(
                    f"every page, {name}: p50 {statistics.median(values):.1f} / p99 {percentile(values, 99):.1f} ms"
                    f" ({len(values)} reads; p99 / the 100 ms ceiling {percentile(values, 99) / 100:.2f})"
                )
            queries, index = worklist_queries(principal, status, None, None, cursor)
            plan = await database["dossiers"].find(queries[-1]).sort(ORDER).limit(20).explain()
            print(f"plan of a later page's query (expected index {index}): {plan['queryPlanner']['winningPlan']}")
            await client.close()
        finally:
            store.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worklist_pages", description=__doc__)
    parser.add_argument("--dossiers", default="100k")
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--status", default="received")
    parser.add_argument(
        "--agency-dossiers", type=parse_size, default=None, help="the measured agency's dossiers (the rest: others')"
    )
    parser.add_argument("--due-times", choices=("tied", "office"), default="tied")
    args = parser.parse_args()
    asyncio.run(
        run(parse_size(args.dossiers), args.pages, args.repeat, args.status, args.agency_dossiers, args.due_times)
    )


if __name__ == "__main__":
    main()
