"""The bench seeds the store directly and mints its own tokens: the real API must take both,
or every figure would measure error pages."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import httpx

from bench import seed
from models.citizen import Citizen
from tests.integration.conftest import AgencyHandle


async def test_seeded_citizens_read_their_wallet_and_dossiers_through_the_api(
    api: httpx.AsyncClient, stack_env: dict[str, str]
) -> None:
    database = Citizen.get_pymongo_collection().database
    services = await database["services"].find({}, {"code": 1, "agency_code": 1}).sort("code", 1).to_list()
    assert services, "the catalogue is loaded by the api fixture"
    first = random.randrange(10**8)  # seeded citizens of another run in the same store stay apart
    await seed.seed_citizens(database, first, first + 3, services, seed.Shape(documents=3, dossiers=2), progress=print)
    ids = await seed.citizen_ids(database, range(first, first + 3))
    tokens = await seed.citizen_tokens(database, ids, stack_env["JWT_SECRET"])

    for citizen_id, token in zip(ids, tokens, strict=True):
        headers = {"Authorization": f"Bearer {token}"}
        wallet = await api.get("/api/v1/me/documents", headers=headers)
        assert wallet.status_code == 200, wallet.text
        assert sorted(d["type"] for d in wallet.json()["items"]) == sorted(seed.DOCUMENT_TYPES)
        dossiers = await api.get("/api/v1/me/dossiers", headers=headers)
        assert dossiers.status_code == 200, dossiers.text
        assert len(dossiers.json()["items"]) == 2
        me = await api.get("/api/v1/me", headers=headers)
        assert me.status_code == 200, me.text
        assert str(citizen_id) == me.json()["id"]


async def test_seeded_dossiers_take_agency_events(
    api: httpx.AsyncClient, stack_env: dict[str, str], make_agency: Callable[..., Awaitable[AgencyHandle]]
) -> None:
    database = Citizen.get_pymongo_collection().database
    handle = await make_agency(["RESIDENCE_REGISTRATION"])
    first = random.randrange(10**8)
    services = await database["services"].find({}, {"code": 1, "agency_code": 1}).sort("code", 1).to_list()
    await seed.seed_citizens(database, first, first + 1, services, seed.Shape(dossiers=0), progress=print)
    (citizen_id,) = await seed.citizen_ids(database, [first])
    # Filed with the agency the test registered for the procedure (app/catalogue/routing.py).
    service = {**next(s for s in services if s["code"] == "RESIDENCE_REGISTRATION"), "agency_code": handle.code}
    (code,) = await seed.submitted_dossiers(database, [citizen_id], service, f"T{first}")
    token = seed.agency_token(handle.code, stack_env["JWT_SECRET"])
    answer = await api.post(
        f"/api/v1/agency/dossiers/{code}/events",
        json={"event_id": f"{code}-received", "status": "received"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "received"
