"""Announcements: an admin's message to a province, fanned out by the worker, each device once,
in its language, with progress visible; muted citizens left out, quiet hours respected."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from bson import ObjectId

from app.announcements.service import purge_device_lists
from models.announcement import AnnouncementBatch, BatchOutcomes, BatchSlice
from models.common import utcnow
from models.retention import ANNOUNCEMENT_DEVICE_LIST_DAYS
from tests.integration.push.helpers import messages, received, wait_for

ANNOUNCEMENTS = "/api/v1/admin/announcements"


def _body(province: str | None) -> dict[str, Any]:
    return {
        "title": {"vi": "Lịch nghỉ Tết", "en": "New Year holiday"},
        "body": {
            "vi": "Bộ phận một cửa nghỉ từ 14/2 đến 22/2. Hồ sơ trực tuyến vẫn được tiếp nhận.",
            "en": "One-stop offices close from 14 to 22 February. Online applications are still accepted.",
        },
        "segment": {"province": province},
    }


async def _finished(api: httpx.AsyncClient, admin: Any, announcement_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        answer = await api.get(f"{ANNOUNCEMENTS}/{announcement_id}", headers=admin.headers)
        assert answer.status_code == 200, answer.text
        shown: dict[str, Any] = answer.json()
        return shown if shown["state"] == "done" else None

    return await wait_for(done, "the announcement finishing")


async def test_a_province_gets_it_once_per_device_in_its_language(
    api: httpx.AsyncClient,
    make_admin: Callable[[], Awaitable[Any]],
    make_resident: Callable[..., Awaitable[Any]],
    emulator: httpx.AsyncClient,
    worker: Any,
) -> None:
    admin = await make_admin()
    province, elsewhere = "094", "095"
    two_phones = await make_resident(province, devices=2, locale="vi")
    english = await make_resident(province, devices=1, locale="en")
    muted = await make_resident(province, devices=1)
    outside = await make_resident(elsewhere, devices=1)
    put = await api.put(
        "/api/v1/me/notification-preferences", json={"categories": {"announcements": False}}, headers=muted.headers
    )
    assert put.status_code == 200, put.text

    key = uuid.uuid4().hex
    sent = await api.post(ANNOUNCEMENTS, json=_body(province), headers={**admin.headers, "Idempotency-Key": key})
    assert sent.status_code == 201, sent.text
    announcement = sent.json()
    assert announcement["segment"] == {"province": province}
    # A retried request finds the first announcement and sends nothing more.
    again = await api.post(ANNOUNCEMENTS, json=_body(province), headers={**admin.headers, "Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["id"] == announcement["id"]

    shown = await _finished(api, admin, announcement["id"])
    progress = shown["progress"]
    assert progress["pending"] == 0 and progress["batches_done"] == progress["batches"] >= 1
    assert progress["sent"] >= 3 and progress["muted"] >= 1
    assert progress["devices"] == progress["sent"] + progress["failed"] + progress["dropped"]

    for token in two_phones.device_tokens:
        [push] = await received(emulator, token)
        assert (push["title"], push["data"]["type"]) == ("Lịch nghỉ Tết", "announcement")
        assert push["data"]["notification_id"] == announcement["id"] == push["android_collapse_key"]
    [push] = await received(emulator, english.device_tokens[0])
    assert push["title"] == "New Year holiday"
    assert await messages(emulator, muted.device_tokens[0]) == []
    assert await messages(emulator, outside.device_tokens[0]) == []
    listed = (await api.get(ANNOUNCEMENTS, headers=admin.headers)).json()["items"]
    assert announcement["id"] in [a["id"] for a in listed]


async def _device_lists(announcement_id: str) -> tuple[int, int]:
    """How many device slices and outcome records the announcement's batches still have."""
    batches = [raw async for raw in AnnouncementBatch.find({"announcement_id": ObjectId(announcement_id)})]
    ids = [f"{b.id}:{n}" for b in batches for n in range(b.slices or 0)]
    slices = await BatchSlice.get_pymongo_collection().count_documents({"_id": {"$in": ids}})
    outcomes = await BatchOutcomes.get_pymongo_collection().count_documents(
        {"batch_id": {"$in": [b.id for b in batches]}}
    )
    return slices, outcomes


async def test_a_broadcasts_push_tokens_go_a_month_after_it_ends_and_its_figures_stay(
    api: httpx.AsyncClient,
    make_admin: Callable[[], Awaitable[Any]],
    make_resident: Callable[..., Awaitable[Any]],
    worker: Any,
) -> None:
    admin = await make_admin()
    await make_resident("096", devices=2)
    sent = await api.post(ANNOUNCEMENTS, json=_body("096"), headers=admin.headers)
    assert sent.status_code == 201, sent.text
    finished = await _finished(api, admin, sent.json()["id"])
    slices, outcomes = await _device_lists(finished["id"])
    assert slices >= 1 and outcomes >= 1

    # A day short of the lifetime: kept. After it, the retention cron's two runs at once
    # (two workers) delete the lists once; the progress still shows what was sent.
    await purge_device_lists(utcnow() + timedelta(days=ANNOUNCEMENT_DEVICE_LIST_DAYS - 1))
    assert await _device_lists(finished["id"]) == (slices, outcomes)
    later = utcnow() + timedelta(days=ANNOUNCEMENT_DEVICE_LIST_DAYS + 1)
    await asyncio.gather(purge_device_lists(later), purge_device_lists(later))
    assert await _device_lists(finished["id"]) == (0, 0)
    shown = (await api.get(f"{ANNOUNCEMENTS}/{finished['id']}", headers=admin.headers)).json()
    assert shown["progress"] == finished["progress"] and shown["state"] == "done"


async def test_quiet_hours_hold_an_announcement_for_that_citizen(
    api: httpx.AsyncClient,
    make_admin: Callable[[], Awaitable[Any]],
    make_resident: Callable[..., Awaitable[Any]],
    emulator: httpx.AsyncClient,
    worker: Any,
) -> None:
    from datetime import timedelta

    from models.common import utcnow

    admin = await make_admin()
    sleeper = await make_resident("093", devices=1)
    local = utcnow() + timedelta(hours=7)
    quiet = {"start": f"{local - timedelta(hours=1):%H:%M}", "end": f"{local + timedelta(hours=1):%H:%M}"}
    assert (
        await api.put("/api/v1/me/notification-preferences", json={"quiet_hours": quiet}, headers=sleeper.headers)
    ).status_code == 200
    sent = await api.post(ANNOUNCEMENTS, json=_body("093"), headers=admin.headers)
    assert sent.status_code == 201, sent.text

    async def held() -> dict[str, Any] | None:
        shown: dict[str, Any] = (await api.get(f"{ANNOUNCEMENTS}/{sent.json()['id']}", headers=admin.headers)).json()
        return shown if shown["progress"]["held_for_quiet_hours"] >= 1 else None

    shown = await wait_for(held, "the announcement held for the sleeper's quiet hours")
    assert shown["state"] != "done"
    assert await messages(emulator, sleeper.device_tokens[0]) == []


async def test_only_admins_send_and_bad_input_says_what_to_fix(
    api: httpx.AsyncClient,
    make_admin: Callable[[], Awaitable[Any]],
    make_citizen: Callable[..., Awaitable[Any]],
    make_staff: Callable[..., Awaitable[Any]],
) -> None:
    admin, support, citizen = await make_admin(), await make_staff(), await make_citizen(devices=0)
    for outsider in (support, citizen):
        for method, path in (("POST", ANNOUNCEMENTS), ("GET", ANNOUNCEMENTS), ("GET", "/api/v1/admin/push/figures")):
            answer = await api.request(method, path, json=_body(None), headers=outsider.headers)
            assert answer.status_code == 403, (method, path, answer.text)
    wrong = [
        ({**_body(None), "segment": {"province": "003"}}, "segment.province"),
        ({**_body(None), "title": {"vi": "", "en": "x"}}, "title.vi"),
        ({**_body(None), "title": {"vi": "x" * 101, "en": "x"}}, "title.vi"),
    ]
    for body, field in wrong:
        answer = await api.post(ANNOUNCEMENTS, json=body, headers={**admin.headers, "Accept-Language": "en"})
        assert answer.status_code in (400, 422), answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text
    listed = (await api.get(ANNOUNCEMENTS, headers=admin.headers)).json()["items"]
    assert all(a["segment"]["province"] != "003" for a in listed)
    missing = await api.get(f"{ANNOUNCEMENTS}/{uuid.uuid4().hex[:24]}", headers=admin.headers)
    assert missing.status_code == 404
