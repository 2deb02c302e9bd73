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
"""

from __future__ import annotations

import asyncio
import base64
import heapq
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from app.dossiers import deadlines
from app.dossiers.events import with_applicants
from app.dossiers.schemas import AgencyDossierOut
from app.dossiers.service import DOSSIER
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.pagination import Page
from app.security import Principal
from models.common import utcnow
from models.dossier import Dossier
from models.dossier_status import DossierStatus

DEADLINE_STATES = ("on_track", "at_risk", "overdue", "paused")
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


def encode_cursor(due_at: datetime, dossier_id: Any) -> str:
    # Whole milliseconds, as BSON keeps them, computed without floating point.
    millis = (due_at.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)
    raw = f"{millis}:{dossier_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, ObjectId]:
    try:
        millis, _, oid = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        return EPOCH + timedelta(milliseconds=int(millis)), ObjectId(oid)
    except (ValueError, InvalidId, UnicodeDecodeError):
        raise _bad(
            "cursor",
            "Con trỏ trang không hợp lệ; hãy bỏ nó để đọc từ đầu.",
            "Invalid cursor; omit it to start from the first page.",
        ) from None


def _base_filter(principal: Principal, status: str | None, deadline: str | None) -> tuple[dict[str, Any], str]:
    """The equality fields (and a deadline state's due_at range), and the index they lead."""
    query: dict[str, Any] = {"agency_code": principal.agency_code}
    index = INDEX_BY_FILTER["none"]
    if status:
        try:
            query["status"] = DossierStatus(status).value
        except ValueError:
            raise _bad(
                "status",
                "Trạng thái '{s}' không tồn tại. Các trạng thái: {all}.",
                "Unknown status '{s}'. Statuses: {all}.",
                s=status,
                all=", ".join(s.value for s in DossierStatus),
            ) from None
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


def _within(value: datetime, bounds: dict[str, Any]) -> bool:
    checks = {"$lt": value.__lt__, "$lte": value.__le__, "$gt": value.__gt__, "$gte": value.__ge__}
    return all(checks[op](bound) for op, bound in bounds.items())


def worklist_queries(
    principal: Principal, status: str | None, service_code: str | None, deadline: str | None, cursor: str | None
) -> tuple[list[dict[str, Any]], str]:
    """The filters of one page (each sorted by ORDER, each one range of `index`), and the index."""
    base, index = _base_filter(principal, status, deadline)
    services = list(principal.service_codes)
    if service_code:
        services = [service_code] if service_code in services else []
    due_bounds: dict[str, Any] = dict(base.pop("due_at", {}))
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
    raw = await Dossier.get_pymongo_collection().find_one({"code": code, "agency_code": principal.agency_code})
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
) -> Page[AgencyDossierOut]:
    queries, _ = worklist_queries(principal, status, service_code, deadline, cursor)
    collection = Dossier.get_pymongo_collection()
    pages = await asyncio.gather(*(collection.find(q, sort=ORDER, limit=limit).to_list() for q in queries))
    # Each page is in (due_at, _id) order already: merge them and keep the first `limit`.
    merged = list(heapq.merge(*pages, key=lambda raw: (raw["due_at"], raw["_id"])))[:limit]
    found = [Dossier.model_validate(raw) for raw in merged]
    last = merged[-1] if len(merged) == limit else None
    return Page(
        items=await with_applicants(principal, found),
        next_cursor=encode_cursor(last["due_at"], last["_id"]) if last is not None else None,
    )
