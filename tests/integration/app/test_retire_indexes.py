"""`cwallet indexes retire` drops the indexes an earlier version made and no model declares
any more (each one costs every write of its collection), keeps every declared one, and does
nothing more when it runs again or several times at once."""

from __future__ import annotations

import asyncio

import httpx
from pymongo import ASCENDING

from app import db
from models.dossier import Dossier
from models.statistics import DailyStats

# Names an earlier version's indexes had (decisions 0016, 0025, 0026).
RETIRED = {
    "dossiers": {
        "citizen_id_1_idempotency_key_1": [("citizen_id", ASCENDING), ("idempotency_key", ASCENDING)],
        "shipments": [("delivery.shipment_state", ASCENDING), ("_id", ASCENDING)],
        "stats_received": [("agency_code", ASCENDING), ("service_code", ASCENDING), ("history.at", ASCENDING)],
    },
}


async def test_retired_indexes_go_declared_ones_stay_and_racing_runs_drop_each_once(api: httpx.AsyncClient) -> None:
    dossiers = Dossier.get_pymongo_collection()
    declared = set(await dossiers.index_information())
    declared_elsewhere = set(await DailyStats.get_pymongo_collection().index_information())
    for name, keys in RETIRED["dossiers"].items():
        await dossiers.create_index(keys, name=name)
    assert set(RETIRED["dossiers"]) <= set(await dossiers.index_information())

    looked_at: list[str] = []
    runs = await asyncio.gather(*(db.retire_indexes(looked_at.append) for _ in range(3)))

    # Each retired index dropped by exactly one of the racing runs (none trips on an index
    # another dropped first); no declared index by any.
    dropped = [name for run in runs for name in run.get("dossiers", [])]
    assert sorted(dropped) == sorted(RETIRED["dossiers"])
    assert all(set(run) <= {"dossiers"} for run in runs)
    assert set(await dossiers.index_information()) == declared
    assert set(await DailyStats.get_pymongo_collection().index_information()) == declared_elsewhere
    assert "dossiers" in looked_at  # (the progress the command prints)
    assert await db.retire_indexes(looked_at.append) == {}
