"""Announcements: one message from an administrator to everyone, or to a segment, fanned out
to devices in batches (docs/decisions/0014-push-pipeline.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow
from models.preferences import QuietHours

AnnouncementState = Literal["planning", "sending", "done"]
BatchDeviceState = Literal["pending", "held", "sent", "failed", "dropped"]
BatchState = Literal["pending", "done"]
CursorOf = Literal["device", "citizen"]


class Segment(BaseModel):
    # The first three digits of the national ID (the province of birth registration);
    # None: everyone.
    province: str | None = None


class Announcement(Document):
    title_vi: str
    title_en: str
    body_vi: str
    body_en: str
    segment: Segment = Field(default_factory=Segment)
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)
    # The admin's Idempotency-Key: a retried request finds the first announcement.
    idempotency_key: str | None = None
    state: AnnouncementState = "planning"
    # Batches planned so far; final once `planned_at` is set.
    batches: int = 0
    planned_at: datetime | None = None
    finished_at: datetime | None = None
    # Last progress of planning: the sweeper resumes a planning that stalled.
    updated_at: datetime = Field(default_factory=utcnow)
    # When the retention cron deleted its device lists and per-device outcomes (the batches'
    # counts stay, so its progress still shows): models/retention.py.
    device_lists_purged_at: datetime | None = None

    class Settings:
        name = "announcements"
        indexes = [
            IndexModel([("created_at", pymongo.DESCENDING)]),
            IndexModel([("state", pymongo.ASCENDING)]),
            IndexModel(
                [("created_by", pymongo.ASCENDING), ("idempotency_key", pymongo.ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
            ),
        ]


class BatchDevice(BaseModel):
    """One device of a batch: who it is, as planned, and what came of its push."""

    device_id: PydanticObjectId
    citizen_id: PydanticObjectId
    token: str
    locale: str = "vi"
    # The citizen's quiet hours as planned; a push in them waits for their end.
    quiet_hours: QuietHours | None = None
    state: BatchDeviceState = "pending"
    attempts: int = 0
    error_code: str | None = None
    not_before: datetime | None = None


class AnnouncementBatch(Document):
    """The summary of one batch of an announcement (up to 500 devices, or 500 citizens'
    devices). Its device list, fixed when the batch is planned, is the BatchDevices document
    with the same id, so the queries that pace and sum a broadcast (in flight, progress) read
    small documents only."""

    announcement_id: PydanticObjectId
    seq: int
    # Where planning resumes: the last citizen the batch covers (planning goes on with the
    # citizens after it in a province, before it for everyone: app/citizens/store.py), or,
    # for everyone's batches planned before 2026-12-02 (evening), the last device.
    cursor: PydanticObjectId
    # What `cursor` is, for an announcement to everyone; "device" is what a batch stored
    # before the field was (a segment's cursor has always been a citizen).
    cursor_of: CursorOf = "device"
    # A province's batch: the [start, end) of the last nine digits of ID numbers that the
    # cursor's citizen was found in (app/citizens/store.py walks a province window by window);
    # None for everyone's batches and for a province's planned before windows.
    window: list[int] | None = None
    # Devices left out because their citizen muted announcements.
    muted: int = 0
    # How many BatchSlice documents hold its devices; None: a batch planned before slices, its
    # devices in the one BatchDevices document with its id.
    slices: int | None = None
    state: BatchState = "pending"
    # Device counts by state, written with every pass so progress is one small aggregation.
    counts: dict[str, int] = Field(default_factory=dict)
    # Set when a job is queued for it (planning keeps only so many batches in flight), and
    # when its first pass is over (from then on it no longer counts as in flight).
    queued_at: datetime | None = None
    first_pass_at: datetime | None = None
    next_attempt_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "announcement_batches"
        indexes = [
            IndexModel([("announcement_id", pymongo.ASCENDING), ("seq", pymongo.ASCENDING)], unique=True),
            IndexModel(
                [("announcement_id", pymongo.ASCENDING), ("state", pymongo.ASCENDING), ("queued_at", pymongo.ASCENDING)]
            ),
            IndexModel([("state", pymongo.ASCENDING), ("next_attempt_at", pymongo.ASCENDING)]),
        ]


class BatchDevices(Document):
    """The devices of one AnnouncementBatch (same id) planned before slices, each with what came
    of its push until then; read, never written, by this version (decision 0025)."""

    devices: list[BatchDevice] = Field(default_factory=list)

    class Settings:
        name = "announcement_batch_devices"


class BatchSlice(Document):
    """One slice (`SLICE_DEVICES`) of a batch's devices, as planned; written once, never
    rewritten: what came of each push is a BatchOutcomes record (decision 0025)."""

    id: str  # type: ignore[assignment]  # "<batch id>:<slice number>"
    devices: list[BatchDevice] = Field(default_factory=list)

    class Settings:
        name = "announcement_batch_slices"


class DeviceOutcome(BaseModel):
    """What one pass did with one device of a batch: its push's result (one attempt), or a hold
    for quiet hours (no attempt)."""

    i: int  # the device's place in the batch
    state: BatchDeviceState
    error_code: str | None = None


class BatchOutcomes(Document):
    """The outcomes of one slice's sends in one pass of a batch, written right after them; a
    batch's device states are its slices overlaid with its records in order. A record is only
    ever inserted, so a pass writes one small document per slice (decision 0025). Found by
    `(batch_id, n)`, an index: a range over a string `_id` is a collection scan on the embedded
    store."""

    batch_id: PydanticObjectId
    n: int  # the record's number within its batch: their order, unique
    outcomes: list[DeviceOutcome] = Field(default_factory=list)

    class Settings:
        name = "announcement_batch_outcomes"
        indexes = [IndexModel([("batch_id", pymongo.ASCENDING), ("n", pymongo.ASCENDING)], unique=True)]
