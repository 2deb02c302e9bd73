"""An announcement to everyone is planned citizen by citizen, in windows of the citizens' ids'
creation time read through the `citizen_id` index (never a scan and sort of every device:
decision 25, addendum of 2026-12-02 evening). Planning forced into many rounds puts each
device in exactly one batch, never splits a citizen's devices, keeps batches to their size,
and finishes an announcement whose planning the version before began with that version's
walk. Planning is run here as the worker runs it, against the session's store, with a queue of
its own so that no worker plans or sends these announcements meanwhile."""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq import ArqRedis, create_pool
from bson import ObjectId

from tests.integration.query_plans import stage_names

pytestmark = pytest.mark.usefixtures("api")  # the app's lifespan opens the store for the models

SIZE = 4  # devices a batch: a citizen here has up to 3, so two citizens rarely share one
ROUNDS = 2_000  # a bound on the planning rounds, far above what the session's devices need


def object_id_at(moment: datetime) -> ObjectId:
    """An ObjectId created at `moment`, unique (`ObjectId.from_datetime` zeroes the rest)."""
    return ObjectId(int(moment.timestamp()).to_bytes(4, "big") + os.urandom(8))


@pytest.fixture
async def pool() -> AsyncIterator[ArqRedis]:
    """Planning's Redis, with a queue nobody works: the rounds and batches it queues stay put."""
    from app.config import get_settings
    from app.queue import announcement_queue, redis_settings

    queue = f"walk-{secrets.token_hex(4)}"
    redis = await create_pool(redis_settings(get_settings()), default_queue_name=queue)
    try:
        yield redis
    finally:
        await redis.delete(announcement_queue(queue))
        await redis.aclose()


async def _insert_devices(tag: str, citizens: list[tuple[ObjectId, int]]) -> list[dict[str, Any]]:
    from models.citizen import Device
    from models.common import utcnow

    now = utcnow()
    devices = [
        {
            "_id": ObjectId(),
            "citizen_id": citizen,
            "token": f"walk-{tag}-{n}-{d}",
            "platform": "android",
            "locale": "vi",
            "created_at": now,
            "updated_at": now,
        }
        for n, (citizen, count) in enumerate(citizens)
        for d in range(count)
    ]
    await Device.get_pymongo_collection().insert_many(devices)
    return devices


async def _new_announcement(province: str | None = None) -> ObjectId:
    from models.announcement import Announcement, Segment

    announcement = Announcement(
        title_vi="Thử",
        title_en="Walk",
        body_vi="Thử",
        body_en="Walk",
        created_by="test",
        segment=Segment(province=province),
    )
    await announcement.insert()
    assert announcement.id is not None
    return announcement.id


async def _plan_round(pool: ArqRedis, announcement_id: ObjectId) -> str:
    """One planning round that stops after its first batch (its deadline has passed by then)."""
    from workers.announcements import plan_announcement

    return await plan_announcement(pool, str(announcement_id), in_flight=1, round_seconds=0, batch_devices=SIZE)


async def _plan_to_the_end(pool: ArqRedis, announcement_id: ObjectId) -> int:
    """Planning rounds until one finishes the plan; how many ran that went on planning."""
    rounds = 0
    while await _plan_round(pool, announcement_id) == "planning":
        rounds += 1
        assert rounds < ROUNDS
    return rounds


async def _batches(announcement_id: ObjectId) -> list[tuple[Any, list[Any]]]:
    """The announcement's batches in order, each with its planned devices."""
    from app.announcements import store
    from models.announcement import AnnouncementBatch

    found = await AnnouncementBatch.find({"announcement_id": announcement_id}).sort("seq").to_list()
    batches = []
    for batch in found:
        assert batch.id is not None
        devices = []
        for number in range(batch.slices or 0):
            part = await store.batch_slice(batch.id, number)
            assert part is not None
            devices += part.devices
        batches.append((batch, devices))
    return batches


async def _forget(tag: str, *announcements: ObjectId) -> None:
    """Nothing of this test left for the session's worker: the announcements done, the
    devices gone."""
    from models.announcement import Announcement, AnnouncementBatch
    from models.citizen import Device

    ids = list(announcements)
    await AnnouncementBatch.get_pymongo_collection().update_many(
        {"announcement_id": {"$in": ids}}, {"$set": {"state": "done"}}
    )
    await Announcement.get_pymongo_collection().update_many({"_id": {"$in": ids}}, {"$set": {"state": "done"}})
    await Device.get_pymongo_collection().delete_many({"token": {"$regex": f"^walk-{tag}-"}})


async def test_every_device_in_exactly_one_batch_across_rounds_and_no_citizen_split(pool: ArqRedis) -> None:
    from models.common import utcnow

    now, tag = utcnow(), secrets.token_hex(4)
    moments = (
        [datetime(1970, 1, 2, tzinfo=UTC) + timedelta(hours=h) for h in range(3)]  # imported, say
        + [datetime(2019, 5, 1, tzinfo=UTC) + timedelta(days=d) for d in range(5)]
        + [now - timedelta(days=3)] * 10  # ten citizens of the same second
        + [now - timedelta(minutes=6 * m) for m in range(1, 11)]
        + [now + timedelta(hours=1)]  # made on a host whose clock runs ahead
    )
    citizens = [(object_id_at(m), 1 + n % 3) for n, m in enumerate(moments)]
    mine = await _insert_devices(tag, citizens)
    announcement_id = await _new_announcement()
    try:
        assert await _plan_round(pool, announcement_id) == "planning"
        # Registered during planning: a phone of a citizen not reached yet is in the
        # announcement; one of a citizen already passed, or of a citizen newer than the walk's
        # start, is not.
        [(first, _)] = await _batches(announcement_id)
        passed = [c for c, _ in citizens if c >= first.cursor]
        not_reached = [c for c, _ in citizens if c < first.cursor]
        assert passed and not_reached
        late = await _insert_devices(f"{tag}-late", [(not_reached[0], 1), (passed[0], 1), (ObjectId(), 1)])
        rounds = 1 + await _plan_to_the_end(pool, announcement_id)
        batches = await _batches(announcement_id)
    finally:
        await _forget(tag, announcement_id)
        await _forget(f"{tag}-late")

    assert rounds > 3 and len(batches) == rounds
    planned = [device for _, devices in batches for device in devices]
    counted = Counter(device.device_id for device in planned)
    # No device twice; each of ours exactly once; of those registered meanwhile, only the one
    # whose citizen the walk had not reached yet.
    assert max(counted.values()) == 1
    assert {d["_id"] for d in mine} <= set(counted)
    assert [d["_id"] in counted for d in late] == [True, False, False]
    # A citizen's devices all in one batch; no batch over its size but one citizen's own; each
    # batch's cursor its last citizen, the oldest in it (a muted citizen's devices are left out
    # of the list, not of the walk), older than every citizen before it.
    batch_of: dict[Any, set[int]] = {}
    for batch, devices in batches:
        assert batch.cursor_of == "citizen"
        assert len(devices) <= SIZE or len({d.citizen_id for d in devices}) == 1
        assert all(batch.cursor <= d.citizen_id for d in devices)
        for device in devices:
            batch_of.setdefault(device.citizen_id, set()).add(batch.seq)
    assert all(len(seqs) == 1 for seqs in batch_of.values())
    cursors = [batch.cursor for batch, _ in batches]
    assert cursors == sorted(cursors, reverse=True) and len(set(cursors)) == len(cursors)


async def test_planning_runs_racing_on_one_announcement_plan_every_device_once(pool: ArqRedis) -> None:
    """The sweeper restarts a planning it takes for stalled while the first run still goes:
    four runs at once, round after round, and still each device in one batch only."""
    import asyncio

    from models.announcement import Announcement
    from models.common import utcnow

    tag = secrets.token_hex(4)
    now = utcnow()
    citizens = [(object_id_at(now - timedelta(minutes=7 * n)), 1 + n % 3) for n in range(24)]
    mine = await _insert_devices(tag, citizens)
    announcement_id = await _new_announcement()
    seen: Counter[str] = Counter()
    try:
        for _ in range(ROUNDS):
            seen.update(await asyncio.gather(*(_plan_round(pool, announcement_id) for _ in range(4))))
            announcement = await Announcement.get(announcement_id)
            assert announcement is not None
            if announcement.planned_at is not None:
                break
        batches = await _batches(announcement_id)
    finally:
        await _forget(tag, announcement_id)

    planned = Counter(device.device_id for _, devices in batches for device in devices)
    assert {d["_id"] for d in mine} <= set(planned)
    assert max(planned.values()) == 1
    assert [batch.seq for batch, _ in batches] == list(range(len(batches)))
    assert seen["superseded"] > 0  # the runs did race: the losers stood down


async def test_planning_begun_by_the_version_before_finishes_with_its_device_walk(pool: ArqRedis) -> None:
    from models.announcement import AnnouncementBatch
    from models.citizen import Device

    tag = secrets.token_hex(4)
    mine = await _insert_devices(tag, [(ObjectId(), 1 + n % 3) for n in range(8)])
    announcement_id = await _new_announcement()
    # The version before planned the devices up to one of ours: its batch's cursor is that
    # device (no `cursor_of` stored).
    cursor = mine[5]["_id"]
    await AnnouncementBatch.get_pymongo_collection().insert_one(
        {"announcement_id": announcement_id, "seq": 0, "cursor": cursor, "slices": 0, "state": "done", "counts": {}}
    )
    after = {raw["_id"] async for raw in Device.get_pymongo_collection().find({"_id": {"$gt": cursor}}, {"_id": 1})}
    try:
        await _plan_to_the_end(pool, announcement_id)
        batches = await _batches(announcement_id)
    finally:
        await _forget(tag, announcement_id)

    [(legacy, _), *resumed] = batches
    assert legacy.cursor_of == "device" and resumed
    planned = Counter(device.device_id for _, devices in resumed for device in devices)
    assert set(planned) == after and max(planned.values()) == 1
    assert {d["_id"] for d in mine[6:]} <= after
    for batch, devices in resumed:
        assert batch.cursor_of == "device" and len(devices) <= SIZE
        assert all(batch.cursor >= d.device_id for d in devices)


async def test_every_window_planning_reads_is_an_index_range_not_a_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import id_windows
    from app.citizens import store
    from models.citizen import Device
    from workers.announcements import DEVICE_FIELDS, SLICE_DEVICES

    tag = secrets.token_hex(4)
    await _insert_devices(tag, [(object_id_at(datetime(2019, 5, 1, tzinfo=UTC)), 2), (ObjectId(), 1)])
    walk, queries = id_windows.newest_first, []

    def recording(read: Any, *args: Any, **kwargs: Any) -> Any:
        async def recorded(query: dict[str, Any]) -> Any:
            queries.append(query)
            return await read(query)

        return walk(recorded, *args, **kwargs)

    monkeypatch.setattr(id_windows, "newest_first", recording)
    try:
        chunks = [chunk async for chunk, *_ in store.device_chunks(None, None, SIZE, DEVICE_FIELDS, SLICE_DEVICES)]
    finally:
        await _forget(tag)
    assert chunks and len(queries) > 10  # from now back to the epoch
    database = Device.get_pymongo_collection().database
    for query in queries:
        command = {"find": "devices", "filter": query, "projection": DEVICE_FIELDS}
        plan = await database.command("explain", command, verbosity="queryPlanner")
        stages = stage_names(plan)
        assert ("IXSCAN", "citizen_id_1") in stages, (query, stages)
        assert "COLLSCAN" not in [stage for stage, _ in stages]


async def test_a_province_with_more_citizens_than_one_list_read_has_every_phone_planned_once() -> None:
    """A province's chunk of 500 citizens reads their phones 100 citizens at a time
    (app/in_lists.py): every phone of the chunk is still in it, once."""
    from app.citizens import store as citizen_store
    from models.citizen import Citizen, Device
    from workers.announcements import DEVICE_FIELDS

    province = f"9{secrets.randbelow(100):02d}"
    citizens = [ObjectId() for _ in range(230)]
    raw_citizens = [{"_id": c, "national_id": f"{province}{n:09d}"} for n, c in enumerate(citizens)]
    await Citizen.get_pymongo_collection().insert_many(raw_citizens)
    devices = await _insert_devices(f"province{province}", [(c, 1 + n % 2) for n, c in enumerate(citizens)])
    try:
        chunks = [chunk async for chunk, *_ in citizen_store.device_chunks(province, None, 500, DEVICE_FIELDS, 100)]
        planned = Counter(raw["_id"] for chunk in chunks for raw in chunk)
        assert len(chunks) == 1
        assert planned == Counter(d["_id"] for d in devices)  # 345 phones, each once
    finally:
        await Device.get_pymongo_collection().delete_many({"_id": {"$in": [d["_id"] for d in devices]}})
        await Citizen.get_pymongo_collection().delete_many({"_id": {"$in": citizens}})


async def _province_citizens(numbers: list[int], province: str | None = None) -> tuple[str, list[ObjectId]]:
    """Citizens of a province (by default a code no real province has), one per ID number's
    last nine digits, stored in the order given (so `_id` order is not ID-number order)."""
    from models.citizen import Citizen

    province = province or f"9{secrets.randbelow(100):02d}"
    citizens = [ObjectId() for _ in numbers]
    raw = [{"_id": c, "national_id": f"{province}{n:09d}"} for c, n in zip(citizens, numbers, strict=True)]
    await Citizen.get_pymongo_collection().insert_many(raw)
    return province, citizens


async def _forget_citizens(citizens: list[ObjectId]) -> None:
    from models.citizen import Citizen

    await Citizen.get_pymongo_collection().delete_many({"_id": {"$in": citizens}})


async def test_a_province_is_planned_window_by_window_each_phone_once_across_rounds(pool: ArqRedis) -> None:
    """A province's citizens spread over its ID numbers (a dense birth year, one born a century
    apart, the first and the last numbers there are), planned a round per batch: each phone
    of theirs once, no phone of another province, each window query an index range."""
    from app.citizens.store import ID_NUMBERS
    from models.citizen import Citizen

    rng = secrets.SystemRandom()
    numbers = sorted(
        {0, ID_NUMBERS - 1, 2 * 10**8 + 5}
        | {85 * 10**6 + rng.randrange(10**6) for _ in range(40)}  # born 1985, one sex
        | {3 * 10**8 + rng.randrange(10**8) for _ in range(12)}
    )
    rng.shuffle(numbers)
    province, citizens = await _province_citizens(numbers)
    neighbour = f"9{(int(province[1:]) + 1) % 100:02d}"
    _, strangers = await _province_citizens([85 * 10**6 + 1], neighbour)
    tag = secrets.token_hex(4)
    mine = await _insert_devices(tag, [(c, 1 + n % 3) for n, c in enumerate(citizens)])
    theirs = await _insert_devices(f"{tag}-other", [(strangers[0], 1)])
    announcement_id = await _new_announcement(province)
    database = Citizen.get_pymongo_collection().database
    await database.command("profile", 2)
    try:
        rounds = await _plan_to_the_end(pool, announcement_id)
        batches = await _batches(announcement_id)
    finally:
        await database.command("profile", 0)
        await _forget(tag, announcement_id)
        await _forget(f"{tag}-other")
        await _forget_citizens(citizens + strangers)

    planned = Counter(device.device_id for _, devices in batches for device in devices)
    assert set(planned) == {d["_id"] for d in mine} and max(planned.values()) == 1
    assert theirs[0]["_id"] not in planned
    assert rounds > 3 and all(batch.window is not None for batch, _ in batches)
    windows = [
        entry["command"]["filter"]
        async for entry in database["system.profile"].find(
            {"ns": f"{database.name}.citizens", "command.filter.national_id.$gte": {"$regex": f"^{province}"}}
        )
    ]
    await database["system.profile"].drop()
    assert len(windows) > rounds  # (each round re-reads the window its cursor is in)
    for query in windows:
        plan = await database.command("explain", {"find": "citizens", "filter": query}, verbosity="queryPlanner")
        stages = stage_names(plan)
        assert "COLLSCAN" not in [stage for stage, _ in stages], (query, stages)
        assert any(stage == "IXSCAN" for stage, _ in stages), (query, stages)


async def test_a_province_planning_begun_by_the_version_before_finishes_with_its_id_walk(pool: ArqRedis) -> None:
    from models.announcement import AnnouncementBatch

    province, citizens = await _province_citizens(list(range(0, 10**8, 10**7)))
    tag = secrets.token_hex(4)
    mine = await _insert_devices(tag, [(c, 1) for c in citizens])
    announcement_id = await _new_announcement(province)
    # The version before planned the province's citizens up to one of them, in `_id` order:
    # its batch has a citizen's cursor and no window.
    cursor = sorted(citizens)[3]
    await AnnouncementBatch.get_pymongo_collection().insert_one(
        {"announcement_id": announcement_id, "seq": 0, "cursor": cursor, "cursor_of": "citizen", "slices": 0,
         "state": "done", "counts": {}}
    )  # fmt: skip
    try:
        await _plan_to_the_end(pool, announcement_id)
        batches = await _batches(announcement_id)
    finally:
        await _forget(tag, announcement_id)
        await _forget_citizens(citizens)

    [_, *resumed] = batches
    planned = Counter(device.device_id for _, devices in resumed for device in devices)
    after = {d["_id"] for d in mine if d["citizen_id"] > cursor}
    assert set(planned) == after and max(planned.values()) == 1
    assert all(batch.window is None for batch, _ in resumed)


async def test_planning_runs_racing_on_a_province_plan_every_phone_once(pool: ArqRedis) -> None:
    """The sweeper's restart racing the first run, on a province: four runs at once, round
    after round, each resuming from the window its last batch recorded, and still each phone
    in one batch only and every phone of the province in one."""
    import asyncio

    from models.announcement import Announcement

    numbers = [85 * 10**6 + 37 * n for n in range(30)] + [3 * 10**8 + 10**5 * n for n in range(10)]
    province, citizens = await _province_citizens(numbers)
    tag = secrets.token_hex(4)
    mine = await _insert_devices(tag, [(c, 1 + n % 3) for n, c in enumerate(citizens)])
    announcement_id = await _new_announcement(province)
    seen: Counter[str] = Counter()
    try:
        for _ in range(ROUNDS):
            seen.update(await asyncio.gather(*(_plan_round(pool, announcement_id) for _ in range(4))))
            announcement = await Announcement.get(announcement_id)
            assert announcement is not None
            if announcement.planned_at is not None:
                break
        batches = await _batches(announcement_id)
    finally:
        await _forget(tag, announcement_id)
        await _forget_citizens(citizens)

    planned = Counter(device.device_id for _, devices in batches for device in devices)
    assert set(planned) == {d["_id"] for d in mine} and max(planned.values()) == 1
    assert [batch.seq for batch, _ in batches] == list(range(len(batches)))
    assert all(batch.window is not None for batch, _ in batches)
    assert seen["superseded"] > 0  # the runs did race: the losers stood down
