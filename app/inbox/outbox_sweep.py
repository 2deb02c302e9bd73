"""The sweeper: what a crash left half-done, finished without a person (decision 0032).

Outbox entries stay in their documents once flushed (app/inbox/outbox.py), so the sweeper
cannot look for entries "still there". It walks them by the time they were made instead, from
a mark stored where its last run stopped, one slice of time per read: an entry whose
notification is missing (a notification carries its entry's `created_at`, so one range read
of each says which) is flushed again, and an agency event with someone listening has its
deliveries made if they are missing. Each entry is looked at once, `OUTBOX_SETTLE` after it
was made, by which time the write that carried it has committed or failed (decision 0032 says
what is left to an operator).

Pending notifications whose job has gone missing (Redis lost it, or it was never queued) are
queued again, as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from arq import ArqRedis
from beanie import Document

from app.inbox import store
from app.inbox.outbox import flush
from app.queue import enqueue_notification
from app.webhooks.fanout import has_listeners
from models.common import utcnow
from models.dossier import Dossier
from models.support import SupportLookup
from models.wallet import WalletDocument
from models.webhook import AGENCY_EVENT

log = structlog.get_logger(__name__)

MODELS: tuple[type[Document], ...] = (Dossier, WalletDocument, SupportLookup)
# An entry is made before the write that carries it commits; a minute covers any write but
# one the store keeps for longer after its sender died (decision 0032).
OUTBOX_SETTLE = timedelta(seconds=60)
# With no mark yet (a new store, or one from before decision 0032, where entries left their
# documents once flushed), the first run looks this far back.
FIRST_LOOK_BACK = timedelta(days=1)
# A slice's length adapts to what it holds: a read of a few hundred documents at most holds
# the single-threaded embedded store for a short while, and a quiet night takes few reads.
SLICE_MIN, SLICE_START, SLICE_MAX = timedelta(seconds=1), timedelta(seconds=10), timedelta(hours=1)
SLICE_FEW, SLICE_MANY = 100, 400


async def sweep(pool: ArqRedis, *, older_than: timedelta, batch: int = 500) -> dict[str, int]:
    """Finish what a crash left half-done: outbox entries whose notification was never made,
    and pending notifications whose job has gone missing."""
    now = utcnow()
    counts = {"outbox": await sweep_outboxes(pool, now - max(older_than, OUTBOX_SETTLE)), "requeued": 0}
    async for notification_id in store.pending_ids(now - older_than, batch):
        # The job id dedupes: a notification whose job is still queued or deferred is not doubled.
        if await enqueue_notification(pool, str(notification_id)):
            counts["requeued"] += 1
    return counts


async def sweep_outboxes(pool: ArqRedis, cutoff: datetime) -> int:
    """Look at every entry made between the mark and `cutoff`; the notifications made for them."""
    since = await store.outbox_sweep_mark() or cutoff - FIRST_LOOK_BACK
    span = SLICE_START
    made = 0
    while since < cutoff:
        until = min(since + span, cutoff)
        seen, finished = await _sweep_slice(pool, since, until)
        made += finished
        await store.move_outbox_sweep_mark(until)
        since = until
        if seen > SLICE_MANY:
            span = max(SLICE_MIN, span / 2)
        elif seen < SLICE_FEW:
            span = min(SLICE_MAX, span * 2)
    if made:
        log.info("outbox_swept", notifications=made)
    return made


async def _sweep_slice(pool: ArqRedis, since: datetime, until: datetime) -> tuple[int, int]:
    """Documents with an entry made in [since, until), and the notifications made for them."""
    found = [(model, raw) for model in MODELS for raw in await store.outbox_entries_between(model, since, until)]
    notices = any(e["kind"] != AGENCY_EVENT for _, raw in found for e in _made_in(raw, since, until))
    # An empty slice (most of a first run's look back) needs no read of the notifications.
    told = await store.notification_keys_between(since, until) if notices else set()
    made = 0
    for model, raw in found:
        owed = [entry for entry in _made_in(raw, since, until) if await _unfinished(raw, entry, told)]
        if any(entry["kind"] != AGENCY_EVENT for entry in owed) and await store.account_closed(raw["citizen_id"]):
            # Closed in the minute before this look: its notifications were deleted with it,
            # and are not made again. The agency still hears of its dossier.
            owed = [entry for entry in owed if entry["kind"] == AGENCY_EVENT]
        if not owed:
            continue
        document = await store.document(model, raw["_id"])
        if document is not None:
            made += len(await flush(model, document, pool, keys={e["key"] for e in owed}, again=True))
    return len(found), made


def _made_in(raw: dict[str, Any], since: datetime, until: datetime) -> list[dict[str, Any]]:
    return [entry for entry in raw.get("outbox") or [] if since <= entry["created_at"] < until]


async def _unfinished(raw: dict[str, Any], entry: dict[str, Any], told: set[str]) -> bool:
    """A notice without its notification (guardians' copies are made before it, so its
    existence says they are there too); an agency event of an agency with subscriptions,
    whose deliveries the flush then makes only where they are missing."""
    if entry.get("kind") == AGENCY_EVENT:
        return await has_listeners(raw.get("agency_code"))
    return entry["key"] not in told
