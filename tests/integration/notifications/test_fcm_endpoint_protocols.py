"""A push test server of one's own at FCM_ENDPOINT gets the pushes whatever HTTP it speaks,
with the sender's default settings: HTTP/1.1 only, or HTTP/2 in clear (the emulator); and
FCM itself is reached over TLS, whose certificate each transport checks."""

from __future__ import annotations

import json
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from notifications.fcm import TRANSPORTS, FcmSender
from notifications.push import Push
from tests.integration.tls import self_signed, server_context

PROJECT = "cwallet-h1"


class _Http11Only(BaseHTTPRequestHandler):
    """An FCM stand-in that speaks HTTP/1.1 only (the stdlib server answers HTTP/2's preface
    with 505 and closes), and keeps every send request it understood."""

    protocol_version = "HTTP/1.1"
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        self.received.append({"path": self.path, "version": self.request_version, "message": body["message"]})
        answer = json.dumps({"name": f"projects/{PROJECT}/messages/{uuid.uuid4().hex}"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _serving(base: type[_Http11Only], tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in of class `base` on a free port, in a thread (behind TLS with `tls`, named
    `localhost` as a certificate names a host); its URL and what it received."""
    received: list[dict[str, Any]] = []
    handler = type("Handler", (base,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name=f"fcm-{base.__name__}", daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield (f"https://localhost:{port}" if tls else f"http://127.0.0.1:{port}"), received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def http11_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with _serving(_Http11Only) as served:
        yield served


def _pushes(count: int) -> list[Push]:
    return [
        Push(
            token=f"h1-{uuid.uuid4().hex}", title="t", body="b", data={"notification_id": f"n{i}"}, collapse_id=f"n{i}"
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_http11_only_server_receives_every_push_once_with_default_settings(
    http11_server: tuple[str, list[dict[str, Any]]], transport: str
) -> None:
    url, received = http11_server
    first, later = _pushes(20), _pushes(5)
    async with FcmSender(PROJECT, None, url, app_name=f"h1-{uuid.uuid4().hex}", transport=transport) as sender:
        # The first contact is twenty sends at once: each is delivered, none twice.
        outcomes = await sender.send(first)
        assert [o.kind for o in outcomes] == ["sent"] * 20
        # Later sends go straight over HTTP/1.1.
        assert [o.kind for o in await sender.send(later)] == ["sent"] * 5
    tokens = [r["message"]["token"] for r in received]
    assert sorted(tokens) == sorted(p.token for p in first + later)
    assert {r["version"] for r in received} == {"HTTP/1.1"}
    assert {r["path"] for r in received} == {f"/v1/projects/{PROJECT}/messages:send"}


async def test_the_emulator_still_gets_http2_in_clear_with_default_settings(
    stack_env: dict[str, str], emulator: httpx.AsyncClient
) -> None:
    pushes = _pushes(3)
    async with FcmSender(
        stack_env["FCM_PROJECT_ID"], None, stack_env["FCM_ENDPOINT"], app_name=f"h2-{uuid.uuid4().hex}"
    ) as sender:
        assert [o.kind for o in await sender.send(pushes)] == ["sent"] * 3
    for push in pushes:
        answer = await emulator.get("/emulator/attempts", params={"token": push.token})
        [attempt] = answer.json()["attempts"]
        assert attempt["http_version"] == "2"


class _ClosesKeptAliveConnections(_Http11Only):
    """Answers the first request of each connection and keeps it open, then closes it on the
    next request without answering: a far end whose idle timeout fell as a request went out."""

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()  # the first request: answered, the connection kept
        self.close_connection = False
        self.raw_requestline = self.rfile.readline(65537)  # the next one: read, then dropped


async def test_the_direct_transport_sends_again_once_when_a_kept_alive_connection_was_closed() -> None:
    with _serving(_ClosesKeptAliveConnections) as (url, received):
        async with FcmSender(PROJECT, None, url, app_name=f"ka-{uuid.uuid4().hex}", transport="direct") as sender:
            first = await sender.send(_pushes(4))
            # Every connection in the pool is now one the server will drop on its next request.
            again = _pushes(4)
            outcomes = await sender.send(again)
    assert [o.kind for o in first] == ["sent"] * 4
    assert [o.kind for o in outcomes] == ["sent"] * 4
    assert sorted(r["message"]["token"] for r in received[4:]) == sorted(p.token for p in again)


async def test_the_resend_goes_on_a_new_connection_not_another_kept_alive_one() -> None:
    """Four connections kept alive, all closed by the far end's idle timeout: one push finds the
    first closed, and its one resend must not take the next kept-alive one, closed just the same."""
    with _serving(_ClosesKeptAliveConnections) as (url, _):
        async with FcmSender(PROJECT, None, url, app_name=f"ka-{uuid.uuid4().hex}", transport="direct") as sender:
            first = await sender.send(_pushes(4))
            [outcome] = await sender.send(_pushes(1))
    assert [o.kind for o in first] == ["sent"] * 4
    assert outcome.kind == "sent"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, list[dict[str, Any]], Path]]:
    """An HTTP/1.1 stand-in behind TLS (ALPN http/1.1, as a server without HTTP/2 offers);
    its URL, what it received, and its certificate."""
    cert_file, key_file = self_signed(tmp_path)
    with _serving(_Http11Only, tls=server_context(cert_file, key_file)) as (url, received):
        yield url, received, cert_file


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_https_endpoint_gets_the_pushes_over_tls_with_its_certificate_checked(
    tls_server: tuple[str, list[dict[str, Any]], Path], transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fcm.googleapis.com is https: each transport sends over TLS, names the host (SNI) and
    checks the certificate against the trusted ones (here the test's own, as a system would
    trust Google's through its CA bundle)."""
    url, received, cert_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    pushes = _pushes(6)
    async with FcmSender(PROJECT, None, url, app_name=f"tls-{uuid.uuid4().hex}", transport=transport) as sender:
        outcomes = await sender.send(pushes)
    assert [o.kind for o in outcomes] == ["sent"] * 6
    assert sorted(r["message"]["token"] for r in received) == sorted(p.token for p in pushes)
    assert {r["path"] for r in received} == {f"/v1/projects/{PROJECT}/messages:send"}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_endpoint_whose_certificate_is_not_trusted_gets_nothing(
    tls_server: tuple[str, list[dict[str, Any]], Path], transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same server, its certificate not among the trusted ones (someone in the middle):
    no push is handed over, and none is counted as sent."""
    url, received, _ = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with FcmSender(PROJECT, None, url, app_name=f"mitm-{uuid.uuid4().hex}", transport=transport) as sender:
        outcomes = await sender.send(_pushes(3))
    assert "sent" not in {o.kind for o in outcomes}
    assert received == []
