"""The statistics area's one module that touches the store (decision 0024: one per area).

The rollup's state and lease, the dossier fields the facts are drawn from, the facts, the
day and month counters, the recent processing windows and the backlog. What is counted, and
how, is decided in app/statistics/facts.py and app/statistics/rollup.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from beanie import Document
from bson import ObjectId
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from app import id_windows
from models.common import utcnow
from models.dossier import Dossier
from models.statistics import Backlog, DailyStats, DossierFacts, StatsView

STATE_ID = "rollup"

Write = InsertOne[dict[str, Any]] | ReplaceOne[dict[str, Any]] | DeleteOne | UpdateOne

# --- the rollup's state and lease ---------------------------------------------------------


def _state() -> AsyncCollection[dict[str, Any]]:
    collection: AsyncCollection[dict[str, Any]] = DailyStats.get_pymongo_collection().database["dossier_stats_state"]
    return collection


async def ensure_state() -> None:
    await _state().update_one(
        {"_id": STATE_ID}, {"$setOnInsert": {"watermark": None, "lease_until": None}}, upsert=True
    )


async def try_lease(holder: str, until: datetime) -> dict[str, Any] | None:
    """The state document, leased to `holder` until `until`; None while another holds it."""
    return await _state().find_one_and_update(
        {"_id": STATE_ID, "$or": [{"lease_until": None}, {"lease_until": {"$lt": utcnow()}}]},
        {"$set": {"lease_until": until, "holder": holder}},
    )


async def set_watermark(
    holder: str, started: datetime, views_version: int, changes_version: int, *, rechecked: bool
) -> None:
    """The run that started at `started` is done; with `rechecked`, it was also the night's
    recheck (app/statistics/rollup.py)."""
    done: dict[str, Any] = {"watermark": started, "views_version": views_version, "changes_version": changes_version}
    if rechecked:
        done["rechecked_at"] = started
    await _state().update_one({"_id": STATE_ID, "holder": holder}, {"$set": done})


async def release_lease(holder: str) -> None:
    await _state().update_one({"_id": STATE_ID, "holder": holder}, {"$set": {"lease_until": None, "holder": None}})


# --- dossiers, read for their facts -------------------------------------------------------


async def changed_dossier_ids(since: datetime) -> list[ObjectId]:
    """Dossiers filed or changed later than `since` (`changed_at`, set by every dossier write,
    the insert included), in `_id` order: one index range on both stores. Not also `_id >
    ObjectId(since)`: the embedded store answers any range on `_id` with a collection scan,
    which the cron would pay every minute."""
    found = Dossier.get_pymongo_collection().find({"changed_at": {"$gt": since}}, {"_id": 1})
    return sorted([raw["_id"] async for raw in found])


# How many dossiers a window of the backfill should hold (app/id_windows.py sizes them).
WINDOW_TARGET = 5_000


async def all_dossiers(fields: dict[str, int]) -> AsyncIterator[list[dict[str, Any]]]:
    """Every dossier's `fields`, in windows of their citizens' ids' creation time (newest
    window first), through the `(citizen_id, _id)` index: `app/id_windows.py`, aiming at
    `WINDOW_TARGET` dossiers a window.

    Why windows, not one `find({})`: MongoDB streams that cursor, but the embedded store
    materialises a whole result before its first batch (8.5 GB at a million dossiers,
    decision 26). Why the citizen's id, not the dossier's own: the embedded store answers a
    range on `_id` with a collection scan (a million documents decoded per window), and a
    range on the leading field of a secondary index with that index; MongoDB runs both as
    index ranges. Every dossier has its citizen, and ObjectIds carry their creation time.
    What is filed after the first (open-ended) window was read, the next run finds by its
    `changed_at` (the watermark is the backfill's start). The walk ends once it has read as
    many dossiers as the collection held when it began, or at the epoch of ObjectIds
    (dossiers deleted meanwhile only make it walk on through empty time, a cheap probe per
    window).
    """
    collection = Dossier.get_pymongo_collection()
    total = await collection.estimated_document_count()
    if not total:
        return

    async def read(query: dict[str, Any]) -> list[dict[str, Any]]:
        return [raw async for raw in collection.find(query, fields)]

    seen = 0
    async for found in id_windows.newest_first(read, "citizen_id", WINDOW_TARGET):
        yield found
        seen += len(found)
        if seen >= total:
            return


async def dossiers(ids: list[ObjectId], fields: dict[str, int]) -> list[dict[str, Any]]:
    return [raw async for raw in Dossier.get_pymongo_collection().find({"_id": {"$in": ids}}, fields)]


# --- facts, counters, windows, backlog ----------------------------------------------------


async def facts(query: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    async for raw in DossierFacts.get_pymongo_collection().find(query):
        yield raw


async def running_late_facts(now: datetime) -> AsyncIterator[dict[str, Any]]:
    """Facts of running dossiers already past due (an index range)."""
    async for raw in DossierFacts.get_pymongo_collection().find(
        {"running_due_at": {"$lt": now}}, {"agency_code": 1, "service_code": 1, "province": 1, "running_due_at": 1}
    ):
        yield raw


async def counters(
    model: type[Document], query: dict[str, Any], fields: dict[str, int] | None = None, *, order: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Stored counter documents (DailyStats, MonthlyStats, RecentProcessing, Backlog), in
    `order` (a field, ascending) if given."""
    found = model.get_pymongo_collection().find(query, fields)
    if order is not None:
        found = found.sort(order, 1)
    async for raw in found:
        yield raw


async def write(model: type[Document], writes: list[Write]) -> None:
    """Inserts, replacements and deletions in one unordered bulk write."""
    await model.get_pymongo_collection().bulk_write(writes, ordered=False)


async def put(model: type[Document], key: dict[str, Any], document: dict[str, Any]) -> None:
    """The document of `key`, replaced (or inserted)."""
    await model.get_pymongo_collection().replace_one(key, document, upsert=True)


async def delete_backlog_not_as_of(now: datetime) -> None:
    """Procedures with nothing late any more."""
    await Backlog.get_pymongo_collection().delete_many({"as_of": {"$ne": now}})


# --- the views (app/statistics/views.py) --------------------------------------------------


async def views(query: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """View documents, in span order."""
    async for raw in StatsView.get_pymongo_collection().find(query).sort("span", 1):
        yield raw


async def delete_views(grain: str) -> None:
    await StatsView.get_pymongo_collection().delete_many({"grain": grain})
