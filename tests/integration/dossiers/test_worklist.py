"""The agency worklist: nearest deadline first, a cursor that never skips or repeats, filters
by status, procedure and deadline state, and a query plan that walks an index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.dossiers.worklist import ORDER, encode_cursor, worklist_queries
from app.security import Principal
from models.audit import AccessRecord
from models.common import utcnow
from models.dossier import Dossier
from tests.integration.dossiers.flows import move, submitted
from tests.integration.query_plans import plan_stages

SERVICE = "TEMPORARY_ABSENCE"  # free, one working day


async def set_due(code: str, due: Any, **extra: Any) -> None:
    await Dossier.get_pymongo_collection().update_one(
        {"code": code}, {"$set": {"due_at": due, "late_after": due, **extra}}
    )


@pytest.fixture(scope="module")
async def desk(api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any) -> dict[str, Any]:
    """One agency's desk: dossiers in every deadline state, two of them due at the same moment."""
    agency = await module_agency([SERVICE])
    now = utcnow()
    codes: dict[str, str] = {}
    for name in ("overdue", "at_risk", "tie_a", "tie_b", "on_track", "paused", "new"):
        codes[name] = (await submitted(api, shared_citizen, SERVICE))["code"]
        if name != "new":
            await move(api, agency, codes[name], SERVICE, "received")
    await move(api, agency, codes["paused"], SERVICE, "supplement_required")
    far = now + timedelta(days=30)
    await set_due(codes["overdue"], now - timedelta(days=2))
    await set_due(codes["at_risk"], now + timedelta(hours=2))
    await set_due(codes["tie_a"], far)
    await set_due(codes["tie_b"], far)
    await set_due(codes["on_track"], now + timedelta(days=40))
    await set_due(codes["paused"], now - timedelta(days=1))
    return {"agency": agency, "codes": codes}


async def read_all(api: httpx.AsyncClient, agency: Any, limit: int, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        page = await api.get("/api/v1/agency/dossiers", params=query, headers=agency.headers)
        assert page.status_code == 200, page.text
        seen += [d["code"] for d in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


async def test_sorted_by_deadline_and_paged_without_gaps_or_repeats(
    api: httpx.AsyncClient, desk: dict[str, Any]
) -> None:
    agency, codes = desk["agency"], desk["codes"]
    everything = await read_all(api, agency, limit=100)
    stored = await Dossier.find({"code": {"$in": everything}}).to_list()
    expected = [d.code for d in sorted(stored, key=lambda d: (d.due_at, d.id))]
    assert everything == expected
    assert set(codes.values()) <= set(everything)
    for limit in (1, 2, 3):
        assert await read_all(api, agency, limit=limit) == everything
    assert everything.index(codes["overdue"]) < everything.index(codes["at_risk"]) < everything.index(codes["tie_a"])


async def test_filters_by_deadline_state(api: httpx.AsyncClient, desk: dict[str, Any]) -> None:
    agency, codes = desk["agency"], desk["codes"]
    mine = set(codes.values())

    async def only(**params: Any) -> list[str]:
        return [c for c in await read_all(api, agency, limit=2, **params) if c in mine]

    assert await only(deadline="overdue") == [codes["overdue"]]
    assert await only(deadline="at_risk") == [codes["at_risk"]]
    # Due at the same moment: the older dossier (smaller _id) first.
    assert await only(deadline="on_track") == [codes["tie_a"], codes["tie_b"], codes["on_track"]]
    assert await only(deadline="paused") == [codes["paused"]]
    assert await only(status="submitted") == [codes["new"]]
    assert await only(status="received", deadline="overdue") == [codes["overdue"]]
    assert await only(service_code="PASSPORT") == []
    for bad in ({"deadline": "soon"}, {"status": "done"}, {"cursor": "not-a-cursor"}):
        answer = await api.get(
            "/api/v1/agency/dossiers", params=bad, headers={**agency.headers, "Accept-Language": "en"}
        )
        assert answer.status_code == 422, bad


async def test_each_read_is_on_the_citizens_record(api: httpx.AsyncClient, desk: dict[str, Any]) -> None:
    agency, codes = desk["agency"], desk["codes"]
    before = await AccessRecord.find({"target": codes["tie_a"], "actor_id": agency.code}).count()
    await api.get("/api/v1/agency/dossiers", params={"deadline": "on_track"}, headers=agency.headers)
    one = await api.get(f"/api/v1/agency/dossiers/{codes['tie_a']}", headers=agency.headers)
    assert one.status_code == 200 and one.json()["applicant"]["full_name"] == "Trần Thị Bình"
    assert await AccessRecord.find({"target": codes["tie_a"], "actor_id": agency.code}).count() == before + 2


@pytest.mark.parametrize(
    ("status", "deadline", "index"),
    [
        (None, None, "worklist_service_due"),
        ("received", None, "worklist_status_service_due"),
        (None, "overdue", "worklist_clock_service_due"),
        (None, "paused", "worklist_clock_service_due"),
    ],
)
async def test_every_page_is_one_range_of_the_worklist_index(
    desk: dict[str, Any], status: str | None, deadline: str | None, index: str
) -> None:
    agency = desk["agency"]
    principal = Principal(kind="agency", id=agency.code, agency_code=agency.code, service_codes=(SERVICE, "OTHER"))
    first = await Dossier.find({"agency_code": agency.code}).sort("+due_at").first_or_none()
    assert first is not None and first.due_at is not None
    for cursor in (None, encode_cursor(first.due_at, first.id)):
        queries, chosen = worklist_queries(principal, status, None, deadline, cursor)
        assert chosen == index
        # One query per procedure (and per range after a cursor), none with $or or $in.
        assert {q["service_code"] for q in queries} == {SERVICE, "OTHER"}
        assert not any(key.startswith("$") for q in queries for key in q)
        assert not any(isinstance(v, dict) and "$in" in v for q in queries for v in q.values())
        for query in queries:
            plan = await Dossier.get_pymongo_collection().find(query).sort(ORDER).limit(20).explain()
            stages = plan_stages(plan)
            names = [s["stage"] for s in stages]
            assert "COLLSCAN" not in names, (query, names)
            scans = [s for s in stages if s["stage"] == "IXSCAN"]
            # No hint: the store picks the worklist index itself. Its keys end with the sort
            # (due_at, _id), so MongoDB reads the page in order and needs no SORT stage.
            assert [s["indexName"] for s in scans] == [index], query
            assert list(scans[0]["keyPattern"])[-2:] == ["due_at", "_id"]
