"""What the emulator never does but FCM's front end may: a chunked answer, an answer that
closes its connection, headers the caller reads (Retry-After) -- against a raw HTTP/1.1
server on a local port."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from notifications.fcm_h1 import Http1Pool

pytestmark = pytest.mark.asyncio


class RawServer:
    """Answers each request with the next canned answer; counts connections and requests."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                found = re.search(rb"(?i)content-length: (\d+)", head)
                body = await reader.readexactly(int(found.group(1)) if found else 0)
                self.requests.append((head, body))
                answer = self.answers.pop(0)
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[object]:
    servers: list[asyncio.Server] = []

    async def start(raw: RawServer) -> str:
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1/projects/p/messages:send"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def chunked(status: str, body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%b\r\n" % (len(part), part) for part in (body[:half], body[half:]))
    return f"HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n{head}\r\n".encode() + chunks + b"0\r\n\r\n"


async def test_a_chunked_answer_is_read_whole_and_its_connection_kept(serve: object) -> None:
    raw = RawServer([chunked("200 OK", b'{"name": "projects/p/messages/1"}')] * 2)
    pool = Http1Pool(await serve(raw), limit=4, timeout_seconds=5)  # type: ignore[operator]
    first = await pool.post(b'{"message": {}}', {"authorization": "Bearer a"})
    second = await pool.post(b'{"message": {}}', {"authorization": "Bearer a"})
    await pool.aclose()
    assert (first.status, first.body) == (200, b'{"name": "projects/p/messages/1"}')
    assert second.body == first.body
    assert raw.connections == 1
    head, body = raw.requests[0]
    assert head.startswith(b"POST /v1/projects/p/messages:send HTTP/1.1\r\n")
    assert b"authorization: Bearer a\r\n" in head and body == b'{"message": {}}'


async def test_an_answer_that_closes_its_connection_is_read_and_the_next_request_opens_another(
    serve: object,
) -> None:
    closing = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    raw = RawServer([closing, chunked("200 OK", b"{}")])
    pool = Http1Pool(await serve(raw), limit=4, timeout_seconds=5)  # type: ignore[operator]
    refused = await pool.post(b"{}", {"authorization": "Bearer a"})
    after = await pool.post(b"{}", {"authorization": "Bearer b"})
    await pool.aclose()
    assert (refused.status, dict(refused.headers)["Retry-After"], refused.body) == (429, "7", b"{}")
    assert after.status == 200
    assert raw.connections == 2
    assert b"authorization: Bearer b\r\n" in raw.requests[1][0]
