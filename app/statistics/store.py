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


async def set_watermark(holder: str, started: datetime, views_version: int) -> None:
    await _state().update_one(
        {"_id": STATE_ID, "holder": holder}, {"$set": {"watermark": started, "views_version": views_version}}
    )


async def release_lease(holder: str) -> None:
    await _state().update_one({"_id": STATE_ID, "holder": holder}, {"$set": {"lease_until": None, "holder": None}})


# --- dossiers, read for their facts -------------------------------------------------------


async def changed_dossier_ids(since: datetime) -> list[ObjectId]:
    """Dossiers with a field every change writes (a new `_id`, a history entry, a rating, a
    confirmed payment) later than `since`, in `_id` order."""
    collection = Dossier.get_pymongo_collection()
    queries = [
        {"_id": {"$gt": ObjectId.from_datetime(since)}},
        {"history.at": {"$gt": since}},
        {"rating.at": {"$gt": since}},
        {"payment.paid_at": {"$gt": since}},
    ]
    seen: dict[ObjectId, None] = {}
    for query in queries:
        async for raw in collection.find(query, {"_id": 1}):
            seen[raw["_id"]] = None
    return sorted(seen)


async def all_dossiers(fields: dict[str, int]) -> AsyncIterator[dict[str, Any]]:
    """Every dossier's `fields`, in `_id` order."""
    async for raw in Dossier.get_pymongo_collection().find({}, fields).sort("_id", 1):
        yield raw


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
