"""The store commands this test process sends, for tests that assert what a request asked of
the store (which collections, which filters, how many commands): the `store_commands`
fixture.

One PyMongo command listener, registered when this module is imported: tests/integration/
conftest.py imports the fixture from here, so every client the tests or the in-process app
make reports to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from pymongo import monitoring

RECORDED = frozenset({"find", "aggregate", "insert", "update", "delete"})


class Command(NamedTuple):
    name: str
    collection: str
    # A find's filter; each statement's query of an update or a delete; none for the rest.
    filters: list[dict[str, Any]]


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.armed = False
        self.commands: list[Command] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if not self.armed or name not in RECORDED:
            return
        command = event.command
        if name == "find":
            filters = [dict(command.get("filter", {}))]
        elif name in ("update", "delete"):
            filters = [dict(s["q"]) for s in command.get(f"{name}s", [])]
        else:
            filters = []
        self.commands.append(Command(name, str(command[name]), filters))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


LOG = CommandLog()
monitoring.register(LOG)


@pytest.fixture
def store_commands() -> Iterator[list[Command]]:
    """The commands sent during the test (a live list: clear it to start again)."""
    LOG.commands.clear()
    LOG.armed = True
    try:
        yield LOG.commands
    finally:
        LOG.armed = False
