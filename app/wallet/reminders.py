"""Expiry reminders: 30 and 7 days before a document's last valid day, once each.

The reminder is owed by the same atomic update that records it as sent (the embedded outbox,
docs/decisions/0002), so running the job twice, or on two workers, reminds nobody twice.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from arq import ArqRedis

from app.inbox.outbox import flush
from app.wallet import store
from models.dossier import OutboxEntry
from models.wallet import WalletDocument

# Days ahead, largest first. A document found inside a smaller window gets only that one.
THRESHOLDS = (30, 7)


def threshold_for(days_left: int) -> int | None:
    """The reminder owed `days_left` days before the last valid day (0 = it is today)."""
    if days_left < 0:
        return None
    owed = [t for t in THRESHOLDS if days_left <= t]
    return min(owed) if owed else None


async def send_expiry_reminders(pool: ArqRedis, today: date, batch: int = 1000) -> dict[str, int]:
    """Owe and queue every reminder due on `today` (Vietnam's date) that was not owed yet."""
    horizon = today + timedelta(days=max(THRESHOLDS))
    counts = {"checked": 0, "reminded": 0}
    query: dict[str, Any] = {
        "status": "valid",
        "renewal_pending": {"$ne": True},
        "valid_until": {"$gte": today.isoformat(), "$lte": horizon.isoformat()},
    }
    async for raw in store.expiring(query, batch):
        counts["checked"] += 1
        days_left = (date.fromisoformat(raw["valid_until"]) - today).days
        threshold = threshold_for(days_left)
        if threshold is None or threshold in (raw.get("reminders_sent") or []):
            continue
        notice = OutboxEntry(key=f"document:{raw['_id']}:expiring:{threshold}", kind="document_expiring")
        updated = await store.update_document_after(
            {"_id": raw["_id"], "status": "valid", "reminders_sent": {"$ne": threshold}},
            {"$addToSet": {"reminders_sent": threshold}, "$push": {"outbox": notice.model_dump()}},
        )
        if updated is not None:
            await flush(WalletDocument, updated, pool, keys=[notice.key])
            counts["reminded"] += 1
    return counts
