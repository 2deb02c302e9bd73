"""The citizen's expected date on their dossier, and the one warning when it moves past the
deadline before the deadline is missed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from arq import ArqRedis

from app.dossiers.expected import warn_expected_late
from app.statistics.rollup import run_rollup
from models.common import utcnow
from models.dossier import Dossier
from models.notification import Notification
from models.working_days import VIETNAM, add_working_days, is_working_day
from tests.integration.conftest import AgencyHandle, CitizenHandle
from tests.integration.dossiers.flows import dossier, submitted
from tests.integration.statistics.history import insert, raw_dossier, working_days_ago

DL = "DL_RENEWAL"


def a_working_day_weeks_ago(now: datetime) -> datetime:
    """09:00 on a working day six to seven weeks back: inside the recent window."""
    day = (now.astimezone(VIETNAM) - timedelta(days=45)).replace(hour=9, minute=0, second=0, microsecond=0)
    while not is_working_day(day.date()):
        day -= timedelta(days=1)
    return day.astimezone(UTC)


async def seed_settled(agency: str, processing_days: list[int]) -> None:
    """Past dossiers of the procedure at the agency, each settled after the given working days."""
    received = a_working_day_weeks_ago(utcnow())
    docs = []
    for days in processing_days:
        settled_at = add_working_days(received, days)
        docs.append(
            raw_dossier(
                agency,
                DL,
                submitted=received,
                moves=[("received", received), ("result_ready", settled_at)],
                due=add_working_days(received, 5),
                clock={"state": "stopped", "received_at": received, "stopped_at": settled_at},
            )
        )
    await insert(*docs)


async def test_an_open_dossier_shows_expected_dates_from_history_or_the_legal_date(
    api: httpx.AsyncClient,
    make_citizen: Callable[..., Awaitable[CitizenHandle]],
    make_agency: Callable[..., Awaitable[AgencyHandle]],
) -> None:
    citizen = await make_citizen(eid_level=2)
    agency = await make_agency([DL])
    code = (await submitted(api, citizen, DL))["code"]
    # This agency handles it (whatever routing chose): its history is the test's alone.
    await Dossier.get_pymongo_collection().update_one({"code": code}, {"$set": {"agency_code": agency.code}})

    fresh = await dossier(api, citizen, code)
    # No past dossier of this procedure at this agency: the legal date, and it says so.
    assert fresh["expected"]["basis"] == "legal_due_date"
    assert fresh["expected"]["sample_size"] == 0
    assert fresh["expected"]["p50"] == fresh["expected"]["p90"] == fresh["due_at"]

    await seed_settled(agency.code, [1, 2, 2, 3, 4, 9])
    await run_rollup()
    known = (await dossier(api, citizen, code))["expected"]
    # Nothing spent yet: all six count; nearest rank p50 = 3rd of 1,2,2,3,4,9 → 2; p90 = 6th → 9,
    # counted from the filing (not received yet).
    submitted_at = datetime.fromisoformat(fresh["submitted_at"])
    assert (known["basis"], known["sample_size"]) == ("history", 6)
    assert datetime.fromisoformat(known["p50"]) == add_working_days(submitted_at, 2)
    assert datetime.fromisoformat(known["p90"]) == add_working_days(submitted_at, 9)

    # Settled dossiers carry no expectation.
    await Dossier.get_pymongo_collection().update_one(
        {"code": code}, {"$set": {"status": "withdrawn", "clock.state": "stopped"}}
    )
    assert (await dossier(api, citizen, code))["expected"] is None


def running(agency: str, citizen: CitizenHandle, now: datetime) -> dict[str, Any]:
    """Received two working days ago, due five working days after receipt (still ahead)."""
    received = working_days_ago(now, 2)
    due = add_working_days(received, 5)
    from bson import ObjectId

    return raw_dossier(
        agency, DL, submitted=received, moves=[("received", received), ("processing", received)], due=due,
        clock={"state": "running", "received_at": received}, citizen_id=ObjectId(citizen.id), late_after=due,
    )  # fmt: skip


async def test_one_warning_when_the_expected_date_passes_the_deadline(
    api: httpx.AsyncClient,
    pool: ArqRedis,
    make_citizen: Callable[..., Awaitable[CitizenHandle]],
    make_agency: Callable[..., Awaitable[AgencyHandle]],
) -> None:
    citizen = await make_citizen()
    slow, quick = await make_agency([]), await make_agency([])
    await seed_settled(slow.code, [10] * 6)  # this agency takes ten working days
    await seed_settled(quick.code, [1] * 6)  # this one one day: beyond that, no history
    now = utcnow()
    late, fine = running(slow.code, citizen, now), running(quick.code, citizen, now)
    await insert(late, fine)
    await run_rollup()

    # Three sweeps at once (two workers and a retry): one notice.
    await asyncio.gather(*(warn_expected_late(pool) for _ in range(3)))
    await warn_expected_late(pool)
    notices = await Notification.get_pymongo_collection().find({"citizen_id": late["citizen_id"]}).to_list()
    assert [n["key"] for n in notices] == [f"dossier:{late['code']}:expected-late"]
    assert notices[0]["params"]["due_date"] == f"{late['due_at'].astimezone(VIETNAM):%d/%m/%Y}"

    inbox = await api.get("/api/v1/me/notifications", headers={**citizen.headers, "Accept-Language": "en"})
    [item] = [n for n in inbox.json()["items"] if n["data"].get("type") == "dossier_expected_late"]
    assert late["code"] in item["title"] and "may be late" in item["title"]
    stored = await Dossier.get_pymongo_collection().find_one({"_id": late["_id"]})
    # Its entry stays, once, as the record of what the dossier told (decision 0032).
    assert stored is not None and [e["key"] for e in stored["outbox"]] == [f"dossier:{late['code']}:expected-late"]
