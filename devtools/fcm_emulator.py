"""The project's local FCM emulator: FCM HTTP v1's send call, plus a control API for tests.

    python -m devtools.fcm_emulator --host 127.0.0.1 --port 8787 --project-id cwallet-local

It answers `POST /v1/projects/{id}/messages:send` the way FCM does (auth, project, message
shape, FCM's error bodies), keeps what it accepted, and can be told to fail a token.
The send call is served over HTTP/1.1 and over HTTP/2 with prior knowledge (h2c), on the
same port (devtools/fcm_emulator_h2.py), as firebase-admin's async client speaks HTTP/2.

Control API (JSON), for tests and the dev stack:
    GET    /emulator/health
    GET    /emulator/messages?token=    accepted messages, oldest first
    GET    /emulator/attempts?token=    every send attempt, accepted or not
    GET    /emulator/counts?detail=     accepted messages per token (kept in both modes)
    DELETE /emulator/messages           forget everything, faults included
    PUT    /emulator/tokens/{token}     {"error": CODE, "times": n|null, "retry_after": s|null}
    DELETE /emulator/tokens/{token}     clear that token's fault
    PUT    /emulator/settings           {"latency": s, "record": "full"|"counts"}

`record: counts` keeps only a counter per token (no message copies, no attempt log): what a
broadcast to 100,000 devices needs. `latency` delays every send answer (after the message is
accepted), so a test can kill a worker while its sends are in flight.
"""

# No `from __future__ import annotations`: Litestar reads the handlers' annotations.

import argparse
import asyncio
import socket
import sys
import threading
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
import uvicorn
from litestar import Litestar, Request, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody

from devtools.fcm_emulator_h2 import sniffing_protocol
from devtools.fcm_emulator_state import DEFAULT_QUOTA_RETRY_AFTER, EmulatorState, SendAnswer

__all__ = ["DEFAULT_QUOTA_RETRY_AFTER", "EmulatorState", "SendAnswer", "create_emulator_app", "make_server"]


class FaultIn(msgspec.Struct, forbid_unknown_fields=True):
    error: str
    times: Annotated[int, msgspec.Meta(ge=1)] | None = None
    retry_after: Annotated[int, msgspec.Meta(ge=0)] | None = None


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    latency: Annotated[float, msgspec.Meta(ge=0, le=60)] | None = None
    record: Literal["full", "counts"] | None = None


# --- HTTP -----------------------------------------------------------------------------------


def _emulator(request: Request[Any, Any, Any]) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, headers=dict(headers or {}))


@post("/v1/projects/{project_id:str}/messages:send", status_code=200)
async def send_message(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[Any]:
    raw = await request.body()
    state = _emulator(request)
    answer = state.handle_send(project_id, request.headers, raw, request.scope.get("http_version", "1.1"))
    if state.latency > 0:
        await asyncio.sleep(state.latency)
    return _json(answer.status, answer.body, answer.headers)


@get("/emulator/health")
async def health(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"status": "ok", "project_id": _emulator(request).project_id}


@get("/emulator/messages")
async def list_messages(request: Request[Any, Any, Any], token: FromQuery[str | None] = None) -> dict[str, Any]:
    return {"messages": _emulator(request).messages(token)}


@get("/emulator/attempts")
async def list_attempts(request: Request[Any, Any, Any], token: FromQuery[str | None] = None) -> dict[str, Any]:
    return {"attempts": _emulator(request).attempts(token)}


@get("/emulator/counts")
async def list_counts(request: Request[Any, Any, Any], detail: FromQuery[bool] = False) -> dict[str, Any]:
    return _emulator(request).counts(detail)


@put("/emulator/settings", status_code=200)
async def change_settings(request: Request[Any, Any, Any], data: JSONBody[SettingsIn]) -> dict[str, Any]:
    state = _emulator(request)
    if data.latency is not None:
        state.latency = data.latency
    if data.record is not None:
        state.record = data.record
    return {"latency": state.latency, "record": state.record}


@delete("/emulator/messages", status_code=204)
async def reset(request: Request[Any, Any, Any]) -> None:
    _emulator(request).reset()


@put("/emulator/tokens/{token:str}", status_code=200)
async def set_fault(request: Request[Any, Any, Any], token: FromPath[str], data: JSONBody[FaultIn]) -> dict[str, Any]:
    try:
        _emulator(request).set_fault(token, data.error, data.times, data.retry_after)
    except ValueError as exc:
        raise ValidationException(str(exc)) from None
    return {"token": token, "error": data.error, "times": data.times, "retry_after": data.retry_after}


@delete("/emulator/tokens/{token:str}", status_code=204)
async def clear_fault(request: Request[Any, Any, Any], token: FromPath[str]) -> None:
    _emulator(request).clear_fault(token)


def create_emulator_app(
    project_id: str, expected_bearer: str | None = None, *, record: str = "full", latency: float = 0.0
) -> Litestar:
    """The emulator as an ASGI app; its state is `emulator_state(app)`."""
    return Litestar(
        route_handlers=[
            send_message,
            health,
            list_messages,
            list_attempts,
            list_counts,
            change_settings,
            reset,
            set_fault,
            clear_fault,
        ],
        state=State({"emulator": EmulatorState(project_id, expected_bearer, record=record, latency=latency)}),
        openapi_config=None,
        # Leave the host process's logging alone (tests import this in-process).
        logging_config=None,
    )


def emulator_state(app: Litestar) -> EmulatorState:
    state: EmulatorState = app.state.emulator
    return state


# --- running it -----------------------------------------------------------------------------


class EmulatorServer(uvicorn.Server):
    """uvicorn server that knows its bound port and says once when it is listening."""

    def __init__(self, config: uvicorn.Config, *, announce: bool = False) -> None:
        super().__init__(config)
        self.announce = announce
        self.ready = threading.Event()
        self.port: int | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        self.port = self.servers[0].sockets[0].getsockname()[1]
        if self.announce:
            print(f"fcm-emulator listening on http://{self.config.host}:{self.port}", flush=True)
        self.ready.set()


def make_server(
    host: str,
    port: int,
    project_id: str,
    expected_bearer: str | None = None,
    *,
    announce: bool = False,
    log_level: str = "warning",
    record: str = "full",
    latency: float = 0.0,
) -> EmulatorServer:
    app = create_emulator_app(project_id, expected_bearer, record=record, latency=latency)
    # HTTP/2 (prior knowledge) and HTTP/1.1 on one port: the first bytes decide.
    protocol = sniffing_protocol(emulator_state(app))
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on", http=protocol)
    return EmulatorServer(config, announce=announce)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.fcm_emulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    parser.add_argument("--project-id", default="cwallet-local")
    parser.add_argument("--bearer", default=None, help="accept only this bearer token (default: any non-empty one)")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument(
        "--record", choices=["full", "counts"], default="full", help="counts: a counter per token, no copies"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every send answer waits")
    args = parser.parse_args(argv)
    server = make_server(
        args.host,
        args.port,
        args.project_id,
        args.bearer,
        announce=True,
        log_level=args.log_level,
        record=args.record,
        latency=args.latency,
    )
    server.run()  # uvicorn picks uvloop when installed
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
