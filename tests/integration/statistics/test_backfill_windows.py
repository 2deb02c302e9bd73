"""The rollup's backfill reads every dossier window by window of its citizen's id time, never
in one cursor (the embedded store materialises a whole cursor before its first batch, and
answers a range on `_id` with a collection scan: decision 26). Dossiers of citizens from the
epoch of ObjectIds to the last second are each read exactly once, through an index, and no
window holds much more than the density it was sized for."""

from __future__ import annotations

import itertools
import os
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from bson import ObjectId

from app.statistics import store
from models.common import utcnow
from models.dossier import Dossier


def object_id_at(moment: datetime) -> ObjectId:
    """An ObjectId created at `moment`, unique (`ObjectId.from_datetime` zeroes the rest)."""
    return ObjectId(int(moment.timestamp()).to_bytes(4, "big") + os.urandom(8))


async def test_every_dossier_once_in_bounded_windows_from_the_epoch_to_now(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "WINDOW_TARGET", 4)
    now = utcnow()
    moments = (
        [datetime(1970, 1, 2, tzinfo=UTC) + timedelta(hours=h) for h in range(5)]  # imported, say
        + [datetime(2019, 5, 1, tzinfo=UTC) + timedelta(days=d) for d in range(10)]
        + [now - timedelta(days=3)] * 10  # ten in the same second
        + [now - timedelta(minutes=6 * m) for m in range(1, 21)]  # evenly over the last two hours
    )
    tag = secrets.token_hex(4)
    citizen_ids = [object_id_at(m) for m in moments]
    ours = [
        {"_id": ObjectId(), "citizen_id": c, "code": f"HS-WIN-{tag}-{n}", "agency_code": f"WIN-{tag}"}
        for n, c in enumerate(citizen_ids)
    ]
    await Dossier.get_pymongo_collection().insert_many(ours)
    plan = await Dossier.get_pymongo_collection().find({"citizen_id": {"$gte": citizen_ids[0]}}).explain()
    assert "COLLSCAN" not in str(plan["queryPlanner"]["winningPlan"])

    windows: list[list[ObjectId]] = []
    try:
        async for window in store.all_dossiers({"agency_code": 1, "citizen_id": 1}):
            mine = [raw["citizen_id"] for raw in window if raw.get("agency_code") == f"WIN-{tag}"]
            windows.append(sorted(mine))
    finally:
        # Bare ids, not dossiers: a later rollup backfill (the upgrade's) must not meet them.
        await Dossier.get_pymongo_collection().delete_many({"agency_code": f"WIN-{tag}"})

    read = [i for window in windows for i in window]
    assert sorted(read) == sorted(citizen_ids)  # each exactly once
    # Newest first, and the windows never overlap.
    non_empty = [w for w in windows if w]
    assert all(older[-1] < newer[0] for newer, older in itertools.pairwise(non_empty))
    # The ten of one second come together; elsewhere a window holds at most what a 4× narrower
    # width would have (the density of the one before it); one cursor would hold all 45.
    recent = [w for w in non_empty if w[0].generation_time > now - timedelta(hours=3)]
    assert len(recent) >= 4 and max(len(w) for w in recent) <= 16
    assert max(len(w) for w in non_empty) <= 16
    assert any(len(w) >= 10 for w in non_empty if w[0].generation_time.date() == (now - timedelta(days=3)).date())
