"""Writes to one collection from concurrent requests, sent to the store together.

A store's cost is mostly per command: on the embedded store an insert of one dossier costs
1.30 ms of its CPU, one of sixteen in an `insert_many` 0.68 ms, and sixteen updates in one
`bulk_write` 1.65 ms each against 2.05 alone (decision 0016, 2026-12-03); MongoDB also saves
the round trips and journal commits. So a request does not send its write alone when others
are on their way: the first write goes at once; the ones that arrive while it is with the
store wait for it and then go together, in one unordered `bulk_write`, and so on (a group
commit). A quiet process waits for nothing; a busy one sends fewer, larger commands. Each
caller still learns its own write's fate: nothing, or the exception its own `insert_one` or
`update_one` would have raised (DuplicateKeyError for its duplicate key, whatever the others
met).

Only writes whose result the caller does not read (an insert, an update it does not count)
are grouped: today new dossiers, notifications and access records (decision 0032 took the
outbox's `$pull` away). The groups are per process, collection and event loop; a write is never held
once its command is answered, so nothing waits in memory when the process stops but the
commands in flight, as with single writes.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from beanie import Document
from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteConcernError

DUPLICATE_KEY = 11000
# A bound on one command's size: the requests of a group wait for the whole of it.
MAX_GROUP = 64

Write = InsertOne[Any] | UpdateOne


class GroupedWrites:
    def __init__(self, model: type[Document], max_group: int = MAX_GROUP) -> None:
        self._model = model
        self._max_group = max_group
        # Futures and tasks belong to one event loop (a test run opens several).
        self._groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Group] = weakref.WeakKeyDictionary()

    async def write(self, operation: Write) -> None:
        """Send `operation` with the others waiting; raise what its own command would have."""
        loop = asyncio.get_running_loop()
        group = self._groups.get(loop)
        if group is None:
            group = self._groups[loop] = _Group()
        future: asyncio.Future[None] = loop.create_future()
        group.waiting.append((operation, future))
        if group.sender is None or group.sender.done():
            group.sender = asyncio.create_task(self._send_all(group))
        try:
            # A caller that goes away does not take its neighbours' command with it, nor its
            # own write: that was handed over, as an insert_one's would have been.
            await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(_forget_outcome)
            raise

    async def _send_all(self, group: _Group) -> None:
        while group.waiting:
            batch, group.waiting = group.waiting[: self._max_group], group.waiting[self._max_group :]
            try:
                failures = await self._failures_of(batch)
            except asyncio.CancelledError:  # the loop is closing: nobody is left to wait
                for _, future in batch + group.waiting:
                    future.cancel()
                raise
            except Exception as exc:  # a reply this module could not read: no caller waits for ever
                failures = dict.fromkeys(range(len(batch)), exc)
            for index, (_, future) in enumerate(batch):
                if future.done():
                    continue
                if index in failures:
                    future.set_exception(failures[index])
                else:
                    future.set_result(None)

    async def _failures_of(self, batch: list[tuple[Write, asyncio.Future[None]]]) -> dict[int, BaseException]:
        """What each write of the batch met, by its index (none: stored)."""
        try:
            await self._model.get_pymongo_collection().bulk_write([op for op, _ in batch], ordered=False)
        except BulkWriteError as exc:
            return _per_write(exc, len(batch))
        except Exception as exc:  # the command as a whole: each caller meets it, as with its own write
            return dict.fromkeys(range(len(batch)), exc)
        return {}


def _forget_outcome(future: asyncio.Future[None]) -> None:
    """Nobody awaits it any more: take its exception, so asyncio does not log it as lost."""
    if not future.cancelled():
        future.exception()


class _Group:
    def __init__(self) -> None:
        self.waiting: list[tuple[Write, asyncio.Future[None]]] = []
        self.sender: asyncio.Task[None] | None = None


def _per_write(exc: BulkWriteError, size: int) -> dict[int, BaseException]:
    """What each write of an unordered bulk_write met, as its own command would raise it."""
    failures: dict[int, BaseException] = {}
    for error in exc.details.get("writeErrors", []):
        kind = DuplicateKeyError if error.get("code") == DUPLICATE_KEY else OperationFailure
        failures[int(error["index"])] = kind(error.get("errmsg", ""), error.get("code"), error)
    concern = exc.details.get("writeConcernErrors") or []
    if concern:
        # Written, but not known to be as durable as asked: every write not refused says so.
        for index in range(size):
            failures.setdefault(index, WriteConcernError(concern[0].get("errmsg", ""), concern[0].get("code")))
    return failures


_BY_MODEL: dict[type[Document], GroupedWrites] = {}


def of(model: type[Document]) -> GroupedWrites:
    """The process's group for `model`'s collection (shared by every module that writes it)."""
    grouped = _BY_MODEL.get(model)
    if grouped is None:
        grouped = _BY_MODEL[model] = GroupedWrites(model)
    return grouped
