"""Agencies' active webhook subscriptions remembered per API process, so an agency event (a
dossier submitted, a status changed) does not read them from the store each time
(decision 0031).

Every write to a subscription goes through app/webhooks/store.py, which forgets them here at
once and announces the change on a Redis channel every API process follows
(app/redis_channel.py), as the procedure and agency caches do. Remembered subscriptions are
trusted only while this process's subscription to the channel is up, and for no longer than
`TTL_SECONDS` in any case. A delivery made from a memory a moment stale is harmless: the
delivery job sends only for a subscription still active (app/webhooks/delivery.py).
"""

from __future__ import annotations

from typing import Any

from app.redis_channel import KeyedMemory, WholeMemoryChannel

TTL_SECONDS = 60.0

# Agency code → its active subscriptions' `_id` and `event_types` (a handful, capped per
# agency); an agency with none is remembered as such, the common case. One per process.
CACHE: KeyedMemory[list[dict[str, Any]]] = KeyedMemory(TTL_SECONDS)
# Every subscription write forgets every agency's: subscriptions change seldom.
CHANGES = WholeMemoryChannel(CACHE, "webhooks:changed", event="webhook_changes")
announce_changed = CHANGES.announce_changed
listen = CHANGES.listen
