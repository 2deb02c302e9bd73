"""How long one `$in` read of N ids holds the embedded store, alone (a figure, never a test).

`uv run python -m bench.in_reads --dossiers 5000 --sizes 500,250,100,50 --rounds 2` starts
its own store, seeds submitted dossiers, and times `find({_id: {$in: ids}}, FACT_FIELDS)`,
the statistics rollup's read of changed dossiers, for each size (eight reads of distinct ids
each, sizes alternating round by round); then, once per size, a province's planning read of
phones by `citizen_id $in`. The embedded store checks each document against
the whole list, so the cost per dossier grows with the list (decision 26, 2026-12-02
evening); this is what sets `app/statistics/rollup.py: BATCH`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from bson import ObjectId

from app.statistics.rollup import FACT_FIELDS
from bench import seed
from devtools.devstack import start_embedded_mongo

READS_PER_SIZE = 8


async def _measure(url: str, dossiers: int, sizes: list[int], rounds: int) -> None:
    os.environ["MONGODB_URL"] = url
    from app import db
    from app.config import get_settings

    settings = get_settings()
    client = await db.connect(settings)
    database = client[settings.mongodb_db]
    services = await seed.prepare(database)
    await seed.submitted_dossiers(database, [ObjectId() for _ in range(dossiers)], services[0], "INREAD")
    ids = [raw["_id"] async for raw in database["dossiers"].find({}, {"_id": 1})]
    collection = database["dossiers"]
    for round_number in range(rounds):
        for size in sizes if round_number % 2 == 0 else sizes[::-1]:
            held: list[float] = []
            for k in range(READS_PER_SIZE):
                chunk = ids[(k * size) % len(ids) :][:size]
                start = time.perf_counter()
                found = [raw async for raw in collection.find({"_id": {"$in": chunk}}, FACT_FIELDS)]
                held.append((time.perf_counter() - start) * 1000)
                assert len(found) == len(chunk)
            median = statistics.median(held)
            print(
                f"round {round_number + 1}  $in of {size:>4} ids: {median:7.1f} ms median, {max(held):7.1f} max, "
                f"{median / size:.3f} ms a dossier",
                flush=True,
            )
    # A province's planning reads the phones of a chunk of its citizens by `citizen_id $in`
    # (app/citizens/store.py): the same kind of list, through a secondary index.
    await seed.devices_without_citizens(database, dossiers, lambda line: None)
    owners = [raw["citizen_id"] async for raw in database["devices"].find({}, {"citizen_id": 1})]
    for size in sizes:
        start = time.perf_counter()
        phones = [raw async for raw in database["devices"].find({"citizen_id": {"$in": owners[:size]}}, {"token": 1})]
        held_ms = (time.perf_counter() - start) * 1000
        print(f"devices by citizen_id $in of {size:>4} ids: {held_ms:7.1f} ms, {len(phones)} phones", flush=True)
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=5_000)
    parser.add_argument("--sizes", default="500,250,100,50")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    store = start_embedded_mongo(Path(tempfile.mkdtemp(prefix="in-reads-")) / "store")
    try:
        asyncio.run(_measure(store.url or "", args.dossiers, sizes, args.rounds))
    finally:
        store.stop()


if __name__ == "__main__":
    main()
