"""Who sees which statistics: an agency its own, administrators all and a ranking, the public
a summary with no personal data; bad periods are told what to fix."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pyotp
from bson import ObjectId

from app.statistics.rollup import run_rollup
from tests.integration.conftest import AgencyHandle, StaffHandle
from tests.integration.statistics.history import insert, raw_dossier, vn
from tests.support import remember_secrets

DL = "DL_RENEWAL"
WINDOW = {"period": "month", "from": "2026-04-01", "to": "2026-04-30"}
MakeAgency = Callable[..., Awaitable[AgencyHandle]]
MakeStaff = Callable[..., Awaitable[StaffHandle]]


async def admin(api: httpx.AsyncClient) -> StaffHandle:
    from app.cli import create_staff

    username = f"admin.{secrets.token_hex(3)}"
    creds = await create_staff(username, "admin")
    body = {"username": username, "password": creds["password"], "otp": pyotp.TOTP(creds["totp_secret"]).now()}
    token = await api.post("/api/v1/staff/token", json=body)
    assert token.status_code == 200, token.text
    remember_secrets(creds["password"], creds["totp_secret"], token.json()["access_token"])
    return StaffHandle(username, token.json()["access_token"])


def settled(agency: str, on_time: bool, province: str, citizen_id: Any = None) -> dict[str, Any]:
    """Received Thursday 2 April 2026, result on Tuesday 7 April, due Monday 6 or Wednesday 8."""
    due = vn(2026, 4, 8) if on_time else vn(2026, 4, 6)
    return raw_dossier(
        agency, DL, submitted=vn(2026, 4, 2), moves=[("received", vn(2026, 4, 2)), ("result_ready", vn(2026, 4, 7))],
        due=due, clock={"state": "stopped", "received_at": vn(2026, 4, 2), "stopped_at": vn(2026, 4, 7)},
        citizen_id=citizen_id, rating={"score": 5, "comment": "Cán bộ nhiệt tình", "at": vn(2026, 4, 8)},
        province_code=province,
    )  # fmt: skip


async def two_agencies(make_agency: MakeAgency) -> tuple[AgencyHandle, AgencyHandle, str, list[dict[str, Any]]]:
    """A: three settled, all on time; B: two settled, one on time. All filed in one made-up province."""
    a, b = await make_agency([DL]), await make_agency(["VEHICLE_REGISTRATION"])
    province = f"T{secrets.token_hex(3)}"
    seeded = [settled(a.code, True, province) for _ in range(3)]
    seeded += [settled(b.code, True, province), settled(b.code, False, province)]
    await insert(*seeded)
    await run_rollup()
    return a, b, province, seeded


async def test_an_agency_sees_its_own_figures_only(
    api: httpx.AsyncClient, make_agency: MakeAgency, make_staff: MakeStaff
) -> None:
    a, b, _, _ = await two_agencies(make_agency)
    mine = await api.get("/api/v1/agency/statistics", params=WINDOW, headers=a.headers)
    assert mine.status_code == 200
    assert [(r["agency_code"], r["resolved"]) for r in mine.json()["rows"]] == [(a.code, 3)]
    # Naming the other agency changes nothing: the caller's own code is the scope.
    other = await api.get(
        "/api/v1/agency/statistics", params={**WINDOW, "agency_code": b.code, "by": "agency"}, headers=a.headers
    )
    assert {r["agency_code"] for r in other.json()["rows"]} == {a.code}
    support = await make_staff()
    refused = await asyncio.gather(
        api.get("/api/v1/admin/statistics", params=WINDOW, headers=a.headers),
        api.get("/api/v1/admin/statistics/ranking", params=WINDOW, headers=a.headers),
        api.get("/api/v1/admin/statistics", params=WINDOW, headers=support.headers),
        api.get("/api/v1/agency/statistics", params=WINDOW, headers=support.headers),
    )
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert (await api.get("/api/v1/agency/statistics", params=WINDOW)).status_code == 401


async def test_administrators_see_every_agency_and_a_ranking(api: httpx.AsyncClient, make_agency: MakeAgency) -> None:
    a, b, province, _ = await two_agencies(make_agency)
    staff = await admin(api)
    everyone = await api.get("/api/v1/admin/statistics", params={**WINDOW, "province": province}, headers=staff.headers)
    assert everyone.status_code == 200, everyone.text
    rows = {r["agency_code"]: r for r in everyone.json()["rows"]}
    figures = {code: (r["resolved"], r["on_time_rate"]) for code, r in rows.items()}
    assert figures == {a.code: (3, 1.0), b.code: (2, 0.5)}
    ranking = await api.get(
        "/api/v1/admin/statistics/ranking", params={**WINDOW, "province": province}, headers=staff.headers
    )
    assert [(r["rank"], r["agency_code"]) for r in ranking.json()["rows"]] == [(1, a.code), (2, b.code)]
    as_csv = await api.get(
        "/api/v1/admin/statistics/ranking",
        params={**WINDOW, "province": province, "format": "csv"},
        headers=staff.headers,
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.text.strip().splitlines()
    assert lines[0].startswith("rank,agency_code,resolved") and lines[1].startswith(f"1,{a.code},3,")


async def test_the_public_summary_needs_no_sign_in_and_holds_no_personal_data(
    api: httpx.AsyncClient, make_agency: MakeAgency
) -> None:
    citizen_id = "0123456789abcdef01234567"
    a = await make_agency([DL])
    province = f"T{secrets.token_hex(3)}"
    seeded = [settled(a.code, True, province, ObjectId(citizen_id)) for _ in range(2)]
    await insert(*seeded)
    await run_rollup()
    by_province, by_agency, as_csv = await asyncio.gather(
        api.get("/api/v1/public/statistics", params={**WINDOW, "province": province}),
        api.get("/api/v1/public/statistics", params={**WINDOW, "by": "agency", "agency_code": a.code}),
        api.get("/api/v1/public/statistics", params={**WINDOW, "province": province, "format": "csv"}),
    )
    assert by_province.status_code == 200, by_province.text
    [row] = by_province.json()["rows"]
    assert (row["province"], row["agency_code"], row["resolved"], row["rating_average"]) == (province, None, 2, 5.0)
    assert by_agency.json()["rows"][0]["agency_code"] == a.code
    for answer in (by_province, by_agency, as_csv):
        text = answer.text
        assert citizen_id not in text and "HS-" not in text and "nhiệt tình" not in text
    assert as_csv.text.splitlines()[0].split(",")[:4] == ["period", "period_start", "period_end", "province"]


async def test_bad_periods_get_problem_details_saying_what_to_fix(api: httpx.AsyncClient) -> None:
    cases = [
        ({"period": "week"}, "period", "vi"),
        ({"from": "2026-02-30"}, "from", "en"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "from", "en"),
        ({"period": "day", "from": "2024-01-01", "to": "2026-01-01"}, "to", "en"),
        ({"format": "xml"}, "format", "en"),
        ({"by": "citizen"}, "by", "en"),
    ]
    answers = await asyncio.gather(
        *(
            api.get("/api/v1/public/statistics", params=params, headers={"Accept-Language": language})
            for params, _, language in cases
        )
    )
    for (params, field, language), answer in zip(cases, answers, strict=True):
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["code"] == "invalid-input"
        assert [e["field"] for e in problem["errors"]] == [field]
        if language == "en":
            assert problem["title"] == "Invalid input"
        else:
            assert problem["title"] == "Dữ liệu không hợp lệ"
