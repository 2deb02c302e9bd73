"""Agency indicators from the rollups, checked against an independent count of a seeded
history: across a month end (on Vietnamese dates), across Tết, by day, month, quarter and
year; kept up to date as dossiers change; the same whatever runs the rollup at once."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

import httpx
from bson import ObjectId

from app.statistics.rollup import run_rollup
from models.common import utcnow
from models.dossier import Dossier
from models.working_days import VIETNAM
from tests.integration.conftest import AgencyHandle
from tests.integration.statistics.history import Truth, expected_rows, insert, raw_dossier, vn, working_days_ago

DL, PP = "DL_RENEWAL", "PASSPORT"
MakeAgency = Callable[..., Awaitable[AgencyHandle]]


def paid(at: Any) -> dict[str, Any]:
    return {
        "reference": f"PAY-{secrets.token_hex(4)}",
        "state": "paid",
        "amount_vnd": 135000,
        "fee_vnd": 135000,
        "postage_vnd": 0,
        "timing": "before_completion",
        "requested_at": at,
        "paid_at": at,
    }


def stopped(received: Any, at: Any, waited: int = 0) -> dict[str, Any]:
    return {"state": "stopped", "received_at": received, "stopped_at": at, "paused_working_days": waited}


async def seed_history(agency: str) -> tuple[list[Truth], dict[str, dict[str, Any]]]:
    """The dossiers of one agency, and what each must count as (days counted by hand)."""
    now = utcnow()
    docs: dict[str, dict[str, Any]] = {}
    truths: list[Truth] = []

    # Filed and received Friday 30 Jan, result into the wallet Tuesday 3 Feb (2, 3 Feb: 2 days),
    # due Friday 6 Feb; paid online on 30 Jan.
    docs["d1"] = raw_dossier(
        agency, DL, submitted=vn(2026, 1, 30, 10),
        moves=[("received", vn(2026, 1, 30, 11)), ("processing", vn(2026, 2, 2)), ("result_ready", vn(2026, 2, 3, 15))],
        due=vn(2026, 2, 6, 11), clock=stopped(vn(2026, 1, 30, 11), vn(2026, 2, 3, 15)),
        result_document_id=ObjectId(), payment=paid(vn(2026, 1, 30, 10, 20)),
    )  # fmt: skip
    truths.append(Truth(DL, "2026-01-30", resolved_day="2026-02-03", processing_days=2, on_time=True,
                        in_wallet=True, paid_day="2026-01-30"))  # fmt: skip
    # Filed at 00:30 on Sunday 1 Feb in Hà Nội (still 31 Jan in UTC): a February dossier.
    # Received Mon 2 Feb, sent back Tue 3, answered Thu 5 (4 and 5 waited), refused Tue 10 Feb:
    # 3, 4, 5, 6, 9, 10 less the 2 waited = 4 days; due Mon 9 Feb, so late.
    docs["d2"] = raw_dossier(
        agency, DL, submitted=vn(2026, 2, 1, 0, 30),
        moves=[("received", vn(2026, 2, 2, 8)), ("supplement_required", vn(2026, 2, 3)),
               ("processing", vn(2026, 2, 5)), ("rejected", vn(2026, 2, 10, 14))],
        due=vn(2026, 2, 9, 17), clock=stopped(vn(2026, 2, 2, 8), vn(2026, 2, 10, 14), waited=2),
    )  # fmt: skip
    truths.append(Truth(DL, "2026-02-01", resolved_day="2026-02-10", processing_days=4, on_time=False,
                        rejected=True, supplement=True))  # fmt: skip
    # Across Tết: filed at a support desk and received Thu 12 Feb, result Tue 24 Feb:
    # Fri 13, (14–22: weekend, Tết 16–20, weekend), Mon 23, Tue 24 = 3 days; due Thu 26 Feb.
    docs["d3"] = raw_dossier(
        agency, DL, submitted=vn(2026, 2, 12), assisted_by="staff:desk-1",
        moves=[("received", vn(2026, 2, 12, 10)), ("result_ready", vn(2026, 2, 24, 16))],
        due=vn(2026, 2, 26, 10), clock=stopped(vn(2026, 2, 12, 10), vn(2026, 2, 24, 16)),
        result_document_id=ObjectId(),
    )  # fmt: skip
    truths.append(Truth(DL, "2026-02-12", assisted=True, resolved_day="2026-02-24", processing_days=3,
                        on_time=True, in_wallet=True))  # fmt: skip
    # Still being processed, due Fri 27 Feb: months late now (backlog: more than 10 days).
    docs["d4"] = raw_dossier(
        agency, DL, submitted=vn(2026, 2, 13), moves=[("received", vn(2026, 2, 13, 10))],
        due=vn(2026, 2, 27, 10), clock={"state": "running", "received_at": vn(2026, 2, 13, 10)},
    )  # fmt: skip
    truths.append(Truth(DL, "2026-02-13"))
    # Running and due about 3 and about 7 working days ago (backlog 1–5 and 6–10).
    for name, late in (("d5", 3), ("d6", 7)):
        due = working_days_ago(now, late)
        docs[name] = raw_dossier(
            agency, DL, submitted=due, moves=[("received", due)], due=due,
            clock={"state": "running", "received_at": due},
        )  # fmt: skip
        truths.append(Truth(DL, due.astimezone(VIETNAM).date().isoformat()))
    # Waiting for the citizen with its date passed: not the agency's backlog.
    docs["d7"] = raw_dossier(
        agency, DL, submitted=vn(2026, 3, 2),
        moves=[("received", vn(2026, 3, 2)), ("supplement_required", vn(2026, 3, 3))],
        due=vn(2026, 3, 9), clock={"state": "paused", "received_at": vn(2026, 3, 2), "paused_at": vn(2026, 3, 3),
                                   "waiting_for": ["supplement"]},
    )  # fmt: skip
    truths.append(Truth(DL, "2026-03-02"))
    # Received Mon 19 Jan, result Tue 20 (1 day), rated 4 on Mon 2 Feb: the rating is February's.
    docs["d8"] = raw_dossier(
        agency, DL, submitted=vn(2026, 1, 19),
        moves=[("received", vn(2026, 1, 19)), ("result_ready", vn(2026, 1, 20)), ("completed", vn(2026, 1, 21))],
        due=vn(2026, 1, 26), clock=stopped(vn(2026, 1, 19), vn(2026, 1, 20)),
        rating={"score": 4, "comment": "Nhanh", "at": vn(2026, 2, 2, 20)},
    )  # fmt: skip
    truths.append(Truth(DL, "2026-01-19", resolved_day="2026-01-20", processing_days=1, on_time=True,
                        rating_day="2026-02-02", score=4))  # fmt: skip
    # Passport: received Wed 28 Jan, result Fri 6 Feb (29, 30, 2–6 Feb = 7 days), due Mon 9 Feb; rated 5 Sat 7 Feb.
    docs["p1"] = raw_dossier(
        agency, PP, submitted=vn(2026, 1, 28),
        moves=[("received", vn(2026, 1, 28)), ("result_ready", vn(2026, 2, 6)), ("completed", vn(2026, 2, 7))],
        due=vn(2026, 2, 9), clock=stopped(vn(2026, 1, 28), vn(2026, 2, 6)), result_document_id=ObjectId(),
        rating={"score": 5, "comment": None, "at": vn(2026, 2, 7, 9)},
    )  # fmt: skip
    truths.append(Truth(PP, "2026-01-28", resolved_day="2026-02-06", processing_days=7, on_time=True,
                        in_wallet=True, rating_day="2026-02-07", score=5))  # fmt: skip
    # Refused at the counter before receipt, Mon 2 Feb: 0 days, on time.
    docs["p2"] = raw_dossier(
        agency, PP, submitted=vn(2026, 2, 2, 8), moves=[("rejected", vn(2026, 2, 2, 9))], due=vn(2026, 2, 12),
        clock={"state": "stopped", "stopped_at": vn(2026, 2, 2, 9)},
    )  # fmt: skip
    truths.append(Truth(PP, "2026-02-02", resolved_day="2026-02-02", processing_days=0, on_time=True, rejected=True))
    # Ten received Mon 2 Mar, settled after 1..10 working days (no holiday in March); due after 5.
    settled = ["03", "04", "05", "06", "09", "10", "11", "12", "13", "16"]
    for days, day in enumerate(settled, start=1):
        at = vn(2026, 3, int(day), 15)
        docs[f"m{days}"] = raw_dossier(
            agency, DL, submitted=vn(2026, 3, 2), moves=[("received", vn(2026, 3, 2)), ("result_ready", at)],
            due=vn(2026, 3, 9, 9), clock=stopped(vn(2026, 3, 2), at), result_document_id=ObjectId(),
        )  # fmt: skip
        truths.append(Truth(DL, "2026-03-02", resolved_day=f"2026-03-{day}", processing_days=days,
                            on_time=days < 5, in_wallet=True))  # fmt: skip
    await insert(*docs.values())
    return truths, docs


def nearest_rank(values: list[int], q: float) -> int | None:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1] if ordered else None


def check_rows(rows: list[dict[str, Any]], truths: list[Truth], bucket: Callable[[str], str | None]) -> None:
    """Every row against the independent count, and no row the count does not have."""
    expected = expected_rows(truths, bucket)
    assert {(r["period"], r["service_code"]) for r in rows} == set(expected)
    for row in rows:
        want = expected[(row["period"], row["service_code"])]
        resolved, days = want["resolved"], want["days"]
        for name in ("received", "filed_online", "assisted", "resolved", "resolved_on_time", "rejected",
                     "supplement", "results_in_wallet", "paid_online", "rating_count"):  # fmt: skip
            assert row[name] == want[name], (row["period"], row["service_code"], name)
        assert row["on_time_rate"] == (round(want["resolved_on_time"] / resolved, 4) if resolved else None)
        assert row["rejected_share"] == (round(want["rejected"] / resolved, 4) if resolved else None)
        assert row["supplement_share"] == (round(want["supplement"] / resolved, 4) if resolved else None)
        assert row["processing_days_average"] == (round(sum(days) / len(days), 2) if days else None)
        assert row["processing_days_p90"] == nearest_rank(days, 0.9)
        ratings = want["rating_count"]
        assert row["rating_average"] == (round(want["rating_sum"] / ratings, 2) if ratings else None)


def within(first: str, last: str, label: Callable[[str], str]) -> Callable[[str], str | None]:
    return lambda day: label(day) if first <= day <= last else None


def quarter(day: str) -> str:
    return f"{day[:4]}-Q{(int(day[5:7]) - 1) // 3 + 1}"


async def statistics(api: httpx.AsyncClient, agency: AgencyHandle, **params: str) -> dict[str, Any]:
    answer = await api.get("/api/v1/agency/statistics", params=params, headers=agency.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_indicators_match_an_independent_count_by_day_month_quarter_and_year(
    api: httpx.AsyncClient, make_agency: MakeAgency
) -> None:
    agency = await make_agency([DL, PP])
    truths, _ = await seed_history(agency.code)
    await run_rollup()

    by_month = await statistics(api, agency, period="month", **{"from": "2026-01-01", "to": "2026-03-31"})
    check_rows(by_month["rows"], truths, within("2026-01-01", "2026-03-31", lambda d: d[:7]))
    february = next(r for r in by_month["rows"] if r["period"] == "2026-02" and r["service_code"] == DL)
    # Filed 1 Feb (Hà Nội), 12 Feb and 13 Feb; settled 3, 10 and 24 Feb in 2, 4 and 3 days.
    assert (february["received"], february["resolved"], february["processing_days_p90"]) == (3, 3, 4)
    march = next(r for r in by_month["rows"] if r["period"] == "2026-03" and r["service_code"] == DL)
    assert (march["processing_days_average"], march["processing_days_p90"], march["on_time_rate"]) == (5.5, 9, 0.4)

    by_day = await statistics(api, agency, period="day", **{"from": "2026-01-30", "to": "2026-02-03"})
    check_rows(by_day["rows"], truths, within("2026-01-30", "2026-02-03", lambda d: d))
    assert [r["period"] for r in by_day["rows"] if r["received"]] == ["2026-01-30", "2026-02-01", "2026-02-02"]

    # A range with ragged ends: the days at its ends come from the daily counters.
    ragged = await statistics(api, agency, period="month", **{"from": "2026-01-15", "to": "2026-02-10"})
    check_rows(ragged["rows"], truths, within("2026-01-15", "2026-02-10", lambda d: d[:7]))
    assert ragged["rows"][0]["period_start"] == "2026-01-15"

    by_quarter = await statistics(api, agency, period="quarter", **{"from": "2026-01-01", "to": "2026-06-30"})
    check_rows(by_quarter["rows"], truths, within("2026-01-01", "2026-06-30", quarter))
    by_year = await statistics(api, agency, period="year", **{"from": "2026-01-01", "to": "2026-12-31"})
    check_rows(by_year["rows"], truths, within("2026-01-01", "2026-12-31", lambda d: d[:4]))

    # Agency totals: both procedures merged (histograms too).
    totals = await statistics(api, agency, period="year", by="agency", **{"from": "2026-01-01", "to": "2026-03-31"})
    [total] = totals["rows"]
    resolved_days = [t.processing_days for t in truths if t.resolved_day and t.processing_days is not None]
    assert total["service_code"] is None and total["resolved"] == len(resolved_days)
    assert total["processing_days_p90"] == nearest_rank(resolved_days, 0.9)

    # The backlog now: running dossiers past due by how late; the one waiting for the citizen is not in it.
    assert by_month["backlog"] == [
        {"province": None, "agency_code": agency.code, "service_code": DL, "overdue": 3,
         "late_up_to_5": 1, "late_6_to_10": 1, "late_over_10": 1}
    ]  # fmt: skip


async def test_rollups_follow_changes_and_concurrent_runs_change_nothing(
    api: httpx.AsyncClient, make_agency: MakeAgency
) -> None:
    agency = await make_agency([DL, PP])
    truths, docs = await seed_history(agency.code)
    await run_rollup()
    window = {"period": "month", "from": "2026-01-01", "to": "2026-03-31"}
    before = await statistics(api, agency, **window)

    # Three runs at once (two workers and an operator, say): the lease lets one at a time through.
    await asyncio.gather(run_rollup(), run_rollup(), run_rollup())
    again = await statistics(api, agency, **window)
    assert again["rows"] == before["rows"] and again["backlog"] == before["backlog"]

    # The late dossier gets its result now: today's figures and the backlog follow.
    now = utcnow()
    await Dossier.get_pymongo_collection().update_one(
        {"_id": docs["d4"]["_id"]},
        {
            "$set": {"status": "result_ready", "clock.state": "stopped", "clock.stopped_at": now},
            "$push": {"history": {"status": "result_ready", "at": now, "actor": f"agency:{agency.code}"}},
            "$inc": {"rev": 1},
        },
    )
    await run_rollup()
    today = now.astimezone(VIETNAM).date().isoformat()
    daily = await statistics(api, agency, period="day", **{"from": today, "to": today})
    [row] = [r for r in daily["rows"] if r["service_code"] == DL]
    assert (row["resolved"], row["resolved_on_time"], row["results_in_wallet"]) == (1, 0, 0)
    assert daily["backlog"][0]["overdue"] == 2 and daily["backlog"][0]["late_over_10"] == 0
    # February is as it was: the dossier was filed then, and that has not changed.
    after = await statistics(api, agency, **window)
    assert after["rows"] == before["rows"]
    assert truths  # the history was seeded


async def test_csv_is_the_same_table(api: httpx.AsyncClient, make_agency: MakeAgency) -> None:
    agency = await make_agency([DL, PP])
    await seed_history(agency.code)
    await run_rollup()
    window = {"period": "month", "from": "2026-01-01", "to": "2026-03-31"}
    as_json = await statistics(api, agency, **window)
    by_accept, by_param = await asyncio.gather(
        api.get("/api/v1/agency/statistics", params=window, headers={**agency.headers, "Accept": "text/csv"}),
        api.get("/api/v1/agency/statistics", params={**window, "format": "csv"}, headers=agency.headers),
    )
    for answer in (by_accept, by_param):
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert len(rows) == len(as_json["rows"]) > 0
        for got, want in zip(rows, as_json["rows"], strict=True):
            assert set(got) == set(want) - {"province"}
            assert got == {k: "" if v is None else str(v) for k, v in want.items() if k != "province"}


async def test_the_clock_of_an_agency_is_vietnamese_not_utc(api: httpx.AsyncClient, make_agency: MakeAgency) -> None:
    """One dossier filed at 00:30 on 1 February in Hà Nội: 31 January in UTC, February here."""
    agency = await make_agency([DL])
    await insert(
        raw_dossier(
            agency.code, DL, submitted=vn(2026, 2, 1, 0, 30), due=vn(2026, 2, 10), clock={"state": "not_started"}
        )
    )
    assert vn(2026, 2, 1, 0, 30).astimezone(UTC).day == 31
    await run_rollup()
    body = await statistics(api, agency, period="day", **{"from": "2026-01-31", "to": "2026-02-01"})
    assert [(r["period"], r["received"]) for r in body["rows"]] == [("2026-02-01", 1)]
