"""The document store: one AsyncMongoClient and Beanie, shared by the API, workers and CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from app.config import Settings
from models import ALL_DOCUMENTS

INDEX_NOT_FOUND = 27  # MongoDB's error code for dropping an index that is not there


class MissingStoreError(RuntimeError):
    pass


async def connect(settings: Settings) -> AsyncMongoClient[dict[str, object]]:
    if settings.mongodb_url is None:
        # The API never starts a store itself: `make run` and the tests start the embedded
        # one and pass its URL, so a misconfigured production process fails loudly instead.
        raise MissingStoreError("MONGODB_URL is not set: start the system with `make run`, or point it at MongoDB")
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        settings.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=settings.mongodb_server_selection_timeout_ms
    )
    await init_beanie(database=client[settings.mongodb_db], document_models=ALL_DOCUMENTS)
    return client


async def retire_indexes(seen: Callable[[str], None]) -> dict[str, list[str]]:
    """Drop every index of the models' collections that no model declares any more, by
    collection: an index an earlier version made costs every write of its collection for
    ever (the old worklist, parcel and idempotency-key indexes on dossiers, decisions 0016
    and 0025). Run once every API process and worker runs a version that no longer names
    them. Each index is reported by the run that dropped it: runs at once drop each once.
    `seen(name)` as each collection is looked at.

    Not Beanie's `allow_index_dropping`: it never drops an index that has `_id` among its
    keys (it takes any such index for `_id_`), and most retired ones end with `_id`."""
    declared: dict[str, tuple[Any, set[str]]] = {}
    for model in ALL_DOCUMENTS:
        collection = model.get_pymongo_collection()
        _, names = declared.setdefault(collection.name, (collection, {"_id_"}))
        names.update(index.name for index in model.get_settings().indexes)
    dropped: dict[str, list[str]] = {}
    for name, (collection, names) in declared.items():
        seen(name)
        for index in sorted(set(await collection.index_information()) - names):
            try:
                await collection.drop_index(index)
            except OperationFailure as failure:
                if failure.code != INDEX_NOT_FOUND:
                    raise
                continue  # another run dropped it first
            dropped.setdefault(name, []).append(index)
    return dropped
