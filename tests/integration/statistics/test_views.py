"""Cross-agency and day-grain reads come from the packed views (app/statistics/views.py): by
province, by agency, by agency and procedure, by all three. Each is checked against an
independent count of a seeded history spread over two agencies and two provinces, by day
across a month end and across Tết, and by month; the views built in one pass (the first run
after an upgrade) answer the same as the views kept run by run."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from app.statistics.rollup import run_rollup
from app.statistics.store import STATE_ID
from models.dossier import Dossier
from models.statistics import DailyStats
from tests.integration.conftest import AgencyHandle
from tests.integration.statistics.history import Truth, expected_rows
from tests.integration.statistics.test_access import admin
from tests.integration.statistics.test_indicators import nearest_rank, seed_history

MakeAgency = Callable[..., Awaitable[AgencyHandle]]
COUNTS = ("received", "filed_online", "assisted", "resolved", "resolved_on_time", "rejected", "supplement",
          "results_in_wallet", "paid_online", "rating_count")  # fmt: skip
# Across the end of January, and across Tết (16–20 February 2026) with the weekends around it.
MONTH_END = ("2026-01-28", "2026-02-03")
TET = ("2026-02-12", "2026-02-24")


def summed(parts: Iterable[tuple[tuple[str, ...], list[Truth]]], first: str, last: str, label: Any) -> dict[Any, Any]:
    """The expected rows per (period, *key): the truths of every (key, seeded history) merged."""
    rows: dict[Any, Any] = defaultdict(lambda: defaultdict(int) | {"days": []})  # type: ignore[operator]
    for key, truths in parts:
        counted = expected_rows(truths, lambda d: label(d) if first <= d <= last else None)
        for (period, _service), want in counted.items():
            row = rows[(period, *key)]
            for name in (*COUNTS, "rating_sum"):
                row[name] += want[name]
            row["days"] += want["days"]
    return rows


def check(rows: list[dict[str, Any]], expected: dict[Any, Any], key_fields: tuple[str, ...]) -> None:
    got = {(r["period"], *(r[k] for k in key_fields)): r for r in rows}
    assert set(got) == set(expected), sorted(set(got) ^ set(expected))
    for key, want in expected.items():
        row = got[key]
        assert {n: row[n] for n in COUNTS} == {n: want[n] for n in COUNTS}, key
        assert row["processing_days_p90"] == nearest_rank(want["days"], 0.9), key
        days = want["days"]
        assert row["processing_days_average"] == (round(sum(days) / len(days), 2) if days else None), key


async def test_every_view_matches_an_independent_count_across_a_month_end_and_tet(
    api: httpx.AsyncClient, make_agency: MakeAgency
) -> None:
    a, b = await make_agency(["DL_RENEWAL", "PASSPORT"]), await make_agency(["DL_RENEWAL", "PASSPORT"])
    north, south = f"T{secrets.token_hex(3)}", f"T{secrets.token_hex(3)}"
    # Agency A's history filed in both provinces, agency B's in the north only.
    seeded: list[tuple[str, str, list[Truth]]] = []
    for agency, province in ((a.code, north), (a.code, south), (b.code, north)):
        truths, docs = await seed_history(agency)
        ids = [d["_id"] for d in docs.values()]
        await Dossier.get_pymongo_collection().update_many({"_id": {"$in": ids}}, {"$set": {"province_code": province}})
        seeded.append((agency, province, truths))
    await run_rollup()
    staff = await admin(api)

    async def get(path: str, **params: str) -> list[dict[str, Any]]:
        answer = await api.get(path, params=params, headers=staff.headers)
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["rows"]
        return rows

    async def every_view() -> list[list[dict[str, Any]]]:
        answers = []
        for first, last in (MONTH_END, TET):
            window = {"period": "day", "from": first, "to": last}
            # The public summary of one province: the province view.
            rows = await get("/api/v1/public/statistics", province=north, **window)
            check(rows, summed([((p,), t) for _, p, t in seeded if p == north], first, last, str), ("province",))
            # Every agency of the north by agency: the whole key (a province and an agency).
            rows = await get("/api/v1/admin/statistics", province=north, by="agency", **window)
            check(rows, summed([((g,), t) for g, p, t in seeded if p == north], first, last, str), ("agency_code",))
            # One agency by day: the agency view, both provinces summed.
            rows = await get("/api/v1/admin/statistics", agency_code=a.code, **window)
            check(rows, summed([((a.code,), t) for g, _, t in seeded if g == a.code], first, last, str),
                  ("agency_code",))  # fmt: skip
            answers.append(rows)
            # One agency by procedure: the procedure view (its services come from the truths).
            rows = await get("/api/v1/admin/statistics", agency_code=a.code, by="agency,procedure", **window)
            per_service = [
                ((a.code, service), [t for t in truths if t.service == service])
                for g, _, truths in seeded
                if g == a.code
                for service in ("DL_RENEWAL", "PASSPORT")
            ]
            check(rows, summed(per_service, first, last, str), ("agency_code", "service_code"))
            answers.append(rows)
        # By month, January to March, per province and agency: months of a year, the whole key.
        window = {"period": "month", "from": "2026-01-01", "to": "2026-03-31"}
        rows = await get("/api/v1/admin/statistics", agency_code=a.code, by="province,agency", **window)
        expected = summed(
            [((p, g), t) for g, p, t in seeded if g == a.code], "2026-01-01", "2026-03-31", lambda d: d[:7]
        )
        check(rows, expected, ("province", "agency_code"))
        answers.append(rows)
        return answers

    kept = await every_view()
    month_end, tet = ({r["period"]: r for r in kept[i]} for i in (0, 2))
    # Filed at 00:30 on 1 February in Hà Nội (31 January in UTC), once in each province.
    assert month_end["2026-02-01"]["received"] == 2 and "2026-01-31" not in month_end
    # Received 12 February, result 24 February: 3 working days across Tết, in each province.
    assert (tet["2026-02-24"]["resolved"], tet["2026-02-24"]["processing_days_p90"]) == (2, 3)

    # The first run after an upgrade builds every view in one pass: the same answers.
    state = DailyStats.get_pymongo_collection().database["dossier_stats_state"]
    await state.update_one({"_id": STATE_ID}, {"$unset": {"views_version": ""}})
    await run_rollup()
    assert await every_view() == kept
