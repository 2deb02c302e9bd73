"""Following a dossier without signing in: its code and the receipt's secret (decision 0029)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import CitizenHandle
from tests.support import FORMS, remember_secrets

TRACK = "/api/v1/public/tracking"
MASKED_FIELDS = {
    "code", "status", "step", "service_code", "service_name", "agency_code", "agency_name",
    "submitted_at", "received_at", "due_at", "expected", "updated_at",
}  # fmt: skip


@pytest.fixture
async def stranger(api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The same app, reached from an address of its own: each test starts from a fresh
    per-address window, whatever else the suite sent from the shared in-process address."""
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    transport = httpx.ASGITransport(app=api._transport.app, client=(address, 4711))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url=api.base_url) as client:
        yield client


async def _submit(api: httpx.AsyncClient, citizen: CitizenHandle) -> dict[str, Any]:
    answer = await api.post(
        "/api/v1/me/dossiers",
        json={"service_code": "RESIDENCE_REGISTRATION", "form": FORMS["RESIDENCE_REGISTRATION"],
              "delivery": {"method": "online"}},
        headers={**citizen.headers, "Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    remember_secrets(body["tracking_secret"])
    return body


def _same_refusal(a: httpx.Response, b: httpx.Response) -> bool:
    keep = ("type", "title", "detail", "status")
    return a.status_code == b.status_code and {k: a.json().get(k) for k in keep} == {k: b.json().get(k) for k in keep}


async def test_code_and_secret_show_a_masked_status_and_the_citizen_sees_who_looked(
    api: httpx.AsyncClient, stranger: httpx.AsyncClient, shared_citizen: CitizenHandle
) -> None:
    submitted = await _submit(api, shared_citizen)
    code, secret = submitted["code"], submitted["tracking_secret"]
    assert len(secret.replace("-", "")) == 8 and submitted["tracking_secret_issued_at"]
    # Shown once: the citizen's own view later says a secret exists, never what it is.
    own = (await api.get(f"/api/v1/me/dossiers/{code}", headers=shared_citizen.headers)).json()
    assert own["tracking_secret"] is None and own["tracking_secret_issued_at"]

    # Typed from paper: lower case, no dash, spaces.
    found = await stranger.post(TRACK, json={"code": code.lower(), "secret": f" {secret.replace('-', ' ').lower()} "})
    assert found.status_code == 200, found.text
    body = found.json()
    assert set(body) <= MASKED_FIELDS
    assert body["code"] == code and body["status"] == "submitted" and body["service_name"]
    assert body["agency_code"] == submitted["agency_code"] and body["due_at"] and body["submitted_at"]
    for personal in (
        shared_citizen.national_id,
        shared_citizen.phone,
        *map(str, FORMS["RESIDENCE_REGISTRATION"].values()),
    ):
        assert personal not in found.text

    # A wrong secret and an unknown code get one and the same answer.
    wrong = await stranger.post(TRACK, json={"code": code, "secret": "AAAA-AAAA"})
    unknown = await stranger.post(TRACK, json={"code": "HS-20260101-ZZZZZZ", "secret": secret})
    assert wrong.status_code == 404 and _same_refusal(wrong, unknown), (wrong.text, unknown.text)
    assert wrong.headers["content-type"].startswith("application/problem+json")

    log = (await api.get("/api/v1/me/access-log", headers=shared_citizen.headers)).json()["items"]
    assert [(e["actor_kind"], e["action"]) for e in log if e["target"] == code] == [("public", "dossier.track")]


async def test_a_dossier_without_a_secret_gets_one_from_its_owner_and_the_old_one_stops(
    api: httpx.AsyncClient, stranger: httpx.AsyncClient, shared_citizen: CitizenHandle, make_citizen: Any
) -> None:
    from models.dossier import Dossier

    submitted = await _submit(api, shared_citizen)
    code, first = submitted["code"], submitted["tracking_secret"]
    # As a dossier filed before secrets existed: nothing to match, the same refusal as any.
    await Dossier.get_pymongo_collection().update_one(
        {"code": code}, {"$unset": {"tracking_secret_hash": "", "tracking_secret_issued_at": ""}}
    )
    assert (await stranger.post(TRACK, json={"code": code, "secret": first})).status_code == 404
    own = (await api.get(f"/api/v1/me/dossiers/{code}", headers=shared_citizen.headers)).json()
    assert own["tracking_secret_issued_at"] is None

    # Nobody but the owner issues one.
    other = await make_citizen(devices=0)
    refused = await api.post(f"/api/v1/me/dossiers/{code}/tracking-secret", headers=other.headers)
    assert refused.status_code == 404
    issued = await api.post(f"/api/v1/me/dossiers/{code}/tracking-secret", headers=shared_citizen.headers)
    assert issued.status_code == 201, issued.text
    second = issued.json()["tracking_secret"]
    remember_secrets(second)
    assert (await stranger.post(TRACK, json={"code": code, "secret": second})).status_code == 200
    again = await api.post(f"/api/v1/me/dossiers/{code}/tracking-secret", headers=shared_citizen.headers)
    remember_secrets(again.json()["tracking_secret"])
    assert (await stranger.post(TRACK, json={"code": code, "secret": second})).status_code == 404


async def test_a_parallel_burst_on_one_code_gets_429_beyond_the_limit(
    api: httpx.AsyncClient, stranger: httpx.AsyncClient, shared_citizen: CitizenHandle
) -> None:
    from app.config import get_settings

    limit = get_settings().tracking_lookups_per_code_hour
    submitted = await _submit(api, shared_citizen)
    body = {"code": submitted["code"], "secret": submitted["tracking_secret"]}
    answers = await asyncio.gather(*(stranger.post(TRACK, json=body) for _ in range(limit + 5)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * limit + [429] * 5, statuses
    for refused in (a for a in answers if a.status_code == 429):
        assert int(refused.headers["retry-after"]) > 0
        assert refused.headers["content-type"].startswith("application/problem+json")
    # The right secret does not open the window again.
    assert (await stranger.post(TRACK, json=body)).status_code == 429


async def test_a_parallel_burst_of_guesses_from_one_address_gets_429_beyond_the_limit(
    stranger: httpx.AsyncClient,
) -> None:
    from app.config import get_settings

    limit = get_settings().tracking_lookups_per_address_minute
    # Every guess a different code: the per-code windows never fill, the address's does.
    guesses = [{"code": f"HS-20260101-{uuid.uuid4().hex[:6].upper()}", "secret": "AAAA-AAAA"} for _ in range(limit + 5)]
    answers = await asyncio.gather(*(stranger.post(TRACK, json=g) for g in guesses))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [404] * limit + [429] * 5, statuses
    assert all(int(a.headers["retry-after"]) > 0 for a in answers if a.status_code == 429)


async def test_hostile_lookups_get_a_4xx_problem(stranger: httpx.AsyncClient) -> None:
    bodies: list[Any] = [
        {},
        {"code": "HS-1"},
        {"code": "HS-1", "secret": ""},
        {"code": "x" * 5000, "secret": "AAAA-AAAA"},
        {"code": "HS-1", "secret": "A" * 5000},
        {"code": {"$ne": None}, "secret": "AAAA-AAAA"},
        {"code": "HS-1", "secret": {"$gt": ""}},
        {"code": "HS-1\u0000", "secret": "AAAA-AAAA"},
        {"code": "../../etc", "secret": "AAAA-AAAA"},
        {"code": "HS-1", "secret": "hộ chiếu"},
        {"code": "HS-1", "secret": "AAAA-AAAA", "national_id": "001099012345"},
        ["HS-1", "AAAA-AAAA"],
        None,
    ]
    answers = await asyncio.gather(*(stranger.post(TRACK, json=b) for b in bodies))
    answers.append(await stranger.post(TRACK, content=b"{not json", headers={"content-type": "application/json"}))
    for body, answer in zip([*bodies, "not json"], answers, strict=True):
        assert 400 <= answer.status_code < 500, (body, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json"), body


async def test_one_submission_sent_many_times_at_once_prints_one_secret_that_works(
    api: httpx.AsyncClient, stranger: httpx.AsyncClient, shared_citizen: CitizenHandle
) -> None:
    """A phone that retries on a bad network: every answer names the same dossier and the same
    receipt secret (the contract's same answer for the same key), and that secret tracks it."""
    key = uuid.uuid4().hex
    body = {"service_code": "RESIDENCE_REGISTRATION", "form": FORMS["RESIDENCE_REGISTRATION"],
            "delivery": {"method": "online"}}  # fmt: skip
    answers = await asyncio.gather(
        *(api.post("/api/v1/me/dossiers", json=body, headers={**shared_citizen.headers, "Idempotency-Key": key})
          for _ in range(8))
    )  # fmt: skip
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    seen = {(a.json()["code"], a.json()["tracking_secret"]) for a in answers}
    assert len(seen) == 1, seen
    ((code, secret),) = seen
    remember_secrets(secret)
    assert (await stranger.post(TRACK, json={"code": code, "secret": secret})).status_code == 200
