"""The rollup finds every changed dossier by its `changed_at`: each writer (an agency event, a
rating, a payment confirmation, an assisted filing's mark) sets it, and the first run after
the upgrade that brought it reads every dossier once, so a change made before is not lost. A
change that landed later than a run's short look-back is counted by the night's recheck."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
from beanie import PydanticObjectId
from bson import ObjectId

from app.dossiers import store as dossier_store
from app.statistics import store as statistics_store
from app.statistics.rollup import LEASE, RECHECK_EVERY, run_rollup
from app.statistics.store import STATE_ID
from models.common import utcnow
from models.dossier import Dossier
from models.statistics import DailyStats
from models.working_days import VIETNAM
from tests.integration.conftest import AgencyHandle, CitizenHandle
from tests.integration.dossiers.flows import confirm_payment, move, submitted
from tests.integration.statistics.history import insert, raw_dossier, vn

FREE, PAID = "TEMPORARY_ABSENCE", "CRIMINAL_RECORD"  # CRIMINAL_RECORD: paid before processing
MONTH = timedelta(days=30)
COUNTED = ("received", "assisted", "resolved", "paid_online", "rating_count")


def filed_a_month_ago() -> ObjectId:
    """An `_id` made a month ago: the rollup cannot take such a dossier for a new one."""
    return ObjectId(ObjectId.from_datetime(utcnow() - MONTH).binary[:4] + secrets.token_bytes(8))


async def filed_long_ago(code: str) -> PydanticObjectId:
    """The dossier, stored again under a month-old `_id`: the rollup cannot take it for a new one."""
    collection = Dossier.get_pymongo_collection()
    raw = await collection.find_one({"code": code})
    assert raw is not None
    await collection.delete_one({"_id": raw["_id"]})
    raw["_id"] = moved = PydanticObjectId(filed_a_month_ago())
    await collection.insert_one(raw)
    return moved


async def today(api: httpx.AsyncClient, agency: AgencyHandle) -> dict[str, dict[str, Any]]:
    """Today's figures of the agency, per procedure."""
    day = utcnow().astimezone(VIETNAM).date().isoformat()
    answer = await api.get(
        "/api/v1/agency/statistics", params={"period": "day", "from": day, "to": day}, headers=agency.headers
    )
    assert answer.status_code == 200, answer.text
    return {row["service_code"]: {name: row[name] for name in COUNTED} for row in answer.json()["rows"]}


async def test_a_change_by_each_writer_is_counted_by_the_next_run(
    api: httpx.AsyncClient,
    make_agency: Callable[..., Awaitable[AgencyHandle]],
    make_citizen: Callable[..., Awaitable[CitizenHandle]],
) -> None:
    agency = await make_agency([FREE, PAID])
    citizen = await make_citizen(eid_level=2)
    moved, rated, assisted = [str((await submitted(api, citizen, FREE))["code"]) for _ in range(3)]
    paid = str((await submitted(api, citizen, PAID))["code"])
    await move(api, agency, moved, FREE, "received", "processing", "approved")
    await move(api, agency, rated, FREE, "received", "processing", "approved", "result_ready", "completed")
    ids = {code: await filed_long_ago(code) for code in (moved, rated, assisted, paid)}
    await run_rollup()
    # A month passes: their last change is older than any look-back, so only the `changed_at`
    # of a new change can bring them to the next run.
    await Dossier.get_pymongo_collection().update_many(
        {"_id": {"$in": list(ids.values())}}, {"$set": {"changed_at": utcnow() - MONTH}}
    )
    before = await today(api, agency)
    assert before[FREE] == {"received": 3, "assisted": 0, "resolved": 1, "paid_online": 0, "rating_count": 0}
    assert before[PAID] == {"received": 1, "assisted": 0, "resolved": 0, "paid_online": 0, "rating_count": 0}

    await move(api, agency, moved, FREE, "result_ready")
    rating = await api.post(f"/api/v1/me/dossiers/{rated}/rating", json={"score": 4}, headers=citizen.headers)
    assert rating.status_code == 201, rating.text
    await confirm_payment(api, citizen, paid)
    await dossier_store.mark_assisted(ids[assisted], "staff:desk-1")
    await run_rollup()

    after = await today(api, agency)
    assert after[FREE] == {"received": 3, "assisted": 1, "resolved": 2, "paid_online": 0, "rating_count": 1}
    assert after[PAID] == {"received": 1, "assisted": 0, "resolved": 0, "paid_online": 1, "rating_count": 0}


async def test_a_change_made_before_the_upgrade_is_counted_by_the_first_run_after_it(
    api: httpx.AsyncClient, make_agency: Callable[..., Awaitable[AgencyHandle]]
) -> None:
    agency = await make_agency([FREE])
    received = vn(2026, 5, 4)
    seeded = raw_dossier(
        agency.code, FREE, submitted=received, moves=[("received", received)], due=vn(2026, 5, 11),
        clock={"state": "running", "received_at": received}, _id=filed_a_month_ago(),
    )  # fmt: skip
    await insert(seeded)
    await run_rollup()

    # Settled by the version before `changed_at`: a history entry, no `changed_at`.
    now = utcnow()
    await Dossier.get_pymongo_collection().update_one(
        {"_id": seeded["_id"]},
        {
            "$set": {"status": "result_ready", "clock.state": "stopped", "clock.stopped_at": now},
            "$push": {"history": {"status": "result_ready", "at": now, "actor": f"agency:{agency.code}"}},
            "$inc": {"rev": 1},
        },
    )
    # The state as that version left it: no `changes_version`.
    state = DailyStats.get_pymongo_collection().database["dossier_stats_state"]
    await state.update_one({"_id": STATE_ID}, {"$unset": {"changes_version": ""}})
    await run_rollup()

    assert (await today(api, agency))[FREE]["resolved"] == 1


@asynccontextmanager
async def rollups_held() -> AsyncIterator[None]:
    """The rollup's lease, held by the test while it files and back-dates dossiers: the session's
    worker runs the rollup cron every minute, and a run between a filing and its back-dating
    would count the dossier before the test made it late."""
    holder = "test-" + secrets.token_hex(4)
    deadline = utcnow() + timedelta(minutes=1)
    while True:
        if await statistics_store.try_lease(holder, utcnow() + LEASE) is not None:
            break
        assert utcnow() < deadline, "the worker's rollup kept the lease for a minute"
        await asyncio.sleep(0.05)  # the worker's run is under way: poll its lease, as a run does
    try:
        yield
    finally:
        await statistics_store.release_lease(holder)


def next_night_after(moment: datetime) -> datetime:
    """The first 03:00 in Vietnam at or after `moment`: inside the recheck's hours."""
    night = datetime.combine(moment.astimezone(VIETNAM).date(), time(3), tzinfo=VIETNAM)
    return night if night >= moment else night + timedelta(days=1)


async def test_a_change_that_landed_later_than_the_look_back_is_counted_by_the_nights_recheck(
    api: httpx.AsyncClient,
    make_agency: Callable[..., Awaitable[AgencyHandle]],
    make_citizen: Callable[..., Awaitable[CitizenHandle]],
) -> None:
    agency = await make_agency([FREE])
    citizen = await make_citizen(eid_level=2)
    await submitted(api, citizen, FREE)
    state = DailyStats.get_pymongo_collection().database["dossier_stats_state"]
    daytime = utcnow().astimezone(VIETNAM).replace(hour=10).astimezone(UTC)
    await run_rollup(now=daytime)
    watermark = (await state.find_one({"_id": STATE_ID}))["watermark"]
    assert (await today(api, agency))[FREE]["received"] == 1

    # Stamped two minutes before that run started, stored after it (a write stalled in flight,
    # or a host whose clock ran behind): older than the look-back of the next run.
    async with rollups_held():
        late = str((await submitted(api, citizen, FREE))["code"])
        await Dossier.get_pymongo_collection().update_one(
            {"code": late}, {"$set": {"changed_at": watermark - timedelta(minutes=2)}}
        )
    await run_rollup(now=daytime)
    assert (await today(api, agency))[FREE]["received"] == 1

    # Yesterday's recheck, then the first run of the night looks back to it.
    yesterday = watermark - timedelta(days=1)
    await state.update_one({"_id": STATE_ID}, {"$set": {"rechecked_at": yesterday}})
    await run_rollup(now=next_night_after(yesterday + RECHECK_EVERY))
    assert (await today(api, agency))[FREE]["received"] == 2
    rechecked = (await state.find_one({"_id": STATE_ID}))["rechecked_at"]
    assert rechecked > watermark


async def test_rollups_racing_through_the_nights_recheck_count_each_dossier_once(
    api: httpx.AsyncClient,
    make_agency: Callable[..., Awaitable[AgencyHandle]],
    make_citizen: Callable[..., Awaitable[CitizenHandle]],
) -> None:
    """Two workers' crons and a test beside them fire at once during the recheck: the lease
    lets one run at a time and every run recomputes from facts, so nothing counts twice."""
    agency = await make_agency([FREE])
    citizen = await make_citizen(eid_level=2)
    state = DailyStats.get_pymongo_collection().database["dossier_stats_state"]
    await run_rollup(now=utcnow().astimezone(VIETNAM).replace(hour=10).astimezone(UTC))
    watermark = (await state.find_one({"_id": STATE_ID}))["watermark"]
    # The last recheck an hour ago: the worker's cron, on the real clock, is not due for one
    # even in the night's hours, so only the runs below can find the late dossiers.
    an_hour_ago = watermark - timedelta(hours=1)
    async with rollups_held():
        codes = [str((await submitted(api, citizen, FREE))["code"]) for _ in range(3)]
        await Dossier.get_pymongo_collection().update_many(
            {"code": {"$in": codes}}, {"$set": {"changed_at": watermark - timedelta(minutes=2)}}
        )
        await state.update_one({"_id": STATE_ID}, {"$set": {"rechecked_at": an_hour_ago}})
    night = next_night_after(an_hour_ago + RECHECK_EVERY)

    reports = await asyncio.gather(*(run_rollup(now=night) for _ in range(4)))

    assert sum(report.facts_changed for report in reports) == 3  # each late dossier's facts once
    assert (await today(api, agency))[FREE]["received"] == 3
