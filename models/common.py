"""Small helpers shared by the documents."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware UTC now, cut to the millisecond BSON stores: a value we answer with before and
    after a round trip through the store is then the same value."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
