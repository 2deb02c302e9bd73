"""Narrowing the agency worklist: one dossier by its code, one citizen's dossiers by their
national ID (each read on the citizen's record), a deadline window in Vietnamese days; every
page still one index range per procedure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from bson import ObjectId

from app.dossiers.worklist import ORDER, Narrowing, deadline_window, encode_cursor, worklist_queries
from app.security import Principal
from models.audit import AccessRecord
from models.dossier import Dossier
from tests.integration.dossiers.conftest import new_citizen
from tests.integration.dossiers.flows import move, submitted
from tests.integration.dossiers.test_worklist import read_all, set_due
from tests.integration.query_plans import plan_stages
from tests.support import new_national_id

SERVICE = "TEMPORARY_ABSENCE"
# 00:30 in Hà Nội on 11 March is still 10 March in UTC: the window counts Vietnamese days.
EARLY = datetime(2030, 3, 10, 17, 30, tzinfo=UTC)
MIDDLE = datetime(2030, 3, 11, 12, 0, tzinfo=UTC)
# Midnight in Hà Nội starting 12 March.
LATE = datetime(2030, 3, 11, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def desk(api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any) -> dict[str, Any]:
    """An agency with two dossiers of one citizen (early, late) and one of another (middle)."""
    agency = await module_agency([SERVICE])
    other = await new_citizen(api, devices=0)
    codes: dict[str, str] = {}
    for name, citizen, due in (
        ("early", shared_citizen, EARLY),
        ("middle", other, MIDDLE),
        ("late", shared_citizen, LATE),
    ):
        codes[name] = (await submitted(api, citizen, SERVICE))["code"]
        await move(api, agency, codes[name], SERVICE, "received")
        await set_due(codes[name], due)
    return {"agency": agency, "codes": codes, "mine": shared_citizen, "other": other}


async def test_a_dossier_code_finds_that_dossier_only(api: httpx.AsyncClient, desk: dict[str, Any]) -> None:
    agency, codes = desk["agency"], desk["codes"]
    assert await read_all(api, agency, limit=5, code=codes["middle"]) == [codes["middle"]]
    assert await read_all(api, agency, limit=5, code=codes["middle"], status="submitted") == []
    assert await read_all(api, agency, limit=5, code="HS-NOT-A-CODE") == []


async def test_a_national_id_lists_that_citizens_dossiers_and_records_the_read(
    api: httpx.AsyncClient, desk: dict[str, Any]
) -> None:
    agency, codes, mine, other = desk["agency"], desk["codes"], desk["mine"], desk["other"]
    assert await read_all(api, agency, limit=1, national_id=mine.national_id) == [codes["early"], codes["late"]]

    def reads() -> Any:
        return AccessRecord.find({"citizen_id": ObjectId(other.id), "actor_id": agency.code, "action": "dossier.read"})

    before = await reads().count()
    assert await read_all(api, agency, limit=5, national_id=other.national_id) == [codes["middle"]]
    recorded = await reads().to_list()
    assert len(recorded) == before + 1 and recorded[-1].target == codes["middle"]
    # Nobody holds this (valid) number: an empty list, like any search that finds nothing.
    assert await read_all(api, agency, limit=5, national_id=new_national_id()) == []


async def test_a_deadline_window_counts_vietnamese_days_both_included(
    api: httpx.AsyncClient, desk: dict[str, Any]
) -> None:
    agency, codes = desk["agency"], desk["codes"]

    async def window(**params: str) -> list[str]:
        return await read_all(api, agency, limit=1, **params)

    assert await window(due_after="2030-03-11", due_before="2030-03-11") == [codes["early"], codes["middle"]]
    assert await window(due_after="2030-03-12") == [codes["late"]]
    assert await window(due_before="2030-03-10") == []
    both = await window(due_before="2030-03-12", deadline="on_track")
    assert both[-3:] == [codes["early"], codes["middle"], codes["late"]]
    mine = desk["mine"].national_id
    assert await window(due_after="2030-03-12", national_id=mine) == [codes["late"]]


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"national_id": "12345"}, "national_id", "12 digits"),
        ({"due_after": "tomorrow"}, "due_after", "YYYY-MM-DD"),
        ({"due_before": "2030-02-30"}, "due_before", "YYYY-MM-DD"),
        ({"due_after": "2030-03-12", "due_before": "2030-03-11"}, "due_before", "swap"),
    ],
)
async def test_bad_filters_are_refused_with_what_to_fix(
    api: httpx.AsyncClient, desk: dict[str, Any], params: dict[str, str], field: str, says: str
) -> None:
    headers = desk["agency"].headers
    answer = await api.get("/api/v1/agency/dossiers", params=params, headers={**headers, "Accept-Language": "en"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["errors"][0]["field"] == field and says in problem["errors"][0]["message"]
    vietnamese = await api.get("/api/v1/agency/dossiers", params=params, headers=headers)
    assert (
        vietnamese.status_code == 422 and vietnamese.json()["errors"][0]["message"] != problem["errors"][0]["message"]
    )


async def test_narrowed_pages_stay_one_range_per_procedure_without_or(desk: dict[str, Any]) -> None:
    agency, codes = desk["agency"], desk["codes"]
    principal = Principal(kind="agency", id=agency.code, agency_code=agency.code, service_codes=(SERVICE, "OTHER"))
    due_from, due_until = deadline_window("2030-03-11", "2030-03-11")
    early = await Dossier.find_one(Dossier.code == codes["early"])
    assert early is not None and early.due_at is not None
    cursor = encode_cursor(early.due_at, early.id)
    window = Narrowing(due_from=due_from, due_until=due_until)
    for narrow in (Narrowing(code=codes["middle"]), Narrowing(citizen_id=early.citizen_id), window):
        for deadline in (None, "on_track"):
            queries, _ = worklist_queries(principal, None, None, deadline, None, narrow)
            # One query per procedure, each naming the agency (the shard key), none with $or or $in.
            assert [q["service_code"] for q in queries] == [SERVICE, "OTHER"]
            assert all(q["agency_code"] == agency.code for q in queries)
            assert not any(key.startswith("$") for q in queries for key in q)
            assert not any(isinstance(v, dict) and "$in" in v for q in queries for v in q.values())
    # The window tightens the deadline state's own due_at range instead of adding one...
    queries, index = worklist_queries(principal, None, None, "on_track", cursor, window)
    assert all(set(q["due_at"]) <= {"$gt", "$gte", "$lt", "$lte"} for q in queries if isinstance(q["due_at"], dict))
    # ...and still walks the worklist index, without a hint.
    for query in queries:
        plan = await Dossier.get_pymongo_collection().find(query).sort(ORDER).limit(20).explain()
        scans = [s for s in plan_stages(plan) if s["stage"] in ("IXSCAN", "COLLSCAN")]
        assert [s.get("indexName") for s in scans] == [index], query
