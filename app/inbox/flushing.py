"""Outboxes flushed by one mechanism at the end of each request, not by each controller.

A service that writes an outbox entry (in the same atomic update as the change) calls
`owed(model, id, keys)`, naming the entries it wrote; that only notes them in a per-request
buffer (a contextvar). The `FlushOwedOutboxes` middleware opens the buffer when a request
comes in and, once the handler has finished, turns what it holds into notifications and
queued pushes (app/inbox/outbox.py) just before the response leaves, so a 2xx still means
"the notice is in the inbox and its push is queued", as when each controller flushed by hand
(decision 0023).

A writer that holds the document as it wrote it passes it as `document`: the flush works
from it instead of reading it again. Every step of a flush is safe to repeat
(app/inbox/outbox.py), so an entry another flush (a racing copy of the request, the sweeper)
has already turned into its notification meanwhile is only found again, never doubled. The
document keeps its earlier entries (decision 0032): only the ones named are flushed.

Outside a request (a worker job, the CLI) there is no buffer and `owed` does nothing: those
callers flush themselves, and the sweeper (workers/push_jobs.py) remains the backstop for
anything a crash left behind (app/inbox/outbox_sweep.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

import structlog
from arq import ArqRedis
from beanie import Document
from bson import ObjectId
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.inbox import store
from app.inbox.outbox import flush
from models.catalogue import ServiceData

log = structlog.get_logger(__name__)

# (collection model, document id) → the keys of the entries written, the procedure, the
# document as last written and the owner's guardians, when the writer already holds them.
Known = tuple[frozenset[str], ServiceData | None, dict[str, Any] | None, list[ObjectId] | None]
Owed = dict[tuple[type[Document], Any], Known]
_owed: ContextVar[Owed | None] = ContextVar("outbox_owed", default=None)


def owed(
    model: type[Document],
    document_id: ObjectId | None,
    keys: Iterable[str],
    service: ServiceData | None = None,
    document: dict[str, Any] | None = None,
    guardians: list[ObjectId] | None = None,
) -> None:
    """Note that `model`'s document `document_id` holds the outbox entries `keys`, to flush after this request."""
    buffer = _owed.get()
    if buffer is not None and document_id is not None:
        known_keys, known_service, known_document, known_guardians = buffer.get(
            (model, document_id), (frozenset(), None, None, None)
        )
        buffer[(model, document_id)] = (
            known_keys | frozenset(keys),
            service or known_service,
            document or known_document,
            guardians if guardians is not None else known_guardians,
        )


def pushed_entries(update: dict[str, Any]) -> list[dict[str, Any]]:
    """The outbox entries an update's `$push` adds (one entry, or `$each`)."""
    pushed = update.get("$push", {}).get("outbox")
    if pushed is None:
        return []
    entries: list[dict[str, Any]] = pushed.get("$each", [pushed])
    return entries


def pushed_keys(update: dict[str, Any]) -> list[str]:
    return [str(entry["key"]) for entry in pushed_entries(update)]


async def flush_owed(pool: ArqRedis) -> int:
    """Flush every outbox entry the request wrote; returns how many notifications were queued."""
    buffer = _owed.get()
    if not buffer:
        return 0
    items = list(buffer.items())
    buffer.clear()
    queued = 0
    for (model, document_id), (keys, service, written, guardians) in items:
        if not keys:
            continue
        try:
            raw = written if written is not None and written.get("outbox") else None
            raw = raw or await store.document(model, document_id)
            if raw is None:
                continue  # deleted meanwhile (the account closed)
            queued += len(await flush(model, raw, pool, service, guardians, keys=keys))
        except Exception:
            # The change is stored with its entry: the sweeper finishes it (app/inbox/outbox_sweep.py).
            log.exception("outbox.flush_failed", collection=model.get_collection_name())
    return queued


class FlushOwedOutboxes(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = _owed.set({})
        pool: ArqRedis = scope["litestar_app"].state.queue_pool

        async def flush_then_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await flush_owed(pool)
            await send(message)

        try:
            await next_app(scope, receive, flush_then_send)
        finally:
            # A handler that never answered (the client went away) still owes its pushes.
            await flush_owed(pool)
            _owed.reset(token)
