"""`cwallet keys`: rotation from the command line, listing without any private part."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import httpx


async def cwallet(stack_env: dict[str, str], *args: str) -> Any:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


async def test_rotate_and_list_from_the_command_line(api: httpx.AsyncClient, stack_env: dict[str, str]) -> None:
    before = (await api.get("/.well-known/jwks.json")).json()["keys"]
    rotated = await cwallet(stack_env, "keys", "rotate")
    listed = await cwallet(stack_env, "keys", "list")

    states = {k["kid"]: k["state"] for k in listed}
    assert states[rotated["kid"]] == "active"
    assert all(states[k["kid"]] == "retired" for k in before)
    assert set(rotated["retired"]) <= set(states)
    text = json.dumps(listed)
    assert "private" not in text and "sealed" not in text
    # Published at once, and the old keys stay published.
    after = (await api.get("/.well-known/jwks.json")).json()["keys"]
    assert {k["kid"] for k in after} == {k["kid"] for k in before} | {rotated["kid"]}
