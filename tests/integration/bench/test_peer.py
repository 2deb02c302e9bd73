"""The benchmark's peer (FastAPI + pydantic + Motor, bench/peer.py) answers the wallet read
with the same bytes as the API, or the comparison in bench/scenarios_peer.py would compare
two different jobs. No timing here: the figures are the bench's."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from bson import ObjectId

from bench import seed
from bench.peer import create_peer_app
from models.citizen import Citizen


@pytest.fixture
async def peer(stack_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_peer_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://peer.test") as client:
            yield client


async def test_the_peer_gives_the_apis_bytes_for_every_kind_of_wallet_entry(
    api: httpx.AsyncClient, peer: httpx.AsyncClient, stack_env: dict[str, str]
) -> None:
    database = Citizen.get_pymongo_collection().database
    services = await database["services"].find({}, {"code": 1, "agency_code": 1}).sort("code", 1).to_list()
    first = random.randrange(10**8)
    await seed.seed_citizens(database, first, first + 1, services, seed.Shape(documents=3, dossiers=0), progress=print)
    (citizen_id,) = await seed.citizen_ids(database, [first])
    (token,) = await seed.citizen_tokens(database, [citizen_id], stack_env["JWT_SECRET"])
    documents = database["documents"]
    revoked, expired, renewed = [d["_id"] for d in await documents.find({"citizen_id": citizen_id}).to_list()]
    # Every branch of the answer: a revocation's reason, a past end date, a renewal's link,
    # a document without a signature, and one hidden from the list (a superseded version).
    await documents.update_one({"_id": revoked}, {"$set": {"status": "revoked", "status_reason": "Mất thẻ"}})
    await documents.update_one({"_id": expired}, {"$set": {"valid_until": "2020-01-01", "status_reason": "cũ"}})
    old = ObjectId()
    await documents.update_one({"_id": renewed}, {"$set": {"version": 2, "supersedes": old}, "$unset": {"proof": ""}})
    hidden = await documents.find_one({"_id": renewed})
    assert hidden is not None
    hidden.update(
        _id=old, status="superseded", superseded_by=renewed, version=1, issue_event_id=f"old-{first}",
        issued_at=datetime.now(UTC) - timedelta(days=400),
    )  # fmt: skip
    await documents.insert_one(hidden)

    headers = {"Authorization": f"Bearer {token}"}
    ours = await api.get("/api/v1/me/documents", headers=headers)
    theirs = await peer.get("/api/v1/me/documents", headers=headers)

    assert ours.status_code == theirs.status_code == 200, (ours.text, theirs.text)
    assert ours.content == theirs.content
    shown = {d["id"]: d for d in ours.json()["items"]}
    assert set(shown) == {str(revoked), str(expired), str(renewed)}
    assert (shown[str(revoked)]["status"], shown[str(revoked)]["status_reason"]) == ("revoked", "Mất thẻ")
    assert (shown[str(expired)]["status"], shown[str(expired)]["status_reason"]) == ("expired", None)
    assert shown[str(renewed)]["supersedes"] == str(old) and shown[str(renewed)]["proof"] is None


async def test_the_peer_refuses_what_the_api_refuses(api: httpx.AsyncClient, peer: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        assert (await api.get("/api/v1/me/documents", headers=headers)).status_code == 401
        assert (await peer.get("/api/v1/me/documents", headers=headers)).status_code in (401, 403)
