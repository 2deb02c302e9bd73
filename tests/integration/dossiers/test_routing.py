"""Which agency receives a new dossier: the agency registered for the procedure (the newest
takes over), the agency of the province the citizen chose, and a clear 422 naming what to
choose when no agency serves the place. The catalogue says who serves where."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from devtools.devstack import ManagedProcess
from tests.integration.conftest import AgencyHandle
from tests.support import FORMS

# No other test files dossiers of this procedure, so no other test's agency serves it.
PROVINCIAL = "MARITAL_STATUS_CERT"

Register = Callable[..., Awaitable[tuple[AgencyHandle, dict[str, Any]]]]


@pytest.fixture
async def register(api: httpx.AsyncClient) -> AsyncIterator[Register]:
    """Agencies registered as `cwallet agency create` does; removed after the test, so the
    places they took do not route other tests' dossiers."""
    from app import agency_cache
    from app.cli import create_agency
    from models.agency import Agency

    made: list[str] = []

    async def make(services: list[str], provinces: list[str] | None = None) -> tuple[AgencyHandle, dict[str, Any]]:
        code = f"RT{secrets.token_hex(3).upper()}"
        created = await create_agency(code, f"Routing test {code}", services, [], (), provinces or ())
        made.append(code)
        token = await api.post(
            "/api/v1/agency/token",
            json={"client_id": created["client_id"], "client_secret": created["client_secret"]},
        )
        assert token.status_code == 200, token.text
        return AgencyHandle(code, created["client_id"], created["client_secret"], token.json()["access_token"]), created

    yield make
    await Agency.get_pymongo_collection().delete_many({"code": {"$in": made}})
    # Removed behind the store module's back (no deletion is written there): forgotten too.
    await agency_cache.announce_changed(made)


async def _submit(
    api: httpx.AsyncClient, citizen: Any, service: str, *, language: str = "en", **extra: Any
) -> httpx.Response:
    body = {"service_code": service, "form": FORMS[service], "delivery": {"method": "online"}, **extra}
    return await api.post(
        "/api/v1/me/dossiers",
        json=body,
        headers={**citizen.headers, "Idempotency-Key": uuid.uuid4().hex, "Accept-Language": language},
    )


async def _worklist(api: httpx.AsyncClient, agency: AgencyHandle, service: str) -> set[str]:
    answer = await api.get("/api/v1/agency/dossiers", params={"service_code": service}, headers=agency.headers)
    assert answer.status_code == 200, answer.text
    return {d["code"] for d in answer.json()["items"]}


async def test_an_agency_created_for_a_procedure_receives_its_new_dossiers(
    api: httpx.AsyncClient, register: Register, shared_citizen: Any
) -> None:
    first, _ = await register(["DL_RENEWAL"])
    one = await _submit(api, shared_citizen, "DL_RENEWAL")
    assert one.status_code == 201, one.text
    assert one.json()["agency_code"] == first.code
    assert one.json()["code"] in await _worklist(api, first, "DL_RENEWAL")

    # A newer agency for the same procedure, nationwide, takes the new dossiers over; the
    # first keeps the one it has. The command says whom it took over from.
    second, created = await register(["DL_RENEWAL"])
    assert created["serves"] == [
        {
            "service_code": "DL_RENEWAL",
            "provinces": "all without an agency of their own",
            "takes_over_from": [first.code],
        }
    ]
    two = await _submit(api, shared_citizen, "DL_RENEWAL")
    assert two.status_code == 201, two.text
    assert two.json()["agency_code"] == second.code
    assert await _worklist(api, first, "DL_RENEWAL") >= {one.json()["code"]}
    assert two.json()["code"] not in await _worklist(api, first, "DL_RENEWAL")
    assert await _worklist(api, second, "DL_RENEWAL") == {two.json()["code"]}

    shown = (await api.get("/api/v1/services/DL_RENEWAL")).json()
    assert shown["agency_code"] == second.code
    assert shown["served_by"] == [
        {"agency_code": second.code, "name": f"Routing test {second.code}", "provinces": [], "nationwide": True}
    ]
    listed = next(s for s in (await api.get("/api/v1/services")).json()["items"] if s["code"] == "DL_RENEWAL")
    assert listed["served_by"] == shown["served_by"]


async def test_an_agency_registered_through_one_process_takes_the_next_dossier_submitted_through_another(
    api: httpx.AsyncClient, register: Register, shared_citizen: Any, callback_api: ManagedProcess
) -> None:
    """Each API process remembers who serves a procedure (decision 31) and forgets it when any
    agency is written, in any process: over Redis within milliseconds, not when it expires (60 s)."""
    async with httpx.AsyncClient(base_url=callback_api.url or "", timeout=10) as other:
        first, _ = await register(["DL_RENEWAL"])
        routed = await _submit(other, shared_citizen, "DL_RENEWAL")
        assert routed.status_code == 201 and routed.json()["agency_code"] == first.code, routed.text
        second, _ = await register(["DL_RENEWAL"])
        tries: list[str] = []
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            answer = await _submit(other, shared_citizen, "DL_RENEWAL")
            assert answer.status_code == 201, answer.text
            tries.append(answer.json()["agency_code"])
            if tries[-1] == second.code:
                break
            await asyncio.sleep(0.05)
        # The first submission after the registration, unless it overtook the announcement.
        assert tries[-1] == second.code and len(tries) <= 2, tries


async def test_each_province_gets_its_agency_and_an_unserved_place_is_told_what_to_choose(
    api: httpx.AsyncClient, register: Register, shared_citizen: Any
) -> None:
    from beanie import PydanticObjectId

    from models.dossier import Dossier

    mine = {"citizen_id": PydanticObjectId(shared_citizen.id)}
    # No agency registered for the procedure yet: the catalogue's own agency code, as before.
    catalogue_agency = (await api.get(f"/api/v1/services/{PROVINCIAL}")).json()["agency_code"]
    nobody = await _submit(api, shared_citizen, PROVINCIAL)
    assert nobody.status_code == 201, nobody.text
    assert nobody.json()["agency_code"] == catalogue_agency == "UBND_XA"

    hanoi, _ = await register([PROVINCIAL], ["01"])
    saigon, created = await register([PROVINCIAL], ["79"])
    assert created["serves"][0]["provinces"] == ["79"] and created["serves"][0]["takes_over_from"] == []
    shown = (await api.get(f"/api/v1/services/{PROVINCIAL}")).json()
    assert [(s["agency_code"], s["provinces"], s["nationwide"]) for s in shown["served_by"]] == [
        (hanoi.code, ["01"], False),
        (saigon.code, ["79"], False),
    ]

    # Many citizens' submissions at once, each routed by the place chosen.
    before = await Dossier.find(mine).count()
    places = ["79"] * 6 + ["01"] * 4
    answers = await asyncio.gather(*(_submit(api, shared_citizen, PROVINCIAL, province_code=p) for p in places))
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    assert [a.json()["agency_code"] for a in answers] == [saigon.code] * 6 + [hanoi.code] * 4
    assert [a.json()["province_code"] for a in answers] == places
    assert await _worklist(api, saigon, PROVINCIAL) == {a.json()["code"] for a in answers[:6]}
    assert await _worklist(api, hanoi, PROVINCIAL) == {a.json()["code"] for a in answers[6:]}

    # No place chosen: the postal address's province decides.
    by_post = await _submit(
        api,
        shared_citizen,
        PROVINCIAL,
        delivery={"method": "postal", "address": "1 Lê Lợi, Phường Bến Thành, TP. Hồ Chí Minh"},
    )
    assert by_post.status_code == 201, by_post.text
    assert (by_post.json()["agency_code"], by_post.json()["province_code"]) == (saigon.code, "79")

    # No place at all, a place nobody serves, a code that is no province: 422 naming the choices.
    refusals = await asyncio.gather(
        _submit(api, shared_citizen, PROVINCIAL),
        _submit(api, shared_citizen, PROVINCIAL, province_code="48"),
        _submit(api, shared_citizen, PROVINCIAL, province_code="99"),
        _submit(api, shared_citizen, PROVINCIAL, province_code="48", language="vi"),
    )
    assert [r.status_code for r in refusals] == [422] * 4
    assert all(r.headers["content-type"].startswith("application/problem+json") for r in refusals)
    codes = [r.json()["code"] for r in refusals]
    assert codes == ["place-not-served", "place-not-served", "invalid-input", "place-not-served"]
    for refused in refusals:
        problem = refused.json()
        assert [e["field"] for e in problem["errors"]] == ["province_code"]
        assert [c["province_code"] for c in problem["choices"]] == ["01", "79"]
    assert "choose where to file it" in refusals[0].json()["errors"][0]["message"]
    assert "01 (Hà Nội), 79 (Hồ Chí Minh)" in refusals[0].json()["errors"][0]["message"]
    assert "48 (Đà Nẵng)" in refusals[1].json()["errors"][0]["message"]
    assert "'99'" in refusals[2].json()["errors"][0]["message"]
    assert "Hãy chọn province_code" in refusals[3].json()["errors"][0]["message"]
    # Nothing half-stored: only the eleven accepted dossiers since `before` exist.
    assert await Dossier.find(mine).count() == before + 11


async def test_a_nationwide_agency_takes_the_provinces_without_one_of_their_own(
    api: httpx.AsyncClient, register: Register, shared_citizen: Any
) -> None:
    hanoi, _ = await register([PROVINCIAL], ["01"])
    everywhere, created = await register([PROVINCIAL])
    assert created["serves"][0]["takes_over_from"] == []
    to_hanoi = await _submit(api, shared_citizen, PROVINCIAL, province_code="01")
    to_danang = await _submit(api, shared_citizen, PROVINCIAL, province_code="48")
    unplaced = await _submit(api, shared_citizen, PROVINCIAL)
    assert [a.json()["agency_code"] for a in (to_hanoi, to_danang, unplaced)] == [
        hanoi.code,
        everywhere.code,
        everywhere.code,
    ]
    shown = (await api.get(f"/api/v1/services/{PROVINCIAL}")).json()
    assert shown["agency_code"] == everywhere.code
    assert [(s["agency_code"], s["nationwide"]) for s in shown["served_by"]] == [
        (everywhere.code, True),
        (hanoi.code, False),
    ]


async def test_agency_create_refuses_what_cannot_take_effect_and_stores_nothing(api: httpx.AsyncClient) -> None:
    from app.cli import build_parser, create_agency
    from models.agency import Agency

    with pytest.raises(SystemExit, match=r"unknown service code.*NO_SUCH_SERVICE"):
        await create_agency("RTBAD1", "x", ["NO_SUCH_SERVICE"], [])
    with pytest.raises(SystemExit, match=r"unknown province code\(s\): 99.*01 \(Hà Nội\)"):
        await create_agency("RTBAD2", "x", ["DL_RENEWAL"], [], (), ["99"])
    assert await Agency.find({"code": {"$in": ["RTBAD1", "RTBAD2"]}}).count() == 0
    args = build_parser().parse_args(
        ["agency", "create", "--code", "C", "--name", "N", "--service", "S", "--province", "01", "--province", "79"]
    )
    assert args.provinces == ["01", "79"]
