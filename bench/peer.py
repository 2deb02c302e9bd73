"""The peer: the citizen's wallet read as a typical team would write it with the stack it
would pick instead, FastAPI + pydantic + Motor, measured beside ours (issue 18).

Written the plain way such a team writes it, not tuned: an `HTTPBearer` dependency that
verifies the same JWT (signature, audience, issuer, expiry; stateless, so no session read),
Motor's `find().sort().limit()` with no projection, the documents mapped into a pydantic
response model that FastAPI validates and serialises. Same store, same data, same answer
byte for byte (tests/integration/bench/test_peer.py), so the two differ only in the stack.

Served by Uvicorn exactly like the API: `uvicorn --factory bench.peer:create_peer_app`.
No `from __future__ import annotations`: FastAPI reads the annotations at runtime.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

import jwt
from bson import ObjectId
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from motor.motor_asyncio import AsyncIOMotorClient
from pydantic import BaseModel

PAGE = 20
CITIZEN_AUDIENCE = "cwallet:citizen"
ISSUER = "cwallet"
VIETNAM = timezone(timedelta(hours=7))


class Proof(BaseModel):
    alg: str
    kid: str
    signature: str


class WalletDocument(BaseModel):
    id: str
    type: str
    number: str
    issuer: str
    issued_at: datetime
    valid_from: date
    valid_until: date | None
    status: str
    fields: dict[str, Any]
    status_reason: str | None = None
    version: int = 1
    supersedes: str | None = None
    superseded_by: str | None = None
    proof: Proof | None = None


class WalletPage(BaseModel):
    items: list[WalletDocument]
    next_cursor: str | None = None


bearer = HTTPBearer()


def citizen_id(request: Request, credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> ObjectId:
    try:
        claims = jwt.decode(
            credentials.credentials,
            request.app.state.jwt_secret,
            algorithms=["HS256"],
            audience=CITIZEN_AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "aud", "iss"]},
        )
        kind, _, ident = str(claims["sub"]).partition(":")
        if kind != "citizen":
            raise ValueError(kind)
        return ObjectId(ident)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise HTTPException(status_code=401, detail="Not authorized") from exc


def to_out(doc: dict[str, Any], today: date) -> WalletDocument:
    status = doc["status"]
    if status == "valid" and doc.get("valid_until") and doc["valid_until"] < today.isoformat():
        status = "expired"
    return WalletDocument(
        id=str(doc["_id"]),
        type=doc["type"],
        number=doc["number"],
        issuer=doc["issuer"],
        issued_at=doc["issued_at"],
        valid_from=doc["valid_from"],
        valid_until=doc.get("valid_until"),
        status=status,
        fields=doc.get("fields", {}),
        status_reason=doc.get("status_reason") if doc["status"] in ("revoked", "suspended") else None,
        version=doc.get("version", 1),
        supersedes=str(doc["supersedes"]) if doc.get("supersedes") else None,
        superseded_by=str(doc["superseded_by"]) if doc.get("superseded_by") else None,
        proof=Proof(**doc["proof"]) if doc.get("proof") else None,
    )


async def documents(request: Request, owner: Annotated[ObjectId, Depends(citizen_id)]) -> WalletPage:
    query = {"citizen_id": owner, "status": {"$ne": "superseded"}, "renewal_pending": {"$ne": True}}
    found = await request.app.state.documents.find(query).sort("_id", -1).limit(PAGE).to_list(length=PAGE)
    today = datetime.now(UTC).astimezone(VIETNAM).date()
    return WalletPage(
        items=[to_out(d, today) for d in found],
        next_cursor=str(found[-1]["_id"]) if len(found) == PAGE else None,
    )


def create_peer_app() -> FastAPI:
    url, db = os.environ["MONGODB_URL"], os.environ.get("MONGODB_DB", "cwallet")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client: AsyncIOMotorClient[dict[str, Any]] = AsyncIOMotorClient(
            url, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        app.state.documents = client[db]["documents"]
        app.state.jwt_secret = os.environ["JWT_SECRET"]
        try:
            yield
        finally:
            client.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.add_api_route("/api/v1/me/documents", documents, methods=["GET"], response_model=WalletPage)
    app.add_api_route("/health/live", lambda: {"status": "ok"}, methods=["GET"])
    return app
