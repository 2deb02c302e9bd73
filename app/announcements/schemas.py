from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class TitleIn(msgspec.Struct, forbid_unknown_fields=True):
    vi: Title
    en: Title


class BodyIn(msgspec.Struct, forbid_unknown_fields=True):
    vi: Body
    en: Body


class SegmentIO(msgspec.Struct, forbid_unknown_fields=True):
    # Three digits: the province code that starts the national ID. None: everyone.
    province: str | None = None


class AnnouncementIn(msgspec.Struct, forbid_unknown_fields=True):
    title: TitleIn
    body: BodyIn
    segment: SegmentIO = msgspec.field(default_factory=SegmentIO)


class Progress(msgspec.Struct):
    # Devices planned so far (final once `planned` is true), and where each stands.
    devices: int
    sent: int
    failed: int
    dropped: int
    pending: int
    held_for_quiet_hours: int
    # Devices left out because their citizen turned announcements off.
    muted: int
    batches: int
    batches_done: int
    # True while the broadcast waits for citizens' own pushes to go first (each batch waits a
    # bounded time: ANNOUNCEMENT_YIELD_MAX_SECONDS).
    yielding: bool = False


class AnnouncementOut(msgspec.Struct):
    id: str
    title: dict[str, str]
    body: dict[str, str]
    segment: SegmentIO
    state: str  # planning | sending | done
    planned: bool
    created_at: datetime
    finished_at: datetime | None
    progress: Progress
