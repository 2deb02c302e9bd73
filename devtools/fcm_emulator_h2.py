"""HTTP/2 for the FCM emulator, on the same port as its HTTP/1.1 API.

FCM speaks HTTP/2 and firebase-admin's async client sends over HTTP/2: one connection carries
hundreds of concurrent sends. uvicorn speaks HTTP/1.1 only, so each connection's first bytes
decide: the HTTP/2 connection preface (prior knowledge, "h2c", as our sender uses towards an
http:// endpoint) goes to the small handler below, which answers the send call straight from
EmulatorState; anything else goes to uvicorn's own HTTP/1.1 protocol and the Litestar app
(control API, and the send call over HTTP/1.1).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from notifications.fcm_wire import error_body

if TYPE_CHECKING:
    from devtools.fcm_emulator_state import EmulatorState, SendAnswer

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SEND_PATH = re.compile(r"/v1/projects/([^/]+)/messages:send")
MAX_CONCURRENT_STREAMS = 1000


class H2SendProtocol(asyncio.Protocol):
    """One HTTP/2 connection: each stream is one FCM send call."""

    def __init__(self, state: EmulatorState, on_close: Callable[[H2SendProtocol], None] | None = None) -> None:
        self.state = state
        self.on_close = on_close
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8", validate_inbound_headers=False)
        )
        self.transport: asyncio.Transport | None = None
        self._requests: dict[int, tuple[dict[str, str], bytearray]] = {}
        # Answers waiting for the client to open its flow-control window.
        self._blocked: dict[int, bytes] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS})
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            self._close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                headers = {str(k): str(v) for k, v in event.headers or []}
                self._requests[event.stream_id] = (headers, bytearray())
            elif isinstance(event, h2.events.DataReceived):
                if event.stream_id in self._requests:
                    self._requests[event.stream_id][1].extend(event.data or b"")
                self.conn.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self._answer(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self._requests.pop(event.stream_id, None)
                self._blocked.pop(event.stream_id, None)
            elif isinstance(event, h2.events.WindowUpdated):
                self._send_blocked()
            elif isinstance(event, h2.events.ConnectionTerminated):
                self._close()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.on_close is not None:
            self.on_close(self)

    def shutdown(self) -> None:
        """uvicorn's graceful stop: say goodbye and close."""
        if self.transport is not None and not self.transport.is_closing():
            self.conn.close_connection()
            self._flush()
            self._close()

    def _answer(self, stream_id: int) -> None:
        headers, body = self._requests.pop(stream_id, ({}, bytearray()))
        match = SEND_PATH.fullmatch(headers.get(":path", "")) if headers.get(":method") == "POST" else None
        answer: SendAnswer | None = None
        if match is not None:
            answer = self.state.handle_send(match.group(1), headers, bytes(body), http_version="2")
            status, payload, extra = answer.status, answer.body, answer.headers
        else:
            status, payload, extra = 404, error_body(404, "NOT_FOUND", "Requested entity was not found."), {}
        latency = self.state.latency
        if latency > 0 and answer is not None:
            asyncio.get_running_loop().call_later(latency, self._respond, stream_id, status, payload, extra)
        else:
            self._respond(stream_id, status, payload, extra)

    def _respond(self, stream_id: int, status: int, payload: dict[str, Any], extra: dict[str, str]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        content = json.dumps(payload).encode()
        headers = [
            (":status", str(status)),
            ("content-type", "application/json; charset=UTF-8"),
            ("content-length", str(len(content))),
            *((name.lower(), value) for name, value in extra.items()),
        ]
        try:
            self.conn.send_headers(stream_id, headers)
        except h2.exceptions.StreamClosedError:
            return
        self._blocked[stream_id] = content
        self._send_blocked()
        self._flush()

    def _send_blocked(self) -> None:
        for stream_id, content in list(self._blocked.items()):
            try:
                if self.conn.local_flow_control_window(stream_id) < len(content):
                    continue
                self.conn.send_data(stream_id, content, end_stream=True)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                pass
            del self._blocked[stream_id]

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class SniffingProtocol(asyncio.Protocol):
    """Hands a new connection to HTTP/2 or to uvicorn's HTTP/1.1 protocol by its first bytes.

    Built by uvicorn (`Config(http=...)`) with the arguments it gives any HTTP protocol.
    """

    state: EmulatorState  # set on the subclass made by `sniffing_protocol`

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._args = (config, server_state, app_state, _loop)
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._inner: asyncio.Protocol | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)
            return
        self._buffer += data
        seen = self._buffer[: len(PREFACE)]
        if PREFACE.startswith(seen) and len(seen) < len(PREFACE):
            return  # not enough bytes to tell yet
        self._inner = self._h2() if seen == PREFACE else self._http11()
        assert self._transport is not None
        self._inner.connection_made(self._transport)
        buffered, self._buffer = self._buffer, b""
        self._inner.data_received(buffered)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def _h2(self) -> H2SendProtocol:
        connections: set[Any] = self._args[1].connections
        protocol = H2SendProtocol(self.state, on_close=connections.discard)
        # uvicorn's graceful shutdown closes what it finds in server_state.connections.
        connections.add(protocol)
        return protocol

    def _http11(self) -> asyncio.Protocol:
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        config, server_state, app_state, loop = self._args
        return AutoHTTPProtocol(config=config, server_state=server_state, app_state=app_state, _loop=loop)  # type: ignore[call-arg]


def sniffing_protocol(state: EmulatorState) -> type[SniffingProtocol]:
    """The protocol class to give uvicorn as `http=`: HTTP/2 sends answered from `state`."""
    return type("EmulatorProtocol", (SniffingProtocol,), {"state": state})
