"""The agency worklist: its dossiers, nearest deadline first, a page at a time (decision 0025).

Every query this module sends is one index's equality prefix and a single range on its
next field, with the index's own order as the sort: no `$or`, no `$in` before the sort
fields, no hint. MongoDB answers each with an IXSCAN that reads the page and stops (no
SORT stage); the embedded store, which cannot stop early, walks only that one range.

- The agency's procedures are one query each (`service_code` is an equality), merged here
  by (due_at, _id): what MongoDB's SORT_MERGE would do with a `$in`, which the embedded
  store cannot walk in order.
- The cursor (due_at, _id of the last row) resumes with two ranges instead of an `$or`:
  the rest of the rows due at that very moment (`due_at` equal, `_id` after), then the
  rows due later (`due_at` after). Dossiers often share a deadline (same procedure, same
  day), so the first one matters.
- Narrowing (`Narrowing`: a dossier code, a citizen, a deadline window) adds equalities and
  tightens the same `due_at` range; it never adds a query. A deadline window stays on the
  worklist index. A code (one dossier) or a citizen (a few) is a small set MongoDB's planner
  finds by its own index (`code`, `citizen_id`) and sorts in memory, so neither has a
  worklist index of its own; the embedded dev store, which only uses an index whose leading
  fields are exactly the filter's, scans for these two (as it does for `agency_dossier`).
- A page reads its `due_at` range a window at a time (`read_page`): the embedded store reads
  a query's whole range before it applies the limit, so an unbounded range costs every
  dossier due later. Each window is the same query with a tighter `due_at` range.
"""

from __future__ import annotations

import base64
import heapq
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from app import id_windows
from app.citizens.identity import national_id_problem
from app.dossiers import deadlines, store
from app.dossiers.events import parse_status, with_applicants
from app.dossiers.schemas import AgencyDossierOut
from app.dossiers.service import DOSSIER
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.pagination import Page
from app.security import Principal
from models.common import utcnow
from models.dossier import Dossier
from models.working_days import VIETNAM

DEADLINE_STATES = ("on_track", "at_risk", "overdue", "paused")
# The windows a page reads its deadlines in (`read_page`, decision 0025, "windows"). The
# first, without a hint in the cursor, is a day wide (an agency receives its dossiers over
# weeks); each next one is sized by the density of the one before (app/id_windows.py's
# rule). Past FAR_AHEAD of the clock, or at the MOST_WINDOWS-th, the rest of the range is
# read in one.
FIRST_WINDOW = timedelta(days=1)
NARROWEST_WINDOW = timedelta(minutes=1)
WIDEST_WINDOW = timedelta(days=366)
FAR_AHEAD = timedelta(days=366)
MOST_WINDOWS = 6
ORDER = [("due_at", 1), ("_id", 1)]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The index each kind of worklist walks (models/dossier.py), by its equality fields.
INDEX_BY_FILTER = {
    "status": "worklist_status_service_due",
    "deadline": "worklist_clock_service_due",
    "none": "worklist_service_due",
}


def _bad(field: str, vi: str, en: str, **params: object) -> AppError:
    return invalid_input([FieldProblem(field, Text(vi, en), dict(params))])


def encode_cursor(due_at: datetime, dossier_id: Any, window: timedelta | None = None) -> str:
    """The last row's (due_at, _id), and the width of the window the page ended in: the next
    page's first window (a hint; a cursor without it is read with FIRST_WINDOW)."""
    # Whole milliseconds, as BSON keeps them, computed without floating point.
    millis = (due_at.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)
    hint = f":{window // timedelta(seconds=1)}" if window is not None else ""
    raw = f"{millis}:{dossier_id}{hint}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_parts(cursor: str) -> tuple[datetime, ObjectId, timedelta | None]:
    try:
        millis, oid, *hint = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
        window = timedelta(seconds=int(hint[0])) if hint else None
        if len(hint) > 1 or (window is not None and not NARROWEST_WINDOW <= window <= WIDEST_WINDOW):
            raise ValueError(cursor)
        return EPOCH + timedelta(milliseconds=int(millis)), ObjectId(oid), window
    except (ValueError, InvalidId, UnicodeDecodeError, OverflowError):
        raise _bad(
            "cursor",
            "Con trỏ trang không hợp lệ; hãy bỏ nó để đọc từ đầu.",
            "Invalid cursor; omit it to start from the first page.",
        ) from None


def decode_cursor(cursor: str) -> tuple[datetime, ObjectId]:
    due, last, _ = _cursor_parts(cursor)
    return due, last


def window_hint(cursor: str | None) -> timedelta | None:
    """The width of the window the cursor's page ended in (None: a first page, or an old cursor)."""
    return _cursor_parts(cursor)[2] if cursor is not None else None


def _base_filter(principal: Principal, status: str | None, deadline: str | None) -> tuple[dict[str, Any], str]:
    """The equality fields (and a deadline state's due_at range), and the index they lead."""
    query: dict[str, Any] = {"agency_code": principal.agency_code}
    index = INDEX_BY_FILTER["none"]
    if status:
        query["status"] = parse_status(status).value
        index = INDEX_BY_FILTER["status"]
    if deadline:
        if deadline not in DEADLINE_STATES:
            raise _bad(
                "deadline",
                "Giá trị '{d}' không hợp lệ. Dùng một trong: {all}.",
                "Unknown deadline state '{d}'. Use one of: {all}.",
                d=deadline,
                all=", ".join(DEADLINE_STATES),
            )
        query.update(deadlines.deadline_query(deadline, utcnow()))
        if not status:
            index = INDEX_BY_FILTER["deadline"]
    return query, index


@dataclass(frozen=True)
class Narrowing:
    """Filters that narrow a worklist without changing the index it walks."""

    code: str | None = None
    citizen_id: ObjectId | None = None
    # Inclusive start and exclusive end of the deadline window (Vietnamese days).
    due_from: datetime | None = None
    due_until: datetime | None = None


def _vietnamese_day(field: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(
            field,
            "Ngày '{v}' không hợp lệ; hãy viết theo dạng YYYY-MM-DD, ví dụ 2026-12-31.",
            "Invalid date '{v}'; write it as YYYY-MM-DD, e.g. 2026-12-31.",
            v=value,
        ) from None


def deadline_window(due_after: str | None, due_before: str | None) -> tuple[datetime | None, datetime | None]:
    """Dossiers due on or after `due_after` and on or before `due_before`, days in Vietnam's
    time: [start of due_after, start of the day after due_before)."""
    after, before = _vietnamese_day("due_after", due_after), _vietnamese_day("due_before", due_before)
    if after and before and after > before:
        raise _bad(
            "due_before",
            "'due_before' ({b}) sớm hơn 'due_after' ({a}); hãy đổi lại hai ngày.",
            "'due_before' ({b}) is earlier than 'due_after' ({a}); swap the two dates.",
            a=after.isoformat(),
            b=before.isoformat(),
        )
    start = datetime.combine(after, time(), VIETNAM) if after else None
    end = datetime.combine(before + timedelta(days=1), time(), VIETNAM) if before else None
    return start, end


async def citizen_by_national_id(national_id: str) -> ObjectId | None:
    """The citizen holding this ID number, None when nobody does; a malformed number is a 422."""
    if national_id_problem(national_id):
        raise _bad(
            "national_id",
            "Số định danh phải gồm đúng 12 chữ số.",
            "A national ID number is exactly 12 digits.",
        )
    return await store.citizen_id_by_national_id(national_id)


def _narrowed(base: dict[str, Any], bounds: dict[str, Any], narrow: Narrowing) -> None:
    """Add the narrowing's equalities to `base` and tighten the due_at `bounds`, in place."""
    if narrow.code is not None:
        base["code"] = narrow.code
    if narrow.citizen_id is not None:
        base["citizen_id"] = narrow.citizen_id
    if narrow.due_from is not None:
        bounds["$gte"] = max(bounds.get("$gte", narrow.due_from), narrow.due_from)
    if narrow.due_until is not None:
        bounds["$lt"] = min(bounds.get("$lt", narrow.due_until), narrow.due_until)


def _within(value: datetime, bounds: dict[str, Any]) -> bool:
    checks = {"$lt": value.__lt__, "$lte": value.__le__, "$gt": value.__gt__, "$gte": value.__ge__}
    return all(checks[op](bound) for op, bound in bounds.items())


def worklist_queries(
    principal: Principal,
    status: str | None,
    service_code: str | None,
    deadline: str | None,
    cursor: str | None,
    narrow: Narrowing | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """The filters of one page (each sorted by ORDER, each one range of `index`), and the index."""
    base, index = _base_filter(principal, status, deadline)
    services = list(principal.service_codes)
    if service_code:
        services = [service_code] if service_code in services else []
    due_bounds: dict[str, Any] = dict(base.pop("due_at", {}))
    _narrowed(base, due_bounds, narrow or Narrowing())
    queries: list[dict[str, Any]] = []
    for service in services:
        scoped = {**base, "service_code": service}
        if cursor is None:
            queries.append({**scoped, "due_at": due_bounds} if due_bounds else scoped)
            continue
        due, last = decode_cursor(cursor)
        if _within(due, due_bounds):
            queries.append({**scoped, "due_at": due, "_id": {"$gt": last}})
        later = {op: bound for op, bound in due_bounds.items() if op in ("$lt", "$lte")}
        queries.append({**scoped, "due_at": {**later, "$gt": due}})
    return queries, index


async def agency_dossier(principal: Principal, code: str) -> Dossier:
    """One of the agency's dossiers by its code, asked with the agency (the dossiers' shard
    key, app/sharding.py) so a sharded cluster reads one shard. No hint: the unique index on
    `code` is the only one that fits."""
    raw = await store.agency_dossier(code, principal.agency_code)
    if raw is None or raw.get("service_code") not in principal.service_codes:
        # Another agency's dossier is indistinguishable from one that does not exist.
        raise not_found(DOSSIER)
    dossier: Dossier = Dossier.model_validate(raw)
    return dossier


async def worklist(
    principal: Principal,
    status: str | None,
    service_code: str | None,
    deadline: str | None,
    cursor: str | None,
    limit: int,
    narrow: Narrowing | None = None,
) -> Page[AgencyDossierOut]:
    queries, _ = worklist_queries(principal, status, service_code, deadline, cursor, narrow)
    rows, window = await read_page(queries, limit, window_hint(cursor))
    found = [Dossier.model_validate(raw) for raw in rows]
    last = rows[-1] if len(rows) == limit else None
    return Page(
        items=await with_applicants(principal, found),
        next_cursor=encode_cursor(last["due_at"], last["_id"], window) if last is not None else None,
    )


def _merged(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Pages each in (due_at, _id) order, merged in that order."""
    return list(heapq.merge(*pages, key=lambda raw: (raw["due_at"], raw["_id"])))


async def read_page(
    queries: list[dict[str, Any]], limit: int, hint: timedelta | None = None, *, now: datetime | None = None
) -> tuple[list[dict[str, Any]], timedelta]:
    """The first `limit` rows of a page's queries in (due_at, _id) order, and the width of the
    window the next page should start with. The cursor's ties (`due_at` equal) are read as
    they are; the ranges, which share their `due_at` bounds, a window at a time. Every row of
    a window comes before every row of the next, so the page is complete once it is full."""
    ties = [q for q in queries if isinstance(q.get("due_at"), datetime)]
    ranges = [q for q in queries if not isinstance(q.get("due_at"), datetime)]
    rows = _merged(await store.worklist_pages(ties, ORDER, limit)) if ties else []
    width = hint or FIRST_WINDOW
    if not ranges or len(rows) >= limit:  # (the cursor's ties alone may fill the page)
        return rows[:limit], width
    bounds: dict[str, Any] = dict(ranges[0].get("due_at", {}))
    upper: dict[str, Any] = {op: bounds.pop(op) for op in ("$lt", "$lte") if op in bounds}
    lower = bounds  # $gt / $gte, or nothing on a first page
    now = now or utcnow()
    start: datetime | None = next(iter(lower.values()), None)
    # A first page begins with everything already due (one window, however far back).
    end = now if start is None else start + width
    for number in range(1, MOST_WINDOWS + 1):
        # The last: the sixth, one past a year ahead, or one the range ends inside.
        last_window = number == MOST_WINDOWS or end - now > FAR_AHEAD or not _within(end, upper)
        window = {**lower, **upper} if last_window else {**lower, "$lt": end}
        windowed = [{**q, "due_at": window} if window else _without_due(q) for q in ranges]
        found = await store.worklist_pages(windowed, ORDER, limit)
        rows += _merged(found)
        if start is not None:  # (everything already due has no width to learn a density from)
            # Aim half as high again as the rows wanted: a window that falls short costs a
            # round trip, one that holds a little more costs the embedded store little.
            wanted = (limit - len(rows) if len(rows) < limit else limit) * 3 // 2
            width = _next_width(end - start, sum(len(page) for page in found), wanted)
        if len(rows) >= limit or last_window:
            break
        start, lower, end = end, {"$gte": end}, end + width
    return rows[:limit], width


def _without_due(query: dict[str, Any]) -> dict[str, Any]:
    return {field: value for field, value in query.items() if field != "due_at"}


def _next_width(span: timedelta, seen: int, wanted: int) -> timedelta:
    """The next window's width: `wanted` rows at the density of the last window, which held
    `seen` rows over `span` (at least that many: its queries stop at the limit)."""
    seconds = id_windows.next_width(int(span.total_seconds()), seen, wanted)
    return min(max(timedelta(seconds=seconds), NARROWEST_WINDOW), WIDEST_WINDOW)
