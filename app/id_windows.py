"""Walking a large collection in windows of ObjectId time, newest first: the one rule for how
wide each window is (`next_width`), shared by the store modules that walk every dossier
(statistics' backfill) and every device (an announcement to everyone), and by the agency
worklist's windows of deadlines (app/dossiers/worklist.py).

Why windows: MongoDB streams one cursor over a whole collection, but the embedded store
materialises a whole result (and sorts it) before answering its first batch. Why over a
secondary index whose leading field is an ObjectId (a citizen's id), not over `_id`: the
embedded store answers any range on `_id` with a collection scan, and a range on the leading
field of a secondary index with that index; MongoDB runs both as index ranges (decision 26).

Why newest first: where the walk starts must be where the ids are dense, so that the first
window's density sizes the next. From now back, the width follows the density just read;
the stretch before the first id (decades back to the epoch) is crossed at the end with
windows growing fourfold, about sixteen empty index probes. Walking up from the epoch instead,
those growing windows would reach the ids with a window decades wide (the seventeenth spans
May 2015 to beyond now): the whole collection in one read; and the embedded store has no
cheap way to find where the ids begin (no limit push-down, a `count` scans).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId

from models.common import utcnow

# How much wider or narrower than the last window the next may be.
WINDOW_RESIZE = 4

Found = TypeVar("Found")


def _id_at(second: int) -> ObjectId:
    return ObjectId.from_datetime(datetime.fromtimestamp(second, UTC))


def next_width(width: int, found: int, target: int) -> int:
    """The next window's width in seconds, after one `width` wide held `found` of the `target`:
    at most `WINDOW_RESIZE` times wider (an empty window too) or narrower, never under one."""
    ratio = target / found if found else WINDOW_RESIZE
    return max(1, round(width * min(WINDOW_RESIZE, max(1 / WINDOW_RESIZE, ratio))))


async def newest_first(
    read: Callable[[dict[str, Any]], Awaitable[list[Found]]],
    field: str,
    target: int,
    *,
    below: ObjectId | None = None,
) -> AsyncIterator[list[Found]]:
    """What `read` finds for each window, newest first, the empty windows left out; a window's
    query is `{field: {"$gte": id, "$lt": id}}`, one range of the index that `field` leads.
    The first window ends just below `below`, or is open-ended above now when there is none
    (an id made on a host whose clock runs ahead); the last starts at the epoch of ObjectIds.
    Each window's width follows the density of the one before, aiming at `target` found
    (`next_width`); one second holding more is still read whole (ObjectIds count seconds)."""
    high = int(below.generation_time.timestamp()) if below is not None else int(utcnow().timestamp()) + 1
    upper = below
    width = 1
    while True:
        low = max(high - width, 0)
        window: dict[str, ObjectId] = {"$gte": _id_at(low)}
        if upper is not None:
            window["$lt"] = upper
        found = await read({field: window})
        if found:
            yield found
        if low == 0:
            return
        high, upper = low, _id_at(low)
        width = next_width(width, len(found), target)
