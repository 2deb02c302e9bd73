"""The project's local FCM emulator: FCM HTTP v1's send call, plus a control API for tests.

    python -m notifications.emulator --host 127.0.0.1 --port 8787 --project-id cwallet-local

It answers `POST /v1/projects/{id}/messages:send` the way FCM does (auth, project, message
shape, FCM's error bodies), keeps what it accepted, and can be told to fail a token.
Control API (JSON), for tests and the dev stack:
    GET    /emulator/health
    GET    /emulator/messages?token=    accepted messages, oldest first
    GET    /emulator/attempts?token=    every send attempt, accepted or not
    DELETE /emulator/messages           forget everything, faults included
    PUT    /emulator/tokens/{token}     {"error": CODE, "times": n|null, "retry_after": s|null}
    DELETE /emulator/tokens/{token}     clear that token's fault
"""

# No `from __future__ import annotations`: Litestar reads the handlers' annotations.

import argparse
import asyncio
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import uvicorn
from litestar import Litestar, Request, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody

from notifications.fcm_wire import FCM_ERRORS, Violation, check_send_request, error_body

# Request headers worth keeping with each message, for tests to look at.
RECORDED_HEADERS = (
    "authorization",
    "content-type",
    "x-goog-api-format-version",
    "x-firebase-client",
    "x-goog-api-client",
    "user-agent",
)
# FCM sends Retry-After with QUOTA_EXCEEDED; this is ours when a fault names none.
DEFAULT_QUOTA_RETRY_AFTER = 60


@dataclass
class _Fault:
    error: str
    remaining: int | None  # None: forever
    retry_after: int | None


class FaultIn(msgspec.Struct, forbid_unknown_fields=True):
    error: str
    times: Annotated[int, msgspec.Meta(ge=1)] | None = None
    retry_after: Annotated[int, msgspec.Meta(ge=0)] | None = None


class SendAnswer(msgspec.Struct, frozen=True):
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class EmulatorState:
    """Everything the emulator knows; safe to read from another thread."""

    def __init__(self, project_id: str, expected_bearer: str | None = None) -> None:
        self.project_id = project_id
        self.expected_bearer = expected_bearer
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._attempts: list[dict[str, Any]] = []
        self._faults: dict[str, _Fault] = {}

    def messages(self, token: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self._messages if token is None or m["token"] == token]

    def attempts(self, token: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [a for a in self._attempts if token is None or a["token"] == token]

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._attempts.clear()
            self._faults.clear()

    def set_fault(self, token: str, error: str, times: int | None = None, retry_after: int | None = None) -> None:
        if error not in FCM_ERRORS:
            raise ValueError(f"error must be one of {sorted(FCM_ERRORS)}")
        with self._lock:
            self._faults[token] = _Fault(error, times, retry_after)

    def clear_fault(self, token: str) -> bool:
        with self._lock:
            return self._faults.pop(token, None) is not None

    def handle_send(self, project_id: str, headers: Mapping[str, str], raw: bytes) -> SendAnswer:
        """Answer one send request the way FCM would, and record the attempt."""
        now = time.time()
        kept = {name: headers[name] for name in RECORDED_HEADERS if name in headers}
        try:
            body: object = json.loads(raw)
            parsed = True
        except ValueError:
            body, parsed = None, False
        # Known even when the request is refused, so attempts can be filtered by token.
        token = _target(body)
        with self._lock:
            answer = self._authorize(project_id, headers.get("authorization", ""))
            if answer is None and not parsed:
                answer = _invalid(Violation("", "Invalid JSON payload received."))
            if answer is None:
                violation = check_send_request(body)
                if violation is not None:
                    answer = _invalid(violation)
            if answer is None:
                assert isinstance(body, dict)
                message: dict[str, Any] = body["message"]
                answer = self._fault_answer(token) or self._accept(message, bool(body.get("validate_only")), kept, now)
            error = answer.body.get("error")
            self._attempts.append(
                {
                    "token": token,
                    "received_at": now,
                    "outcome": _outcome(answer, body),
                    "http_status": answer.status,
                    "error_code": _error_code(error) if error else None,
                    "name": answer.body.get("name"),
                    "headers": kept,
                }
            )
            return answer

    def _authorize(self, project_id: str, authorization: str) -> SendAnswer | None:
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return SendAnswer(
                401,
                error_body(
                    401,
                    "UNAUTHENTICATED",
                    "Request is missing required authentication credential. Expected OAuth 2 "
                    "access token, login cookie or other valid authentication credential.",
                ),
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        if self.expected_bearer is not None and credential != self.expected_bearer:
            return SendAnswer(
                401,
                error_body(
                    401,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.",
                ),
                {},
            )
        if project_id != self.project_id:
            return SendAnswer(404, error_body(404, "NOT_FOUND", "Requested entity was not found."), {})
        return None

    def _fault_answer(self, token: str | None) -> SendAnswer | None:
        fault = self._faults.get(token) if token is not None else None
        if fault is None or token is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[token]
        http_status, status, message = FCM_ERRORS[fault.error]
        headers: dict[str, str] = {}
        retry_after = fault.retry_after
        if retry_after is None and fault.error == "QUOTA_EXCEEDED":
            retry_after = DEFAULT_QUOTA_RETRY_AFTER
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return SendAnswer(http_status, error_body(http_status, status, message, fcm_code=fault.error), headers)

    def _accept(self, message: dict[str, Any], validate_only: bool, headers: dict[str, str], now: float) -> SendAnswer:
        if validate_only:
            # FCM checks but does not deliver, and answers with a fixed fake name.
            name = f"projects/{self.project_id}/messages/fake_message_id"
            return SendAnswer(200, {"name": name}, {})
        name = f"projects/{self.project_id}/messages/{uuid.uuid4().int % 10**19:019d}"
        notification = message.get("notification") or {}
        self._messages.append(
            {
                "name": name,
                "token": _target({"message": message}),
                "received_at": now,
                "title": notification.get("title"),
                "body": notification.get("body"),
                "data": message.get("data") or {},
                "android_collapse_key": (message.get("android") or {}).get("collapse_key"),
                "apns_collapse_id": ((message.get("apns") or {}).get("headers") or {}).get("apns-collapse-id"),
                "message": message,
                "headers": headers,
            }
        )
        return SendAnswer(200, {"name": name}, {})


def _target(body: object) -> str | None:
    """The device a request is for: a registration token or, newer, an installation id (fid)."""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        return None
    target = message.get("token") or message.get("fid")
    return target if isinstance(target, str) else None


def _invalid(violation: Violation) -> SendAnswer:
    message = violation.description or "Request contains an invalid argument."
    return SendAnswer(
        400,
        error_body(400, "INVALID_ARGUMENT", message, fcm_code="INVALID_ARGUMENT", violations=[violation]),
        {},
    )


def _error_code(error: dict[str, Any]) -> str:
    for detail in error.get("details", []):
        if "errorCode" in detail:
            return str(detail["errorCode"])
    return str(error.get("status"))


def _outcome(answer: SendAnswer, body: object) -> str:
    if answer.status != 200:
        return "rejected"
    if isinstance(body, dict) and body.get("validate_only"):
        return "validated"
    return "accepted"


# --- HTTP -----------------------------------------------------------------------------------


def _emulator(request: Request[Any, Any, Any]) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, headers=dict(headers or {}))


@post("/v1/projects/{project_id:str}/messages:send", status_code=200)
async def send_message(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[Any]:
    raw = await request.body()
    answer = _emulator(request).handle_send(project_id, request.headers, raw)
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


def create_emulator_app(project_id: str, expected_bearer: str | None = None) -> Litestar:
    """The emulator as an ASGI app; its state is `emulator_state(app)`."""
    return Litestar(
        route_handlers=[send_message, health, list_messages, list_attempts, reset, set_fault, clear_fault],
        state=State({"emulator": EmulatorState(project_id, expected_bearer)}),
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
) -> EmulatorServer:
    app = create_emulator_app(project_id, expected_bearer)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on")
    return EmulatorServer(config, announce=announce)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m notifications.emulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    parser.add_argument("--project-id", default="cwallet-local")
    parser.add_argument("--bearer", default=None, help="accept only this bearer token (default: any non-empty one)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.project_id, args.bearer, announce=True, log_level=args.log_level)
    asyncio.run(server.serve())
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
