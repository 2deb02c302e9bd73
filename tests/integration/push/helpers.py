"""Waiting on the worker and reading what the emulator received."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
# How long to wait for the worker before calling it a failure: a deadline, not a speed check.
DEADLINE_SECONDS = 30.0


async def wait_for(
    check: Callable[[], Awaitable[T | None]], what: str, deadline: float = DEADLINE_SECONDS, every: float = 0.1
) -> T:
    """Poll `check` until it returns something truthy; fail saying `what` did not happen."""
    end = time.monotonic() + deadline
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline:.0f} s")
        await asyncio.sleep(every)


async def messages(emulator: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    answer = await emulator.get("/emulator/messages", params={"token": token})
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["messages"]
    return found


async def attempts(emulator: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    answer = await emulator.get("/emulator/attempts", params={"token": token})
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["attempts"]
    return found


async def received(emulator: httpx.AsyncClient, token: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until `token` has at least `count` messages; return them."""

    async def check() -> list[dict[str, Any]] | None:
        found = await messages(emulator, token)
        return found if len(found) >= count else None

    return await wait_for(check, f"{count} push(es) to {token}")
