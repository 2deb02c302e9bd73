"""Requests a minute per caller, counted in Redis for every API process, hold when the
requests come all at once; the caller is the signed-in principal, else the client address,
which forwarded headers change only when they come from a trusted proxy. Spoken to a real
uvicorn process (the `strict_api`, with small limits) over loopback, as a proxy would."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from devtools.devstack import ManagedProcess
from tests.integration.hardening.conftest import (
    ADDRESS_LIMIT,
    AGENCY_LIMIT,
    PROXY_ADDRESS,
    SIGN_IN_ADDRESS_LIMIT,
    SIGNED_IN_LIMIT,
    client_at,
    loopback_address,
)
from tests.support import new_national_id


def check_rate_limited(answers: list[httpx.Response], limit: int) -> None:
    """Exactly `limit` answered, the rest refused with problem+json, Retry-After and the
    RateLimit headers; the answers that went through counted down RateLimit-Remaining."""
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: limit, 429: 3 * limit}, statuses
    for answer in answers:
        assert answer.headers["ratelimit-limit"] == str(limit)
        assert answer.headers["ratelimit-policy"] == f"{limit}; w=60"
        assert 1 <= int(answer.headers["ratelimit-reset"]) <= 60
        if answer.status_code == 429:
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["code"] == "too-many-requests"
            assert answer.headers["ratelimit-remaining"] == "0"
            assert int(answer.headers["retry-after"]) >= 1
    remaining = sorted(int(a.headers["ratelimit-remaining"]) for a in answers if a.status_code == 200)
    assert remaining == list(range(limit))


async def test_a_citizen_gets_the_limit_and_no_more_when_asking_all_at_once(
    strict_api: ManagedProcess, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    citizen = await make_citizen(devices=0)

    # From many addresses: the limit follows the citizen, not where they ask from.
    async def read_wallet() -> httpx.Response:
        async with client_at(strict_api.url or "") as client:
            return await client.get("/api/v1/me/documents", headers=citizen.headers)

    check_rate_limited(
        list(await asyncio.gather(*(read_wallet() for _ in range(4 * SIGNED_IN_LIMIT)))), SIGNED_IN_LIMIT
    )


async def test_an_agency_system_has_its_own_limit(
    strict_api: ManagedProcess, make_agency: Callable[..., Awaitable[Any]]
) -> None:
    agency = await make_agency(["CRIMINAL_RECORD"])
    async with client_at(strict_api.url or "") as client:
        answers = await asyncio.gather(
            *(
                client.get("/api/v1/agency/dossiers", params={"status": "submitted"}, headers=agency.headers)
                for _ in range(4 * AGENCY_LIMIT)
            )
        )
    check_rate_limited(list(answers), AGENCY_LIMIT)


async def test_anyone_else_is_counted_by_address_whatever_x_forwarded_for_claims(strict_api: ManagedProcess) -> None:
    async with client_at(strict_api.url or "") as client:
        answers = await asyncio.gather(
            *(
                client.get("/api/v1/services", headers={"X-Forwarded-For": loopback_address()})
                for _ in range(4 * ADDRESS_LIMIT)
            )
        )
    check_rate_limited(list(answers), ADDRESS_LIMIT)


async def test_health_probes_are_not_counted(strict_api: ManagedProcess) -> None:
    async with client_at(strict_api.url or "") as probe:
        for _ in range(ADDRESS_LIMIT + 2):
            answer = await probe.get("/health/live")
            assert answer.status_code == 200
            assert "ratelimit-limit" not in answer.headers


async def test_made_up_forwarded_headers_do_not_get_past_the_sign_in_throttle(strict_api: ManagedProcess) -> None:
    """What the issue saw under `make run`: a new X-Forwarded-For (or Forwarded) on each wrong
    password reset the per-address window. Now only SIGN_IN_ADDRESS_LIMIT passwords are checked."""
    async with client_at(strict_api.url or "") as sprayer:
        answers = await asyncio.gather(
            *(
                sprayer.post(
                    "/api/v1/auth/token",
                    json={"username": new_national_id(), "password": "wrong password here"},
                    headers={"X-Forwarded-For": loopback_address(), "Forwarded": f"for={loopback_address()}"},
                )
                for _ in range(4 * SIGN_IN_ADDRESS_LIMIT)
            )
        )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses[401] == SIGN_IN_ADDRESS_LIMIT, statuses
    assert statuses[429] == 3 * SIGN_IN_ADDRESS_LIMIT, statuses


async def test_a_trusted_proxy_is_believed_about_who_it_forwards_for(strict_api: ManagedProcess) -> None:
    async with client_at(strict_api.url or "", source=PROXY_ADDRESS) as proxy:
        # Each client behind the proxy has a window of its own...
        for _ in range(ADDRESS_LIMIT + 2):
            answer = await proxy.get("/api/v1/services", headers={"X-Forwarded-For": loopback_address()})
            assert answer.status_code == 200
            assert answer.headers["ratelimit-remaining"] == str(ADDRESS_LIMIT - 1)
        # ...and the one the proxy saw is the one counted, not what that client wrote itself.
        client = loopback_address()
        for used in range(1, 3):
            answer = await proxy.get("/api/v1/services", headers={"X-Forwarded-For": f"{loopback_address()}, {client}"})
            assert answer.headers["ratelimit-remaining"] == str(ADDRESS_LIMIT - used)
