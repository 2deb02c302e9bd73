"""Retention: what the TTL indexes cannot enforce, done by a daily cron, and the table as the
citizen's export shows it. The lifetimes themselves are in models/retention.py, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from app.dossiers import attachments
from models.retention import LIFETIMES, UNATTACHED_UPLOAD_DAYS


async def enforce(now: datetime, citizen_ids: list[ObjectId] | None = None) -> dict[str, int]:
    """Delete what has outlived its rule; `citizen_ids` narrows it (the tests drive the clock)."""
    before = now - timedelta(days=UNATTACHED_UPLOAD_DAYS)
    return {"uploads": await attachments.purge_unattached(before, citizen_ids)}


def table() -> list[dict[str, Any]]:
    """The lifetimes, for the citizen's export."""
    return [
        {
            "kind": rule.kind,
            "kept_days": rule.days,
            "counted_from": rule.counted_from,
            "enforced_by": rule.enforced_by,
            "what": {"vi": rule.what_vi, "en": rule.what_en},
        }
        for rule in LIFETIMES
    ]
