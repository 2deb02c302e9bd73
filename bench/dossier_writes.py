"""What one dossier write costs the embedded store, by index set, in the same store and run.

`uv run python -m bench.dossier_writes --dossiers 1000 --rounds 2` starts its own store and,
for each index set in turn (`before`: the dossier indexes up to 2026-12-02, with the three
statistics moment indexes and the full parcel index; `now`: `Dossier.Settings.indexes`;
`_id only`, the floor), writes what a submission and an agency event write: the insert (two
outbox entries) and the event's conditional update (status, clock, history, outbox). The
flush's `$pull`s that followed each until decision 0032 are no longer written, so no longer
measured. Each index set gets a fresh collection every round, and the sets alternate. It
prints the store process's CPU milliseconds per write of each kind (from /proc, so other
load on the machine moves the figures less than it moves wall time). A figure, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
from bson import ObjectId
from pymongo import AsyncMongoClient, IndexModel

from devtools.devstack import start_embedded_mongo
from models.dossier import Dossier

KINDS = ("insert", "event update")


def before_indexes() -> list[IndexModel]:
    """The index set before this change: the three moment indexes, the full parcel index."""
    kept = [i for i in Dossier.Settings.indexes if i.document.get("name") not in ("changed_at", "parcels")]
    return [
        *kept,
        IndexModel([("shipment.status", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)], name="shipments"),
        IndexModel([("history.at", pymongo.ASCENDING)], name="stats_history_at"),
        IndexModel([("rating.at", pymongo.ASCENDING)], name="stats_rating_at", sparse=True),
        IndexModel([("payment.paid_at", pymongo.ASCENDING)], name="stats_paid_at", sparse=True),
    ]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _submission(n: int, now: datetime) -> dict[str, Any]:
    """A new online dossier as a submission stores it (fee pending, two outbox entries)."""
    code = f"HS-W{n:07d}"
    outbox: list[dict[str, Any]] = [
        {"key": f"{code}:{kind}", "kind": kind, "status": "submitted", "params": {}, "created_at": now}
        for kind in ("dossier_status", "agency_event")
    ]
    return {
        "_id": ObjectId(),
        "code": code,
        "citizen_id": ObjectId(),
        "had_guardians": False,
        "service_code": "RESIDENCE_REGISTRATION",
        "agency_code": f"AG{n % 7}",
        "province_code": "79",
        "status": "submitted",
        "form": {"new_address": "5 Trần Phú, Nha Trang, Khánh Hòa"},
        "delivery": {"method": "online", "address": None, "postage_fee_vnd": 0},
        "submitted_at": now,
        "due_at": now + timedelta(days=10),
        "clock": {"state": "not_started", "received_at": None, "paused_at": None, "waiting_for": [],
                  "paused_working_days": 0, "stopped_at": None},
        "pauses": [],
        "late_after": None,
        "apologies": [],
        "history": [{"status": "submitted", "at": now, "note": None, "event_id": None, "actor": "citizen"}],
        "attachments": [],
        "supplement": None,
        "payment": {"reference": f"PAY-{code}", "state": "pending", "amount_vnd": 35000, "fee_vnd": 35000,
                    "postage_vnd": 0, "timing": "before_completion", "requested_at": now, "paid_at": None},
        "shipment": None,
        "rating": None,
        "result_document_id": None,
        "event_ids": [],
        "outbox": outbox,
        "idempotency_key": f"key-{n}",
        "request_fingerprint": "f" * 64,
        "tracking_secret_hash": "h" * 64,
        "tracking_secret_issued_at": now,
        "rev": 0,
        "changed_at": now,
    }  # fmt: skip


def _event(code: str, now: datetime) -> dict[str, Any]:
    """The agency's `received`, as app/dossiers/events.py writes it."""
    return {
        "$set": {"status": "received", "clock.state": "running", "clock.received_at": now,
                 "due_at": now + timedelta(days=14), "late_after": now + timedelta(days=14), "changed_at": now},
        "$push": {
            "history": {"status": "received", "at": now, "note": None, "event_id": f"{code}-r", "actor": "agency"},
            "event_ids": f"{code}-r",
            "outbox": {"key": f"{code}:received", "kind": "dossier_status", "status": "received", "params": {},
                       "created_at": now},
        },
        "$inc": {"rev": 1},
    }  # fmt: skip


async def _round(database: Any, name: str, indexes: list[IndexModel], count: int, pid: int) -> dict[str, float]:
    collection = database[f"d_{name}_{ObjectId()}"]
    if indexes:
        await collection.create_indexes(indexes)
    else:
        await collection.insert_one({"_id": "made"})
        await collection.delete_one({"_id": "made"})
    now = datetime.now(UTC).replace(microsecond=0)
    docs = [_submission(n, now) for n in range(count)]
    steps: list[Callable[[dict[str, Any]], Any]] = [
        lambda d: collection.insert_one(d),
        lambda d: collection.update_one({"_id": d["_id"], "rev": 0, "status": "submitted"}, _event(d["code"], now)),
    ]
    costs: dict[str, float] = {}
    for kind, step in zip(KINDS, steps, strict=True):
        start = _cpu_seconds(pid)
        for doc in docs:
            await step(doc)
        costs[kind] = (_cpu_seconds(pid) - start) * 1000 / count
    await collection.drop()
    return costs


async def _run(url: str, pid: int, count: int, rounds: int) -> None:
    database: Any = AsyncMongoClient(url)["dossier_writes"]
    # `_id` only: the floor, what a write costs the store whatever the indexes.
    sets = {"before": before_indexes(), "now": list(Dossier.Settings.indexes), "_id only": []}
    found: dict[str, list[dict[str, float]]] = {name: [] for name in sets}
    for n in range(rounds):
        for name in list(sets) if n % 2 == 0 else reversed(list(sets)):
            found[name].append(await _round(database, name, sets[name], count, pid))
    print(f"store CPU ms per write, median of {rounds} rounds of {count} dossiers (indexes besides _id)")
    print(f"{'index set':10s} {'n':>3s} " + " ".join(f"{k:>13s}" for k in KINDS))
    for name, runs in found.items():
        med = {k: statistics.median(r[k] for r in runs) for k in KINDS}
        cells = " ".join(f"{med[k]:13.3f}" for k in KINDS)
        print(f"{name:10s} {len(sets[name]):3d} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    store = start_embedded_mongo(Path(tempfile.mkdtemp()))
    try:
        asyncio.run(_run(store.url or "", store.pid, args.dossiers, args.rounds))
    finally:
        store.stop()


if __name__ == "__main__":
    main()
