"""A local SMS provider for `make run` and the tests, speaking what notifications/sms.py sends.

SMS_API_KEY=... python -m devtools.sms_emulator --host 127.0.0.1 --port 8789

POST /messages              {to, text, reference} with `Authorization: Bearer <SMS_API_KEY>`
                            → 201 {id, parts}; 401 with another key; 400 for a text that is
                            not one GSM-7 part (what real gateways bill as several or refuse)
GET  /emulator/health
GET  /emulator/messages?to= every message accepted, oldest first
POST /emulator/failures     {count, status} the next `count` sends answer `status` (503 if
                            unset), as a provider outage does
"""

# No `from __future__ import annotations`: Litestar reads the handlers' annotations.

import argparse
import itertools
import os
import sys
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromQuery, JSONBody

from notifications.sms import GSM7, SMS_PART


class MessageIn(msgspec.Struct):
    to: str
    text: str
    reference: str


class FailuresIn(msgspec.Struct):
    count: int
    status: int = 503


class EmulatorState:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.messages: list[dict[str, Any]] = []
        self.failures: list[int] = []
        self.ids = itertools.count(1)


def _state(request: Request[Any, Any, Any]) -> EmulatorState:
    state: EmulatorState = request.app.state.sms
    return state


def _json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(content=body, status_code=status, media_type="application/json")


@get("/emulator/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@post("/messages", status_code=201)
async def send(request: Request[Any, Any, Any], data: JSONBody[MessageIn]) -> Response[Any]:
    state = _state(request)
    if request.headers.get("authorization") != f"Bearer {state.api_key}":
        return _json(401, {"error": "bad_key"})
    if state.failures:
        return _json(state.failures.pop(0), {"error": "unavailable"})
    if len(data.text) > SMS_PART or any(c not in GSM7 for c in data.text):
        return _json(400, {"error": "not_one_gsm7_part"})
    message = {"id": f"sms-{next(state.ids)}", "to": data.to, "text": data.text, "reference": data.reference}
    state.messages.append(message)
    return _json(201, {"id": message["id"], "parts": 1})


@get("/emulator/messages")
async def messages(request: Request[Any, Any, Any], to: FromQuery[str | None] = None) -> dict[str, Any]:
    return {"messages": [m for m in _state(request).messages if to is None or m["to"] == to]}


@post("/emulator/failures", status_code=200)
async def failures(request: Request[Any, Any, Any], data: JSONBody[FailuresIn]) -> dict[str, int]:
    _state(request).failures.extend([data.status] * data.count)
    return {"pending_failures": len(_state(request).failures)}


def create_emulator_app(api_key: str) -> Litestar:
    app = Litestar(route_handlers=[health, send, messages, failures], debug=False)
    app.state.sms = EmulatorState(api_key)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.sms_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8789)
    args = parser.parse_args(argv)
    # The key comes from the environment, never the command line (which `ps` shows).
    api_key = os.environ.get("SMS_API_KEY")
    if not api_key:
        print("SMS_API_KEY is not set", file=sys.stderr)
        return 2
    uvicorn.run(create_emulator_app(api_key), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
