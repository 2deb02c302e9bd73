"""A seeded history whose figures are known by construction.

Each dossier is written straight into the store with the history it would have had, and
beside it the test's own record of what it should count as (`Truth`): the processing days
there are counted by hand on the calendar, not by the code under test.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from models.common import utcnow
from models.dossier import Dossier
from models.working_days import VIETNAM, is_working_day


def vn(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM).astimezone(UTC)


@dataclass
class Truth:
    """What one seeded dossier must count as."""

    service: str
    received_day: str
    assisted: bool = False
    resolved_day: str | None = None
    processing_days: int | None = None
    on_time: bool | None = None
    rejected: bool = False
    supplement: bool = False
    in_wallet: bool = False
    paid_day: str | None = None
    rating_day: str | None = None
    score: int | None = None


def raw_dossier(
    agency: str,
    service: str,
    *,
    submitted: datetime,
    moves: Iterable[tuple[str, datetime]] = (),
    due: datetime,
    clock: dict[str, Any],
    citizen_id: ObjectId | None = None,
    **extra: Any,
) -> dict[str, Any]:
    history = [{"status": "submitted", "at": submitted, "actor": "citizen"}]
    history += [{"status": s, "at": at, "actor": f"agency:{agency}"} for s, at in moves]
    return {
        "_id": ObjectId(),
        "code": f"HS-SEED-{secrets.token_hex(4).upper()}",
        "citizen_id": citizen_id or ObjectId(),
        "service_code": service,
        "agency_code": agency,
        "status": history[-1]["status"],
        "form": {},
        "delivery": {"method": "online", "address": None, "postage_fee_vnd": 0},
        "submitted_at": submitted,
        "due_at": due,
        "clock": {
            "state": "not_started",
            "received_at": None,
            "paused_at": None,
            "waiting_for": [],
            "paused_working_days": 0,
            "stopped_at": None,
            **clock,
        },
        "pauses": [],
        # None keeps the overdue sweeper away from seeded dossiers unless a test wants it.
        "late_after": None,
        "apologies": [],
        "history": history,
        "attachments": [],
        "supplement": None,
        "payment": None,
        "shipment": None,
        "rating": None,
        "result_document_id": None,
        "event_ids": [],
        "outbox": [],
        # As the app's insert stamps it: the rollup finds new dossiers by it.
        "changed_at": utcnow(),
        "rev": 1,
        **extra,
    }


async def insert(*dossiers: dict[str, Any]) -> None:
    await Dossier.get_pymongo_collection().insert_many(list(dossiers))


def working_days_ago(now: datetime, count: int) -> datetime:
    """A moment `count` working days before now (same time of day), stepping back on the calendar."""
    moment = now.astimezone(VIETNAM)
    counted = 0
    while counted < count:
        moment -= timedelta(days=1)
        if is_working_day(moment.date()):
            counted += 1
    return moment.astimezone(UTC)


def expected_rows(truths: Iterable[Truth], bucket: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """The indicators per (period label, procedure), counted from the truths: `bucket` maps a
    Vietnamese day to its period label, or None when the day is outside the range."""
    counts: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: defaultdict(int) | {"days": []}  # type: ignore[operator]
    )
    for t in truths:
        if (label := bucket(t.received_day)) is not None:
            row = counts[(label, t.service)]
            row["received"] += 1
            row["assisted" if t.assisted else "filed_online"] += 1
        if t.resolved_day and (label := bucket(t.resolved_day)) is not None:
            row = counts[(label, t.service)]
            row["resolved"] += 1
            row["resolved_on_time"] += bool(t.on_time)
            row["rejected"] += t.rejected
            row["supplement"] += t.supplement
            row["results_in_wallet"] += t.in_wallet
            row["days"].append(t.processing_days)
        if t.paid_day and (label := bucket(t.paid_day)) is not None:
            counts[(label, t.service)]["paid_online"] += 1
        if t.rating_day and (label := bucket(t.rating_day)) is not None:
            row = counts[(label, t.service)]
            row["rating_count"] += 1
            row["rating_sum"] += t.score or 0
    return counts
