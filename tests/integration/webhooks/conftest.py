"""Fixtures of the webhook suite: one receiver on the test loop for the whole module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.webhooks.receiver import Receiver


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
