"""A local payment provider for `make run` and the tests, in the manner of VNPay-style gateways.

    PAYMENT_SECRET=... python -m devtools.payment_simulator --host 127.0.0.1 --port 8788

The merchant (us) sends the citizen to a signed pay link; the provider checks the signature,
takes the payment and calls the merchant's notify URL back with a body signed by HMAC-SHA256
(`X-Signature: sha256=<hex>`), carrying a timestamp and a fresh nonce. Control API (JSON):
    GET  /simulator/health
    GET  /pay?merchant=&reference=&amount=&notify_url=&signature=   open a checkout (the pay page)
    POST /simulator/checkouts/{reference}/pay   {"outcome": "paid"|"failed", "reason"?}
                                                pay (or fail) and call the merchant back
    GET  /simulator/callbacks?reference=        every callback sent, oldest first, with the answer
    POST /simulator/callbacks/{index}/resend    send a callback again, byte for byte (a replay)
"""

# No `from __future__ import annotations`: Litestar reads the handlers' annotations.

import argparse
import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import msgspec
import uvicorn
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.payments.signing import SIGNATURE_HEADER, pay_link_message, sign, signature_header


@dataclass
class Checkout:
    reference: str
    amount_vnd: int
    notify_url: str
    status: str = "awaiting_payment"


@dataclass
class SentCallback:
    reference: str
    url: str
    body: bytes
    headers: dict[str, str]
    answers: list[dict[str, Any]] = field(default_factory=list)


class SimulatorState:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.checkouts: dict[str, Checkout] = {}
        self.callbacks: list[SentCallback] = []


class PayIn(msgspec.Struct):
    outcome: Literal["paid", "failed"] = "paid"
    reason: str | None = None


def _state(request: Request[Any, Any, Any]) -> SimulatorState:
    state: SimulatorState = request.app.state.simulator
    return state


def _json(status: int, body: Any) -> Response[Any]:
    return Response(body, status_code=status, media_type="application/json")


@get("/simulator/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/pay")
async def open_checkout(
    request: Request[Any, Any, Any],
    merchant: FromQuery[str],
    reference: FromQuery[str],
    amount: FromQuery[int],
    notify_url: FromQuery[str],
    signature: FromQuery[str],
) -> Response[Any]:
    state = _state(request)
    params = {"merchant": merchant, "reference": reference, "amount": str(amount), "notify_url": notify_url}
    if sign(state.secret, pay_link_message(params)) != signature:
        return _json(400, {"error": "bad_signature", "message": "The pay link's signature does not match its query."})
    with state.lock:
        checkout = state.checkouts.setdefault(reference, Checkout(reference, amount, notify_url))
    return _json(
        200,
        {
            "reference": checkout.reference,
            "amount_vnd": checkout.amount_vnd,
            "status": checkout.status,
            "pay": f"/simulator/checkouts/{reference}/pay",
        },
    )


async def _deliver(callback: SentCallback) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(callback.url, content=callback.body, headers=callback.headers)
        result: dict[str, Any] = {"status_code": answer.status_code, "body": answer.text[:2000]}
    except httpx.HTTPError as exc:
        result = {"status_code": None, "error": type(exc).__name__}
    callback.answers.append(result)
    return result


@post("/simulator/checkouts/{reference:str}/pay")
async def pay(request: Request[Any, Any, Any], reference: FromPath[str], data: JSONBody[PayIn]) -> Response[Any]:
    state = _state(request)
    with state.lock:
        checkout = state.checkouts.get(reference)
    if checkout is None:
        return _json(404, {"error": "no_checkout", "message": "Open the pay link first (GET /pay?...)."})
    body: dict[str, Any] = {
        "reference": reference,
        "transaction_id": f"SIM-{secrets.token_hex(6).upper()}",
        "status": data.outcome,
        "amount_vnd": checkout.amount_vnd,
        "timestamp": int(time.time()),
        "nonce": secrets.token_hex(16),
    }
    if data.reason:
        body["reason"] = data.reason
    raw = msgspec.json.encode(body)
    callback = SentCallback(
        reference=reference,
        url=checkout.notify_url,
        body=raw,
        headers={"content-type": "application/json", SIGNATURE_HEADER: signature_header(state.secret, raw)},
    )
    with state.lock:
        state.callbacks.append(callback)
        index = len(state.callbacks) - 1
        if data.outcome == "paid":
            checkout.status = "paid"
    answer = await _deliver(callback)
    return _json(200, {"index": index, "callback": body, "answer": answer})


@get("/simulator/callbacks")
async def list_callbacks(request: Request[Any, Any, Any], reference: FromQuery[str | None] = None) -> dict[str, Any]:
    state = _state(request)
    with state.lock:
        found = [
            {"index": n, "reference": c.reference, "body": msgspec.json.decode(c.body), "answers": c.answers}
            for n, c in enumerate(state.callbacks)
            if reference is None or c.reference == reference
        ]
    return {"callbacks": found}


@post("/simulator/callbacks/{index:int}/resend", status_code=200)
async def resend(request: Request[Any, Any, Any], index: FromPath[int]) -> Response[Any]:
    state = _state(request)
    with state.lock:
        callback = state.callbacks[index] if 0 <= index < len(state.callbacks) else None
    if callback is None:
        return _json(404, {"error": "no_callback"})
    return _json(200, {"index": index, "answer": await _deliver(callback)})


def create_simulator_app(secret: str) -> Litestar:
    app = Litestar(route_handlers=[health, open_checkout, pay, list_callbacks, resend], debug=False)
    app.state.simulator = SimulatorState(secret)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.payment_simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    args = parser.parse_args(argv)
    # The secret comes from the environment, never the command line (which `ps` shows).
    secret = os.environ.get("PAYMENT_SECRET")
    if not secret:
        print("PAYMENT_SECRET is not set", file=sys.stderr)
        return 2
    uvicorn.run(create_simulator_app(secret), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
