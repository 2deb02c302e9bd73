"""Every page of the agency worklist, timed on the embedded store at a given size.

`uv run python -m bench.worklist_pages --dossiers 100k --pages 8 --repeat 5` starts its own
store, seeds dossiers straight into it (spread over the catalogue's procedures, statuses and
three weeks of deadlines, with ties), then reads one agency's worklist page after page
through `app.dossiers.worklist.worklist` (the endpoint's own code, applicants included) and
prints each page's p50/p99 and the store's plan of one page query. A figure, never a test.
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

from app.dossiers.worklist import ORDER, worklist, worklist_queries
from app.security import Principal
from bench import seed
from bench.stats import parse_size, percentile
from devtools.devstack import start_embedded_mongo

STATUSES = ("submitted", "received", "processing", "approved", "completed")


async def _seed(database: Any, count: int, services: list[dict[str, Any]]) -> None:
    templates = seed.Templates(datetime.now(UTC), "-", services)
    base = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    rng = random.Random(18)
    for first in range(0, count, 5_000):
        batch = []
        for n in range(first, min(first + 5_000, count)):
            service = services[n % len(services)]
            status = STATUSES[n % len(STATUSES)]
            doc = templates.dossier_doc(ObjectId(), f"HS-WL-{n:08d}", service, status)
            # Deadlines at 17:00 of one of 21 days: many dossiers share one (the cursor's ties).
            doc["due_at"] = base + timedelta(days=rng.randrange(21), hours=7)
            batch.append(doc)
        await database["dossiers"].insert_many(batch, ordered=False)


async def run(count: int, pages: int, repeat: int, status: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = start_embedded_mongo(Path(tmp) / "store", log_path=Path(tmp) / "store.log")
        try:
            client, database = await seed.connect(store.url or "", "worklist_pages")
            services = await seed.prepare(database)
            t0 = time.monotonic()
            await _seed(database, count, services)
            print(f"seeded {count:,} dossiers in {time.monotonic() - t0:.0f} s")
            agency = await database["agencies"].find_one({"service_codes.0": {"$exists": True}})
            assert agency is not None
            principal = Principal(
                kind="agency",
                id=agency["code"],
                agency_code=agency["code"],
                service_codes=tuple(agency["service_codes"]),
            )
            total = await database["dossiers"].count_documents({"agency_code": agency["code"], "status": status})
            print(f"agency {agency['code']}: {len(principal.service_codes)} procedures, {total:,} dossiers '{status}'")
            timings: list[list[float]] = [[] for _ in range(pages)]
            query_timings: list[list[float]] = [[] for _ in range(pages)]
            collection = database["dossiers"]
            for _ in range(repeat):
                cursor = None
                for page in range(pages):
                    # The page's store queries alone, then the whole page as the endpoint builds it
                    # (the queries again, the access records, the applicants and procedures).
                    started = time.perf_counter()
                    queries, _ = worklist_queries(principal, status, None, None, cursor)
                    await asyncio.gather(*(collection.find(q, sort=ORDER, limit=20).to_list() for q in queries))
                    query_timings[page].append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    answer = await worklist(principal, status, None, None, cursor, 20)
                    timings[page].append((time.perf_counter() - started) * 1000)
                    cursor = answer.next_cursor
                    if cursor is None:
                        break
            for page, (values, query_values) in enumerate(zip(timings, query_timings, strict=True), 1):
                if values:
                    print(
                        f"page {page}: whole page p50 {statistics.median(values):.1f} / p99 "
                        f"{percentile(values, 99):.1f} ms; its queries alone p50 {statistics.median(query_values):.1f}"
                        f" / p99 {percentile(query_values, 99):.1f} ms ({len(values)} reads)"
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
    args = parser.parse_args()
    asyncio.run(run(parse_size(args.dossiers), args.pages, args.repeat, args.status))


if __name__ == "__main__":
    main()
