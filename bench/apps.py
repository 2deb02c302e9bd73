"""The two reference apps the real API is compared with, served exactly like it.

- `create_ceiling_app`: a bare Litestar hello-world answering a msgspec Struct. Nothing
  the real API does can be faster under the same server, workers and load generator.
- `create_raw_read_app`: the wallet's indexed read (documents of one citizen, newest
  first, one page) through PyMongo alone in a bare handler: no auth, no Beanie, no
  middleware. Wallet ÷ raw read is our own overhead on top of the store.

No `from __future__ import annotations`: Litestar reads the handlers' annotations.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from bson import ObjectId
from bson.errors import InvalidId
from litestar import Litestar, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from pymongo import AsyncMongoClient

# The wallet's page size (app.pagination.DEFAULT_LIMIT) and sort, so both read the same.
PAGE = 20


def wallet_filter(citizen_id: ObjectId) -> dict[str, Any]:
    """The filter of app.wallet.service.list_documents (first page): keep the two in step."""
    return {"citizen_id": citizen_id, "status": {"$ne": "superseded"}, "renewal_pending": {"$ne": True}}


class Hello(msgspec.Struct):
    message: str


@get("/hello", sync_to_thread=False)
def hello() -> Hello:
    return Hello(message="Xin chào")


def create_ceiling_app() -> Litestar:
    return Litestar(route_handlers=[hello], openapi_config=None, logging_config=None)


def _encode_default(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    raise NotImplementedError(type(value).__name__)


_encoder = msgspec.json.Encoder(enc_hook=_encode_default)


@get("/raw/documents/{citizen_id:str}")
async def raw_documents(request: Request[Any, Any, Any], citizen_id: FromPath[str]) -> Response[bytes]:
    try:
        owner = ObjectId(citizen_id)
    except InvalidId:
        raise NotFoundException() from None
    collection = request.app.state.documents
    found = await collection.find(wallet_filter(owner)).sort("_id", -1).limit(PAGE).to_list()
    return Response(_encoder.encode({"items": found, "next_cursor": None}), media_type="application/json")


def create_raw_read_app() -> Litestar:
    url, db = os.environ["MONGODB_URL"], os.environ.get("MONGODB_DB", "cwallet")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Same client options as app/db.py, so the two differ only in what sits on top.
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)
        app.state.documents = client[db]["documents"]
        try:
            yield
        finally:
            await client.close()

    return Litestar(route_handlers=[raw_documents], lifespan=[lifespan], openapi_config=None, logging_config=None)
