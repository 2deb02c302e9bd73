"""A process that dies between a change and its flush leaves an outbox entry and nothing
else. The sweeper finishes it: the citizen's notice and push, the agency's webhook, once,
however many sweeps run at once; it looks at each entry once, from a mark that only moves
forward; and entries the request flushed itself cost it no write (decision 0032)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from beanie import PydanticObjectId
from bson import ObjectId

from app.config import get_settings
from app.dossiers import service as dossiers
from app.dossiers.schemas import DossierIn
from app.inbox import store as inbox_store
from app.inbox.outbox_sweep import sweep, sweep_outboxes
from app.queue import notification_job_id
from devtools.devstack import ManagedProcess, start_redis
from models.common import utcnow
from models.notification import Notification
from models.webhook import WebhookDelivery
from tests.integration.command_log import Command
from tests.integration.dossiers.flows import pushes_for, submitted
from tests.integration.push.helpers import wait_for
from tests.integration.webhooks.helpers import subscribe, verified
from tests.integration.webhooks.receiver import Receiver
from tests.support import FORMS, sent_once_each, settled_notifications

pytestmark = pytest.mark.usefixtures("worker")

FREE = "TEMPORARY_ABSENCE"  # no fee, no result document
CRASHED = 3
SWEEPS_AT_ONCE = 4


async def crash_left_submission(citizen: Any) -> str:
    """A submission whose process died right after its insert: the service called outside a
    request has no flush after it, which is the state the crash leaves."""
    body = {"service_code": FREE, "form": FORMS[FREE], "delivery": {"method": "online"}}
    dossier, created = await dossiers.submit(
        PydanticObjectId(citizen.id), uuid.uuid4().hex, msgspec.convert(body, DossierIn)
    )
    assert created
    return dossier.code


async def notifications_about(code: str) -> list[dict[str, Any]]:
    found = Notification.get_pymongo_collection().find({"data.dossier_code": code})
    return await found.to_list()


async def test_what_a_crash_left_is_finished_once_by_sweeps_running_at_once(
    api: httpx.AsyncClient,
    emulator: httpx.AsyncClient,
    pool: ArqRedis,
    make_agency: Any,
    make_citizen: Any,
    receiver: Receiver,
) -> None:
    agency = await make_agency([FREE])
    hook = await subscribe(api, agency, receiver.url("/crash-left"), ("dossier.submitted",))
    citizen = await make_citizen(devices=1, eid_level=2)
    codes = [await crash_left_submission(citizen) for _ in range(CRASHED)]
    # The crash's state: stored, with entries, and nothing told to anyone.
    for code in codes:
        assert await notifications_about(code) == []
    assert await WebhookDelivery.get_pymongo_collection().count_documents({"agency_code": agency.code}) == 0

    cutoff = utcnow() + timedelta(milliseconds=5)
    made = await asyncio.gather(*(sweep_outboxes(pool, cutoff) for _ in range(SWEEPS_AT_ONCE)))
    assert sum(made) >= CRASHED

    for code in codes:
        [notice] = await notifications_about(code)
        assert notice["kind"] == "dossier_status" and notice["citizen_id"] == ObjectId(citizen.id)
    messages = await pushes_for(emulator, citizen.device_tokens[0], CRASHED)
    assert sorted(m["data"]["dossier_code"] for m in messages) == sorted(codes)

    async def heard() -> list[dict[str, Any]] | None:
        payloads = [verified(hook["secret"], r) for r in receiver.at("/crash-left")]
        return payloads if len(payloads) >= CRASHED else None

    payloads = await wait_for(heard, "the crash-left submissions' webhooks")
    assert sorted(p["data"]["dossier_code"] for p in payloads) == sorted(codes)
    assert {p["type"] for p in payloads} == {"dossier.submitted"}

    # A later sweep over the same time finds each entry made: nothing new, and the mark stays.
    assert await sweep_outboxes(pool, cutoff) == 0
    assert await inbox_store.outbox_sweep_mark() == cutoff.replace(microsecond=cutoff.microsecond // 1000 * 1000)
    for code in codes:
        assert len(await notifications_about(code)) == 1
    assert await WebhookDelivery.get_pymongo_collection().count_documents({"agency_code": agency.code}) == CRASHED
    settled = await settled_notifications(citizen.id, CRASHED)
    assert len(settled) == CRASHED and sent_once_each(settled)
    assert len(await pushes_for(emulator, citizen.device_tokens[0], CRASHED)) == CRASHED


async def test_the_mark_only_moves_forward_and_a_sweep_reads_from_it(
    pool: ArqRedis, store_commands: list[Command]
) -> None:
    now = utcnow()
    earlier, later = now - timedelta(seconds=2), now - timedelta(seconds=1)
    await asyncio.gather(sweep_outboxes(pool, later), sweep_outboxes(pool, earlier))
    mark = await inbox_store.outbox_sweep_mark()
    assert mark is not None and mark >= later - timedelta(milliseconds=1)
    store_commands.clear()
    await sweep_outboxes(pool, earlier)  # behind the mark: nothing to look at
    assert [c for c in store_commands if c[1] in ("dossiers", "notifications")] == []
    assert await inbox_store.outbox_sweep_mark() == mark


async def test_entries_the_requests_flushed_cost_the_sweeper_reads_only(
    api: httpx.AsyncClient, pool: ArqRedis, make_agency: Any, make_citizen: Any, store_commands: list[Command]
) -> None:
    """Twelve submissions at once, flushed by their requests, with sweeps running meanwhile:
    one notice each, and a sweep after them writes nothing but its mark."""
    await make_agency([FREE])
    citizen = await make_citizen(devices=0, eid_level=2)
    await sweep_outboxes(pool, utcnow())  # the mark up to now: the sweeps below see these only
    answers, _ = await asyncio.gather(
        asyncio.gather(*(submitted(api, citizen, FREE) for _ in range(12))),
        asyncio.gather(*(sweep_outboxes(pool, utcnow()) for _ in range(SWEEPS_AT_ONCE))),
    )
    store_commands.clear()
    assert await sweep_outboxes(pool, utcnow()) == 0
    written = [(name, collection) for name, collection, _ in store_commands if name in ("insert", "update", "delete")]
    assert written == [("update", "outbox_sweep_marks")] * len(written) and written, store_commands
    for answer in answers:
        assert len(await notifications_about(answer["code"])) == 1


async def test_a_notice_a_closed_account_never_had_is_not_made_by_the_sweeper(
    api: httpx.AsyncClient, pool: ArqRedis, make_agency: Any, make_citizen: Any, receiver: Receiver
) -> None:
    """The citizen closes the account in the minute between a crash-left change and the
    sweeper's look: no notification is made for the closed account; the agency still hears."""
    agency = await make_agency([FREE])
    hook = await subscribe(api, agency, receiver.url("/closed"), ("dossier.submitted",))
    citizen = await make_citizen(devices=0, eid_level=2)
    code = await crash_left_submission(citizen)
    closed = await api.post("/api/v1/me/deletion", json={"password": citizen.password}, headers=citizen.headers)
    assert closed.status_code == 200, closed.text

    await sweep_outboxes(pool, utcnow() + timedelta(milliseconds=5))
    assert await notifications_about(code) == []

    async def heard() -> list[Any] | None:
        return receiver.at("/closed") or None

    [delivery] = await wait_for(heard, "the agency's webhook for a closed account's dossier")
    assert verified(hook["secret"], delivery)["data"]["dossier_code"] == code


async def test_a_sweep_while_redis_is_away_makes_the_notice_and_the_next_queues_its_push(
    pool: ArqRedis, make_agency: Any, make_citizen: Any, tmp_path: Path
) -> None:
    """Redis is away while a sweep finishes a crash-left submission: the sweep still makes the
    notice (the store has it; the queueing is what waits for Redis) and moves on; Redis back on
    its port, the next sweep makes no second notice and queues the push."""
    await make_agency([FREE])
    citizen = await make_citizen(devices=1, eid_level=2)
    await sweep_outboxes(pool, utcnow())  # the mark up to now: the sweeps below see this one only
    mark = await inbox_store.outbox_sweep_mark()
    code = await crash_left_submission(citizen)
    redis = start_redis(log_path=tmp_path / "redis.log")
    private = await create_pool(RedisSettings.from_dsn(redis.url or ""), default_queue_name=get_settings().queue_name)
    again: ManagedProcess | None = None
    try:
        redis.stop()
        assert await sweep_outboxes(private, utcnow()) == 1
        [notice] = await notifications_about(code)
        assert notice["state"] == "pending"
        moved = await inbox_store.outbox_sweep_mark()
        assert mark is not None and moved is not None and moved > mark

        again = start_redis(int((redis.url or "").rsplit(":", 1)[1].split("/")[0]), log_path=tmp_path / "again.log")
        assert await sweep_outboxes(private, utcnow()) == 0  # the notice is there: nothing to make
        counts = await sweep(private, older_than=timedelta(0))
        assert counts["requeued"] >= 1
        # A Redis that keeps nothing on disk came back empty: this job is the later sweep's.
        assert await private.exists(f"arq:job:{notification_job_id(str(notice['_id']))}") == 1
        assert [n["_id"] for n in await notifications_about(code)] == [notice["_id"]]
    finally:
        await private.aclose()
        for process in (redis, again):
            if process is not None:
                process.stop()
