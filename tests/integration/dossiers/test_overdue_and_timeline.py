"""A missed deadline: an apology with a new date, the citizen told, once per missed date.
And the citizen's timeline: everything, newest first, only their own."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq import ArqRedis

from app.dossiers.deadlines import sweep_overdue
from models.common import utcnow
from models.dossier import Dossier
from tests.integration.dossiers.flows import dossier, move, pushes_for, submitted

pytestmark = pytest.mark.usefixtures("worker")


async def backdate(code: str, days: int) -> None:
    """As if the deadline had passed `days` ago (time cannot be waited for in a test)."""
    past = utcnow() - timedelta(days=days)
    await Dossier.get_pymongo_collection().update_one({"code": code}, {"$set": {"due_at": past, "late_after": past}})


async def test_an_overdue_dossier_gets_an_apology_and_the_citizen_is_told(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, pool: ArqRedis, shared_citizen: Any, module_agency: Any
) -> None:
    citizen = shared_citizen
    agency = await module_agency(["TEMPORARY_ABSENCE"])
    late = (await submitted(api, citizen, "TEMPORARY_ABSENCE"))["code"]
    waiting = (await submitted(api, citizen, "TEMPORARY_ABSENCE"))["code"]
    await move(api, agency, late, "TEMPORARY_ABSENCE", "received")
    await move(api, agency, waiting, "TEMPORARY_ABSENCE", "received", "supplement_required")
    await backdate(late, 2)
    await backdate(waiting, 2)

    assert await sweep_overdue(pool) >= 1
    seen = await dossier(api, citizen, late)
    assert seen["deadline"]["state"] == "overdue"
    [apology] = seen["apologies"]
    assert apology["number"] == 1 and apology["new_expected_at"] > seen["deadline"]["due_at"]
    assert seen["deadline"]["expected_at"] == apology["new_expected_at"]
    assert "sincerely apologises" in apology["text"]
    # Waiting for the citizen is not the agency's delay: no apology there.
    assert (await dossier(api, citizen, waiting))["apologies"] == []

    # Running the sweeper again (or twice at once) apologises no more.
    await asyncio.gather(sweep_overdue(pool), sweep_overdue(pool))
    assert len((await dossier(api, citizen, late))["apologies"]) == 1
    # The new date is missed too: a second apology.
    await Dossier.get_pymongo_collection().update_one(
        {"code": late}, {"$set": {"late_after": utcnow() - timedelta(minutes=1)}}
    )
    await sweep_overdue(pool)
    assert [a["number"] for a in (await dossier(api, citizen, late))["apologies"]] == [1, 2]

    for _ in range(150):
        messages = await pushes_for(emulator, citizen.device_tokens[0], 0)
        sorry = [m for m in messages if m["data"]["type"] == "dossier_overdue" and m["data"]["dossier_code"] == late]
        if len(sorry) >= 2:
            break
        await asyncio.sleep(0.2)
    assert len(sorry) == 2
    assert "Sorry" in sorry[0]["title"] and "New expected date" in sorry[0]["body"]


async def test_the_timeline_tells_everything_newest_first(
    api: httpx.AsyncClient, make_citizen: Any, module_agency: Any
) -> None:
    citizen = await make_citizen(devices=0, eid_level=2)
    other = await make_citizen(devices=0)
    agency = await module_agency(["BIRTH_REGISTRATION"])
    code = (await submitted(api, citizen, "BIRTH_REGISTRATION"))["code"]
    await move(api, agency, code, "BIRTH_REGISTRATION", "received", "processing", "approved", "result_ready")
    paid_code = (await submitted(api, citizen, "CRIMINAL_RECORD"))["code"]
    await submitted(api, other, "TEMPORARY_ABSENCE")

    answer = await api.get("/api/v1/me/timeline", headers={**citizen.headers, "Accept-Language": "en"})
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    kinds = {(i["kind"], i.get("status"), i.get("dossier_code")) for i in items}
    for status in ("submitted", "received", "processing", "approved", "result_ready"):
        assert ("dossier_status", status, code) in kinds
    assert ("payment_requested", None, paid_code) in kinds
    issued = [i for i in items if i["kind"] == "document_issued"]
    assert len(issued) == 1 and issued[0]["dossier_code"] == code and "Birth certificate" in issued[0]["title"]
    assert items[0]["dossier_code"] == paid_code  # the newest thing that happened

    # Paging by cursor gives the same list, without repeats.
    paged: list[dict[str, Any]] = []
    cursor = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (
            await api.get("/api/v1/me/timeline", params=params, headers={**citizen.headers, "Accept-Language": "en"})
        ).json()
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == items

    # Nothing of another citizen's.
    theirs = (await api.get("/api/v1/me/timeline", headers=other.headers)).json()["items"]
    assert {i["dossier_code"] for i in theirs}.isdisjoint({code, paid_code})
    assert (await api.get("/api/v1/me/timeline", params={"cursor": "%%%"}, headers=other.headers)).status_code == 422
