"""Outages heal by themselves (decision 0020). A private copy of the system (its own store,
Redis, emulator, API and one worker) loses Redis, then its store, while agencies post status
events: the API answers 503 problem+json with Retry-After where it cannot work (never 500),
accepts what it can store, and once the part is back, every push reaches each phone, none
twice beyond a collapsible repeat, without anyone starting or restarting anything."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from bson import ObjectId
from redis.asyncio import Redis

from app.session_cache import channel_name
from app.wallet.page_cache import channel_name as wallet_channel
from tests.integration.push.conftest import Resident, new_resident
from tests.integration.push.helpers import all_sent, check_once_per_device, messages, wait_for
from tests.integration.push.stack import PrivateStack, agency_headers, start_stack
from tests.support import FORMS, submit_residence

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
# Within about 30 s of Redis' return (the sweeper's period plus its grace, decision 0020);
# the private stack sweeps every 2 s for work older than 3 s, so this is a generous deadline.
HEALED_WITHIN_SECONDS = 45


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    started = start_stack(
        tmp_path_factory.mktemp("outages"),
        mongo_url=None,  # a store of its own, to stop and start again
        redis_url=None,  # a Redis of its own, likewise
        emulator_url=None,
        fcm_project_id="cwallet-outages",
        agency_code="CA_XA",  # the catalogue's agency for residence registration
        # A request gives up on an absent store after 1 s instead of 2 s: a faster suite.
        overrides={"MONGODB_SERVER_SELECTION_TIMEOUT_MS": "1000"},
    )
    try:
        started.wait_serving(started.start_worker())
        yield started
    finally:
        started.stop()


def _port(url: str | None) -> int:
    assert url is not None
    return int(url.rsplit(":", 1)[1].split("/")[0].split("?")[0])


def assert_unavailable(answer: httpx.Response, language: str = "vi") -> None:
    """503 problem+json whose Retry-After the detail repeats in the caller's language."""
    assert answer.status_code == 503, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json")
    retry_after = int(answer.headers["retry-after"])
    assert retry_after >= 1
    problem = answer.json()
    assert problem["status"] == 503 and problem["code"] == "service-unavailable"
    assert str(retry_after) in problem["detail"]
    expected = "try again" if language == "en" else "thử lại"
    assert expected in problem["detail"].lower(), problem["detail"]


async def _residents_with_dossiers(api: httpx.AsyncClient, count: int) -> tuple[list[Resident], list[str]]:
    residents = list(await asyncio.gather(*(new_resident(api, "079") for _ in range(count))))
    codes = list(await asyncio.gather(*(submit_residence(api, resident) for resident in residents)))
    return residents, codes


async def _statuses(emulator: httpx.AsyncClient, residents: list[Resident]) -> list[list[str]]:
    """Per phone, the dossier statuses its pushes announced, sorted, repeats removed."""
    found = []
    for resident in residents:
        received = await messages(emulator, resident.device_tokens[0])
        found.append(sorted({m["data"]["status"] for m in received}))
    return found


async def _sign_in(
    api: httpx.AsyncClient, resident: Resident, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    body = {"username": resident.national_id, "password": password}
    return await api.post("/api/v1/auth/token", json=body, headers=headers)


async def test_a_redis_restart_heals_without_anyone_acting(stack: PrivateStack) -> None:
    assert stack.redis is not None
    client, db = stack.database()
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=30) as api,
        httpx.AsyncClient(base_url=stack.emulator_url, timeout=30) as emulator,
    ):
        residents, codes = await _residents_with_dossiers(api, 4)
        agency = await agency_headers(api, stack)
        worker = stack.workers[0]

        async def event(code: str, status: str) -> httpx.Response:
            body = {"event_id": f"evt-{uuid.uuid4().hex}", "status": status}
            return await api.post(f"/api/v1/agency/dossiers/{code}/events", json=body, headers=agency)

        # Redis goes away while the submissions' pushes are on their way, and comes back
        # empty (no persistence): every queued job is lost with it.
        redis_port = _port(stack.redis.url)
        stack.redis.stop()
        # The agency's events are stored with their outbox entries: accepted, all at once.
        accepted = await asyncio.gather(*(event(code, "received") for code in codes))
        assert [a.status_code for a in accepted] == [200] * len(codes), [a.text for a in accepted]
        # A sign-in cannot be counted by the throttle: 503, the right password or a wrong one.
        refused = await asyncio.gather(
            *(_sign_in(api, resident) for resident in residents[:2]),
            _sign_in(api, residents[2], "wrong password"),
        )
        for answer in refused:
            assert_unavailable(answer)
        assert_unavailable(await _sign_in(api, residents[3], **{"Accept-Language": "en"}), "en")

        stack.start_redis(redis_port)
        back_at = time.monotonic()
        await wait_for(
            lambda: all_sent(db, 2 * len(codes)), "every push of the outage, by the same worker", HEALED_WITHIN_SECONDS
        )
        print(f"\nRedis restart: all pushes delivered {time.monotonic() - back_at:.1f} s after its return")
        assert worker.alive() and len(stack.workers) == 1, worker.log_tail()

        # The API is whole again: sign-ins are counted, events queued at once, revocations followed.
        signed_in = await _sign_in(api, residents[0])
        assert signed_in.status_code == 200, signed_in.text
        later = await asyncio.gather(*(event(code, "processing") for code in codes))
        assert [a.status_code for a in later] == [200] * len(codes)
        await wait_for(lambda: all_sent(db, 3 * len(codes)), "the pushes of events after the return")
        async with Redis.from_url(stack.redis.url or "") as redis:
            channel = channel_name(stack.env["QUEUE_NAME"])

            async def resubscribed() -> bool:
                return bool((await redis.pubsub_numsub(channel))[0][1] >= 1)

            await wait_for(resubscribed, "the API following session revocations again")

        await check_once_per_device(emulator, db, residents)
        assert await _statuses(emulator, residents) == [["processing", "received", "submitted"]] * len(residents)
        assert stack.api is not None and stack.api.alive()
    await client.close()


def _paper(citizen_id: ObjectId, number: str) -> dict[str, Any]:
    """A driving licence as an issuer's process stores it (the fields the page reads)."""
    return {
        "_id": ObjectId(),
        "citizen_id": citizen_id,
        "type": "driver_licence",
        "number": number,
        "issuer": "SGTVT_HN",
        "issued_at": datetime.now(UTC),
        "valid_from": "2026-01-01",
        "valid_until": None,
        "status": "valid",
        "fields": {},
        "issue_event_id": f"evt-{uuid.uuid4().hex}",
        "outbox": [],
        "version": 1,
        "renewal_pending": False,
        "history": [],
        "event_ids": [],
        "reminders_sent": [],
    }


async def test_wallet_pages_are_not_trusted_while_redis_is_away_and_are_remembered_again_after(
    stack: PrivateStack,
) -> None:
    """The API remembers wallet pages only while it hears every process's announcements
    (app/wallet/page_cache.py). A paper stored while Redis is away cannot be announced; the
    citizen still sees it, and once Redis is back the pages are remembered and forgotten as
    before, with nobody restarting anything."""
    assert stack.redis is not None
    client, db = stack.database()
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as api:
        resident = await new_resident(api, "079", devices=0)
        citizen = await db.citizens.find_one({"national_id": resident.national_id}, {"_id": 1})

        async def numbers() -> set[str]:
            answer = await api.get("/api/v1/me/documents", headers=resident.headers)
            assert answer.status_code == 200, answer.text
            return {d["number"] for d in answer.json()["items"]}

        async def shown(number: str) -> bool:
            return number in await numbers()

        assert await numbers() == set()
        # Stored without an announcement: the remembered (empty) page is still served. This is
        # what shows the memory is in use; the rest of the test is about when it is not.
        await db.documents.insert_one(_paper(citizen["_id"], "790000000001"))
        assert await numbers() == set()

        redis_port = _port(stack.redis.url)
        stack.redis.stop()
        # The subscription dropped with Redis: the page is read from the store again.
        await wait_for(lambda: shown("790000000001"), "the paper stored before the outage", 10)
        await db.documents.insert_one(_paper(citizen["_id"], "790000000002"))
        await wait_for(lambda: shown("790000000002"), "a paper stored during the outage", 10)

        stack.start_redis(redis_port)
        async with Redis.from_url(stack.redis.url or "") as redis:
            channel = wallet_channel(stack.env["QUEUE_NAME"])

            async def followed() -> bool:
                return bool((await redis.pubsub_numsub(channel))[0][1] >= 1)

            await wait_for(followed, "the API following wallet changes again", HEALED_WITHIN_SECONDS)
            assert await numbers() == {"790000000001", "790000000002"}
            # Remembered again: an unannounced write is not read ...
            await db.documents.insert_one(_paper(citizen["_id"], "790000000003"))
            assert "790000000003" not in await numbers()
            # ... and an announced one (as any process's wallet writer sends it) is, at once.
            await redis.publish(channel, json.dumps([str(citizen["_id"])]))
            await wait_for(lambda: shown("790000000003"), "the announced paper", 10)
    await client.close()


async def test_a_store_restart_answers_503_then_applies_each_retry_once(stack: PrivateStack) -> None:
    assert stack.store is not None
    client, db = stack.database()
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=30) as api,
        httpx.AsyncClient(base_url=stack.emulator_url, timeout=30) as emulator,
    ):
        residents, codes = await _residents_with_dossiers(api, 4)
        agency = await agency_headers(api, stack)
        worker = stack.workers[0]
        event_ids = {code: f"evt-{uuid.uuid4().hex}" for code in codes}

        async def event(code: str, status: str, event_id: str | None = None) -> httpx.Response:
            body = {"event_id": event_id or f"evt-{uuid.uuid4().hex}", "status": status}
            return await api.post(f"/api/v1/agency/dossiers/{code}/events", json=body, headers=agency)

        received = await asyncio.gather(*(event(code, "received") for code in codes))
        assert [a.status_code for a in received] == [200] * len(codes)
        # The store stops while those pushes are on their way.
        store_port = _port(stack.store.url)
        stack.store.stop()
        during = await asyncio.gather(
            *(event(code, "processing", event_ids[code]) for code in codes),
            _sign_in(api, residents[0]),
            api.get("/api/v1/me/notifications", headers=residents[1].headers),
        )
        for answer in during:
            assert_unavailable(answer)

        stack.start_store(store_port)
        back_at = time.monotonic()
        # The agency retries each refused event, twice at once: each applies once.
        retried = await asyncio.gather(*(event(code, "processing", event_ids[code]) for code in codes for _ in "ab"))
        assert [a.status_code for a in retried] == [200] * (2 * len(codes)), [a.text for a in retried]
        await wait_for(lambda: all_sent(db, 3 * len(codes)), "every push after the store's return", 45)
        print(f"\nstore restart: all pushes delivered {time.monotonic() - back_at:.1f} s after its return")
        assert worker.alive() and len(stack.workers) == 1, worker.log_tail()

        for code in codes:
            dossier = await db.dossiers.find_one({"code": code}, {"event_ids": 1, "history": 1, "status": 1})
            assert dossier["status"] == "processing"
            assert dossier["event_ids"].count(event_ids[code]) == 1
            assert [h["status"] for h in dossier["history"]].count("processing") == 1, dossier["history"]
        await check_once_per_device(emulator, db, residents)
        assert await _statuses(emulator, residents) == [["processing", "received", "submitted"]] * len(residents)
    await client.close()


async def test_submissions_refused_while_the_store_is_away_are_made_once_by_their_retries(
    stack: PrivateStack,
) -> None:
    """Submissions write together (decision 31): a store that goes away fails each waiting
    one with a 503, none half-stored, and the citizens' retries, twice at once each, make one
    dossier and one push apiece once it is back."""
    assert stack.store is not None
    client, db = stack.database()
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=30) as api,
        httpx.AsyncClient(base_url=stack.emulator_url, timeout=30) as emulator,
    ):
        residents = list(await asyncio.gather(*(new_resident(api, "079") for _ in range(4))))
        keys = {resident.national_id: uuid.uuid4().hex for resident in residents}
        body = {"service_code": "RESIDENCE_REGISTRATION", "form": FORMS["RESIDENCE_REGISTRATION"],
                "delivery": {"method": "online"}}  # fmt: skip

        async def submit(resident: Resident) -> httpx.Response:
            headers = {**resident.headers, "Idempotency-Key": keys[resident.national_id]}
            return await api.post("/api/v1/me/dossiers", json=body, headers=headers)

        national_ids = [resident.national_id for resident in residents]
        citizen_ids = [c["_id"] async for c in db.citizens.find({"national_id": {"$in": national_ids}}, {"_id": 1})]
        store_port = _port(stack.store.url)
        stack.store.stop()
        for answer in await asyncio.gather(*(submit(resident) for resident in residents)):
            assert_unavailable(answer)
        stack.start_store(store_port)
        assert await db.dossiers.count_documents({"citizen_id": {"$in": citizen_ids}}) == 0

        retried = await asyncio.gather(*(submit(resident) for resident in residents for _ in "ab"))
        assert [a.status_code for a in retried] == [201] * (2 * len(residents)), [a.text for a in retried]
        assert all(retried[i].json() == retried[i + 1].json() for i in range(0, len(retried), 2))
        assert await db.dossiers.count_documents({"citizen_id": {"$in": citizen_ids}}) == len(residents)

        async def each_heard_once() -> bool:
            heard = [await messages(emulator, r.device_tokens[0]) for r in residents]
            return all(len(found) == 1 for found in heard)

        await wait_for(each_heard_once, "one push per retried submission", 45)
        await check_once_per_device(emulator, db, residents)
    await client.close()


async def test_a_worker_told_to_stop_during_a_redis_outage_stops(stack: PrivateStack) -> None:
    """It waits for Redis only while serving: SIGTERM ends it without needing a SIGKILL."""
    assert stack.redis is not None
    worker = stack.workers[-1]
    assert worker.alive()
    redis_port = _port(stack.redis.url)
    stack.redis.stop()
    try:
        exit_code = await asyncio.to_thread(worker.stop, 30)  # SIGTERM; SIGKILL after 30 s
        assert exit_code != -signal.SIGKILL, worker.log_tail()
    finally:
        stack.start_redis(redis_port)
