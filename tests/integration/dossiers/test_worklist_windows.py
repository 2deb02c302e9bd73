"""A worklist page reads its deadlines a window at a time (app/dossiers/worklist.py,
decision 0025): the embedded store reads a query's whole index range before it applies the
limit, so a page must not ask for "everything due after the cursor". The store's own
profiler says what each page asked, and each query's range is counted."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from bson import ObjectId

from app.dossiers.worklist import WIDEST_WINDOW, encode_cursor, worklist_queries
from app.security import Principal
from models.audit import AccessRecord
from models.common import utcnow
from models.dossier import Dossier
from tests.integration.conftest import AgencyHandle, CitizenHandle
from tests.integration.dossiers.flows import move, submitted
from tests.integration.dossiers.test_worklist import read_all

FREE, PAID = "TEMPORARY_ABSENCE", "CRIMINAL_RECORD"
PAGE = 20
# The most one window query may hold: three pages (a window aims at a page and a half of
# rows for both procedures together). Each procedure holds 110 of the desk's dossiers.
WINDOW_MOST = 3 * PAGE


async def desk_of_many(api: httpx.AsyncClient, agency: AgencyHandle, citizen: CitizenHandle) -> list[str]:
    """221 dossiers of the agency, in two procedures: a few long overdue, most due over the
    next three weeks, 24 due at one moment, a few years ahead. Copies of one received
    dossier, stored straight away (filing 221 through the API adds nothing to this test)."""
    code = str((await submitted(api, citizen, FREE))["code"])
    await move(api, agency, code, FREE, "received")
    collection = Dossier.get_pymongo_collection()
    template = await collection.find_one({"code": code})
    assert template is not None
    for field in ("_id", "outbox", "idempotency_key"):
        template.pop(field, None)
    now, rng = utcnow(), random.Random(25)
    dues = (
        [now - timedelta(days=rng.uniform(1, 1000)) for _ in range(8)]
        + [now + timedelta(days=rng.uniform(0, 21)) for _ in range(180)]
        + [(now + timedelta(days=10)).replace(microsecond=0)] * 24
        + [now + timedelta(days=rng.uniform(30, 1500)) for _ in range(8)]
    )
    copies = [
        {
            **template,
            "_id": ObjectId(),
            "code": f"{code}-W{n:03d}",
            "service_code": (FREE, PAID)[n % 2],
            "due_at": due,
            "late_after": due,
        }
        for n, due in enumerate(dues)
    ]
    await collection.insert_many(copies)
    return [code] + [str(copy["code"]) for copy in copies]


async def test_every_page_reads_small_windows_and_the_pages_miss_nothing(
    api: httpx.AsyncClient,
    make_agency: Callable[..., Awaitable[AgencyHandle]],
    make_citizen: Callable[..., Awaitable[CitizenHandle]],
) -> None:
    agency = await make_agency([FREE, PAID])
    citizen = await make_citizen(eid_level=2)
    codes = await desk_of_many(api, agency, citizen)
    collection = Dossier.get_pymongo_collection()
    database = collection.database
    await database.command("profile", 2)
    try:
        read = await read_all(api, agency, limit=PAGE)
    finally:
        await database.command("profile", 0)

    # Every dossier once, nearest deadline first, ties by filing order, across 12 pages.
    stored = await collection.find({"code": {"$in": codes}}, {"code": 1, "due_at": 1}).to_list()
    assert read == [raw["code"] for raw in sorted(stored, key=lambda raw: (raw["due_at"], raw["_id"]))]

    asked = [
        entry["command"]["filter"]
        async for entry in database["system.profile"].find(
            {"ns": f"{database.name}.dossiers", "command.find": "dossiers", "command.filter.agency_code": agency.code}
        )
    ]
    held = [await collection.count_documents(query) for query in asked]
    assert len(asked) >= len(read) // PAGE  # the profiler saw the pages' queries
    assert max(held) <= WINDOW_MOST, sorted(held)[-5:]
    # What a page asked before windows: the first page's ranges hold the whole desk.
    principal = Principal(kind="agency", id=agency.code, agency_code=agency.code, service_codes=(FREE, PAID))
    whole, _ = worklist_queries(principal, None, None, None, None)
    assert sum([await collection.count_documents(query) for query in whole]) == len(codes)
    await database["system.profile"].drop()


async def test_a_cursor_with_a_window_out_of_bounds_is_refused(
    api: httpx.AsyncClient, make_agency: Callable[..., Awaitable[AgencyHandle]]
) -> None:
    agency = await make_agency([FREE])
    due, dossier_id = utcnow(), ObjectId()
    for width in (timedelta(0), -timedelta(days=1), WIDEST_WINDOW * 2):
        cursor = encode_cursor(due, dossier_id, width)
        answer = await api.get("/api/v1/agency/dossiers", params={"cursor": cursor}, headers=agency.headers)
        assert answer.status_code == 422, (width, answer.text)
        assert answer.json()["errors"][0]["field"] == "cursor"
    fine = await api.get(
        "/api/v1/agency/dossiers", params={"cursor": encode_cursor(due, dossier_id)}, headers=agency.headers
    )
    assert fine.status_code == 200  # a cursor from before windows (no width) still reads


async def test_readers_of_one_cursor_at_once_get_the_same_page_each_read_on_record(
    api: httpx.AsyncClient,
    make_agency: Callable[..., Awaitable[AgencyHandle]],
    make_citizen: Callable[..., Awaitable[CitizenHandle]],
) -> None:
    """Ten clerks open the same next page at once: the windows hold no state between reads,
    so each gets the same dossiers and the same cursor, and each read is on the citizens'
    record once (ten records a dossier, never more)."""
    agency = await make_agency([FREE, PAID])
    await desk_of_many(api, agency, await make_citizen(eid_level=2))
    first = await api.get("/api/v1/agency/dossiers", params={"limit": PAGE}, headers=agency.headers)
    cursor = first.json()["next_cursor"]
    params = {"limit": PAGE, "cursor": cursor}

    pages = await asyncio.gather(
        *(api.get("/api/v1/agency/dossiers", params=params, headers=agency.headers) for _ in range(10))
    )

    assert all(page.status_code == 200 for page in pages)
    bodies = [page.json() for page in pages]
    assert all(body == bodies[0] for body in bodies) and len(bodies[0]["items"]) == PAGE
    shown = [item["code"] for item in bodies[0]["items"]]
    assert not set(shown) & {item["code"] for item in first.json()["items"]}
    for code in shown:
        assert await AccessRecord.find({"target": code, "actor_id": agency.code}).count() == 10


async def test_crafted_cursors_are_refused_with_a_hint_never_a_5xx(
    api: httpx.AsyncClient, make_agency: Callable[..., Awaitable[AgencyHandle]]
) -> None:
    agency = await make_agency([FREE])
    oid = str(ObjectId())

    def raw(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    crafted = [
        raw(f"1700000000000:{oid}:abc"),  # a width that is not a number
        raw(f"1700000000000:{oid}:3600:7"),  # a part too many
        raw(f"1700000000000:{oid}:{10**30}"),  # a width past any date
        raw(f"{10**30}:{oid}:3600"),  # a deadline past any date
        raw(f"1700000000000:{oid}:"),  # an empty width
        raw("1700000000000"),  # no dossier
        "%%%",
        "A" * 5000,
    ]
    for cursor in crafted:
        answer = await api.get(
            "/api/v1/agency/dossiers", params={"cursor": cursor}, headers={**agency.headers, "Accept-Language": "en"}
        )
        assert answer.status_code == 422, (cursor[:40], answer.status_code, answer.text[:200])
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()["errors"][0]
        assert problem["field"] == "cursor" and "omit it" in problem["message"]
