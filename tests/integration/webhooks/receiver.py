"""An agency's webhook receiver for the tests: a small HTTP/1.1 server on the test's own event
loop (no process of its own), whose answers each path scripts: "ok" (200), a status code
("500", "410"), or "slow" (answers only after the sender's timeout has passed). A script's
steps are used in turn; its last step repeats."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: str


@dataclass
class Receiver:
    scripts: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None
    # Longer than WEBHOOK_TIMEOUT_SECONDS of the tests (1 s).
    slow_seconds: float = 3.0
    # Behind TLS: its URLs are https://localhost:<port>, served on `host` (where the address
    # check resolves `localhost` to).
    tls: ssl.SSLContext | None = None
    host: str = "127.0.0.1"
    # Chosen at the first start; a start after a stop listens on it again (an outage's end).
    bound_port: int = 0

    @property
    def port(self) -> int:
        assert self.bound_port, "not started"
        return self.bound_port

    def url(self, path: str, *script: str) -> str:
        self.scripts[path] = list(script) or ["ok"]
        if self.tls is not None:
            return f"https://localhost:{self.port}{path}"
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, self.host, self.bound_port, ssl=self.tls)
        self.bound_port = int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def _next_step(self, path: str) -> str:
        script = self.scripts.get(path, ["404"])
        return script.pop(0) if len(script) > 1 else script[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            step = self._next_step(path)
            self.received.append(Received(path, headers, body, step))
            if step == "slow":
                await asyncio.sleep(self.slow_seconds)
            status = 200 if step in ("ok", "slow") else int(step)
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, ssl.SSLError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    """One plain-HTTP receiver on the test loop for the whole module (each test its own paths)."""
    server = Receiver()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
