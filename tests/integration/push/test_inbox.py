"""The inbox: unread count, marking read one or all, and the retention purge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from beanie import PydanticObjectId

from tests.support import submit_residence

INBOX = "/api/v1/me/notifications"


async def _inbox(api: httpx.AsyncClient, citizen: Any, **params: Any) -> list[dict[str, Any]]:
    answer = await api.get(INBOX, params=params, headers=citizen.headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def _unread(api: httpx.AsyncClient, citizen: Any) -> int:
    answer = await api.get(f"{INBOX}/unread-count", headers=citizen.headers)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["unread"])


async def test_unread_count_and_marking_one_then_all_read(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    citizen = await make_citizen(devices=0)
    for _ in range(3):
        await submit_residence(api, citizen)
    items = await _inbox(api, citizen)
    assert len(items) == 3 and all(i["read_at"] is None for i in items)
    assert all(i["category"] == "dossier_updates" for i in items)
    assert await _unread(api, citizen) == 3

    first = items[0]["id"]
    marked = await api.patch(f"{INBOX}/{first}", json={"read": True}, headers=citizen.headers)
    assert marked.status_code == 200, marked.text
    read_at = marked.json()["read_at"]
    assert read_at is not None
    assert await _unread(api, citizen) == 2
    # Marking it read again keeps the first time it was read.
    again = await api.patch(f"{INBOX}/{first}", json={"read": True}, headers=citizen.headers)
    assert again.json()["read_at"] == read_at
    assert [i["id"] for i in await _inbox(api, citizen, unread="true")] == [i["id"] for i in items[1:]]

    unmarked = await api.patch(f"{INBOX}/{first}", json={"read": False}, headers=citizen.headers)
    assert unmarked.status_code == 200 and unmarked.json()["read_at"] is None
    assert await _unread(api, citizen) == 3

    everything = await api.post(f"{INBOX}/read-all", headers=citizen.headers)
    assert everything.status_code == 200, everything.text
    assert everything.json() == {"marked": 3}
    assert await _unread(api, citizen) == 0
    assert all(i["read_at"] is not None for i in await _inbox(api, citizen))
    assert (await api.post(f"{INBOX}/read-all", headers=citizen.headers)).json() == {"marked": 0}


async def test_another_citizens_notification_cannot_be_marked(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    owner, other = await make_citizen(devices=0), await make_citizen(devices=0)
    await submit_residence(api, owner)
    [notification] = await _inbox(api, owner)
    for target in (notification["id"], "not-an-id", str(PydanticObjectId())):
        answer = await api.patch(
            f"{INBOX}/{target}", json={"read": True}, headers={**other.headers, "Accept-Language": "en"}
        )
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "Check" in answer.json()["detail"]
    assert await _unread(api, owner) == 1
    assert (await api.post(f"{INBOX}/read-all", headers=other.headers)).json() == {"marked": 0}
    assert await _unread(api, owner) == 1


async def test_a_bad_body_says_what_to_send(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    citizen = await make_citizen(devices=0)
    await submit_residence(api, citizen)
    [notification] = await _inbox(api, citizen)
    for body in ({"read": "yes"}, {"seen": True}, {}):
        answer = await api.patch(f"{INBOX}/{notification['id']}", json=body, headers=citizen.headers)
        assert answer.status_code in (400, 422), answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert await _unread(api, citizen) == 1


async def test_retention_purge_removes_only_notifications_past_the_period(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    from app.inbox.service import purge_expired
    from models.common import utcnow
    from models.notification import Notification

    citizen = await make_citizen(devices=0)
    await submit_residence(api, citizen)
    await submit_residence(api, citizen)
    backdated, kept = await _inbox(api, citizen)
    await Notification.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(backdated["id"])}, {"$set": {"created_at": utcnow() - timedelta(days=31)}}
    )
    assert await purge_expired(retention_days=30) >= 1
    assert [i["id"] for i in await _inbox(api, citizen)] == [kept["id"]]
    assert await purge_expired(retention_days=30) == 0


def test_the_purge_runs_as_a_daily_cron_job() -> None:
    from workers.push_jobs import purge_inbox_job
    from workers.settings import WorkerSettings

    [purge] = [job for job in WorkerSettings.cron_jobs if job.coroutine is purge_inbox_job]
    assert purge.hour == {19} and purge.minute == {41}
