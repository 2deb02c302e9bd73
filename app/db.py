"""The document store: one AsyncMongoClient and Beanie, shared by the API, workers and CLI."""

from __future__ import annotations

from beanie import init_beanie
from pymongo import AsyncMongoClient

from app.config import Settings
from models import ALL_DOCUMENTS


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
