"""Announcements: an administrator's message to everyone or to a province, and its progress.

The API stores the announcement and queues its planning; workers plan it into batches of
devices and send them within the FCM quota (workers/announcements.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from arq import ArqRedis
from beanie import PydanticObjectId
from bson.errors import InvalidId
from redis.exceptions import RedisError

from app.announcements import store
from app.announcements.schemas import AnnouncementIn, AnnouncementOut, Progress, SegmentIO
from app.citizens.identity import PROVINCE_CODES
from app.errors import FieldProblem, Text, invalid_input, not_found
from app.pagination import Page, cursor_filter, next_cursor
from app.queue import enqueue_announcement_plan, yielding_key
from app.security import Principal
from models.announcement import Announcement, Segment
from models.retention import ANNOUNCEMENT_DEVICE_LIST_DAYS

ANNOUNCEMENT = Text("thông báo chung", "announcement")
_COUNTED = ("sent", "failed", "dropped", "pending", "held")


def _check(data: AnnouncementIn) -> None:
    province = data.segment.province
    if province is not None and province not in PROVINCE_CODES:
        raise invalid_input(
            [
                FieldProblem(
                    "segment.province",
                    Text(
                        "Mã tỉnh phải là 3 chữ số đầu của số định danh (ví dụ 001 là Hà Nội, 079 là TP. Hồ Chí "
                        "Minh). Bỏ 'province' để gửi cho mọi người.",
                        "The province must be the first three digits of a national ID (e.g. 001 Hà Nội, 079 Ho "
                        "Chi Minh City). Leave 'province' out to send to everyone.",
                    ),
                )
            ]
        )


async def _yielding(pool: ArqRedis, announcement_id: PydanticObjectId) -> bool:
    """Whether a batch of it is waiting for citizens' own pushes (workers/pacing.py)."""
    try:
        return bool(await pool.exists(yielding_key(pool.default_queue_name, str(announcement_id))))
    except (RedisError, OSError):
        return False  # the progress is still worth showing without it


async def progress(announcement_id: PydanticObjectId, pool: ArqRedis) -> Progress:
    """Sums of the batches' own counts: one small aggregation, however many devices."""
    group: dict[str, Any] = {
        "_id": None,
        "batches": {"$sum": 1},
        "batches_done": {"$sum": {"$cond": [{"$eq": ["$state", "done"]}, 1, 0]}},
        "muted": {"$sum": "$muted"},
        **{name: {"$sum": f"$counts.{name}"} for name in _COUNTED},
    }
    totals = await store.progress_totals(announcement_id, group)
    return Progress(
        devices=sum(totals.get(name, 0) for name in _COUNTED),
        sent=totals.get("sent", 0),
        failed=totals.get("failed", 0),
        dropped=totals.get("dropped", 0),
        pending=totals.get("pending", 0),
        held_for_quiet_hours=totals.get("held", 0),
        muted=totals.get("muted", 0),
        batches=totals.get("batches", 0),
        batches_done=totals.get("batches_done", 0),
        yielding=await _yielding(pool, announcement_id),
    )


async def announcement_out(announcement: Announcement, pool: ArqRedis) -> AnnouncementOut:
    assert announcement.id is not None
    return AnnouncementOut(
        id=str(announcement.id),
        title={"vi": announcement.title_vi, "en": announcement.title_en},
        body={"vi": announcement.body_vi, "en": announcement.body_en},
        segment=SegmentIO(province=announcement.segment.province),
        state=announcement.state,
        planned=announcement.planned_at is not None,
        created_at=announcement.created_at,
        finished_at=announcement.finished_at,
        progress=await progress(announcement.id, pool),
    )


async def create(
    principal: Principal, data: AnnouncementIn, idempotency_key: str | None, pool: ArqRedis
) -> tuple[AnnouncementOut, bool]:
    """Store the announcement and queue its planning. The same Idempotency-Key again gives the
    first announcement back, sent once. Returns it and whether this call created it."""
    _check(data)
    announcement = Announcement(
        title_vi=data.title.vi,
        title_en=data.title.en,
        body_vi=data.body.vi,
        body_en=data.body.en,
        segment=Segment(province=data.segment.province),
        created_by=principal.id,
        idempotency_key=idempotency_key,
    )
    announcement, created = await store.insert_once(announcement, idempotency_key)
    # Also on a repeat: if the first request's queueing was lost, this one queues it (the job
    # id dedupes, and the sweeper would find it later anyway).
    if announcement.planned_at is None:
        await enqueue_announcement_plan(pool, str(announcement.id), announcement.batches)
    return await announcement_out(announcement, pool), created


async def get(announcement_id: str, pool: ArqRedis) -> AnnouncementOut:
    try:
        oid = PydanticObjectId(announcement_id)
    except (InvalidId, TypeError):
        raise not_found(ANNOUNCEMENT) from None
    announcement = await store.announcement(oid)
    if announcement is None:
        raise not_found(ANNOUNCEMENT)
    return await announcement_out(announcement, pool)


async def list_announcements(cursor: str | None, limit: int, pool: ArqRedis) -> Page[AnnouncementOut]:
    found = await store.newest(cursor_filter(cursor, descending=True), limit)
    items = [await announcement_out(a, pool) for a in found]
    return Page(items=items, next_cursor=next_cursor([a.id for a in found], limit))


async def purge_device_lists(now: datetime) -> int:
    """The retention cron's part for announcements (models/retention.py): device lists and
    per-device outcomes of those that finished sending long enough ago; how many."""
    return await store.purge_device_lists(now - timedelta(days=ANNOUNCEMENT_DEVICE_LIST_DAYS))
