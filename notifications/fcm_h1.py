"""A minimal HTTP/1.1 keep-alive client for one FCM send URL: POST a body, read the answer.

Why not aiohttp any longer: with firebase-admin's message built once per distinct message and
aiohttp's session stripped of what FCM does not need (no cookie jar, no automatic headers, no
decompression, one sender per connection), aiohttp's per-request Python was still 40 % of the
broadcasting worker's CPU, 210-250 µs a message on the shared machine (decision 16, section
"fan-out per worker core, the direct sender's cost per message cut"): a request object, a
response object, a writer task, a payload lookup, header merging and a read timer rescheduled
on every chunk, for a request whose bytes never change but for the body. This sends those
bytes itself and parses the answer with httptools (llhttp, the C parser uvicorn uses); what
it does not do, FCM never asks for: no redirects, no cookies, no compression, no proxies, no
chunked request bodies. Decision 25's addendum says why owning it was the choice.

One connection carries one request at a time (no pipelining); `limit` connections at most;
an idle connection the far end closed is dropped when its close is seen, and a request that
went out on one just as it closed fails with `ClosedBeforeAnswer` (the caller sends it once
more, notifications/fcm_direct.py).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools


class ClosedBeforeAnswer(ConnectionError):
    """The connection was closed or reset after the request went out and before any answer."""


class CouldNotConnect(ConnectionError):
    """No connection could be opened (refused, unreachable, TLS handshake failed): nothing sent."""


class BadAnswer(ConnectionError):
    """The far end's bytes are not an HTTP/1.1 answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Connection(asyncio.Protocol):
    """One kept-alive connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Answer] | None = None
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(BadAnswer(f"not an HTTP/1.1 answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ClosedBeforeAnswer(f"connection closed before the answer: {exc!r}"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self._parser.should_keep_alive()
        answer = Answer(self._parser.get_status_code(), self._headers, b"".join(self._body))
        self._headers, self._body = [], []
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    async def exchange(self, request: bytes, seconds: float) -> Answer:
        assert self.transport is not None
        waiter: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self.transport.write(request)
        async with asyncio.timeout(seconds):
            return await waiter

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Http1Pool:
    """POSTs to one URL over at most `limit` kept-alive HTTP/1.1 connections (TLS for https)."""

    def __init__(self, url: str, *, limit: int, timeout_seconds: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._ssl = ssl.create_default_context()
            self._ssl.set_alpn_protocols(["http/1.1"])
        host = self._host if parts.port is None else f"{self._host}:{parts.port}"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self._request_line = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n".encode("latin-1")
        self._timeout = timeout_seconds
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []
        self._head: tuple[dict[str, str], bytes] | None = None

    def _head_for(self, headers: dict[str, str]) -> bytes:
        """The request line and headers, encoded once per header set (a new token: anew)."""
        if self._head is None or self._head[0] != headers:
            lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            self._head = (dict(headers), self._request_line + lines.encode("latin-1"))
        return self._head[1]

    async def post(self, body: bytes, headers: dict[str, str], *, fresh: bool = False) -> Answer:
        """`fresh`: on a new connection, not a kept-alive one (a resend after `ClosedBeforeAnswer`:
        the other idle ones may have been closed by the same idle timeout)."""
        request = b"%bContent-Length: %d\r\n\r\n%b" % (self._head_for(headers), len(body), body)
        async with self._slots:
            connection = await self._connection(fresh)
            try:
                answer = await connection.exchange(request, self._timeout)
            except BaseException:
                connection.close()  # its answer may still come: never reuse it
                raise
            if connection.reusable and not connection.closed:
                self._idle.append(connection)
            else:
                connection.close()
            return answer

    async def _connection(self, fresh: bool) -> _Connection:
        while self._idle and not fresh:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                _, connection = await loop.create_connection(
                    _Connection,
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None,
                )
        except TimeoutError:  # an OSError too, but it stays a timeout (DEADLINE_EXCEEDED)
            raise
        except OSError as exc:
            raise CouldNotConnect(f"{type(exc).__name__}: {exc}") from exc
        return connection

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
