"""What the FCM emulator knows: accepted messages, attempts, faults per token, and how it
answers one send call the way FCM does. Safe to read from another thread; the HTTP/1.1 app
(devtools/fcm_emulator.py) and the HTTP/2 handler (devtools/fcm_emulator_h2.py) share it."""

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

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


class SendAnswer(msgspec.Struct, frozen=True):
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class EmulatorState:
    """Everything the emulator knows; safe to read from another thread."""

    def __init__(
        self, project_id: str, expected_bearer: str | None = None, *, record: str = "full", latency: float = 0.0
    ) -> None:
        self.project_id = project_id
        self.expected_bearer = expected_bearer
        # "full": every message and attempt kept; "counts": a counter per token only.
        self.record = record
        # Seconds every send answer waits, after the message is accepted.
        self.latency = latency
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._attempts: list[dict[str, Any]] = []
        self._faults: dict[str, _Fault] = {}
        self._accepted: Counter[str] = Counter()
        self._rejected = 0

    def counts(self, detail: bool = False) -> dict[str, Any]:
        """Accepted messages per token: totals, and the per-token map when `detail`."""
        with self._lock:
            answer: dict[str, Any] = {
                "messages": sum(self._accepted.values()),
                "tokens": len(self._accepted),
                "max_per_token": max(self._accepted.values(), default=0),
                "rejected": self._rejected,
            }
            if detail:
                answer["per_token"] = dict(self._accepted)
            return answer

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
            self._accepted.clear()
            self._rejected = 0

    def set_fault(self, token: str, error: str, times: int | None = None, retry_after: int | None = None) -> None:
        if error not in FCM_ERRORS:
            raise ValueError(f"error must be one of {sorted(FCM_ERRORS)}")
        with self._lock:
            self._faults[token] = _Fault(error, times, retry_after)

    def clear_fault(self, token: str) -> bool:
        with self._lock:
            return self._faults.pop(token, None) is not None

    def handle_send(
        self, project_id: str, headers: Mapping[str, str], raw: bytes, http_version: str = "1.1"
    ) -> SendAnswer:
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
            if answer.status != 200:
                self._rejected += 1
            if self.record == "full":
                self._attempts.append(
                    {
                        "token": token,
                        "received_at": now,
                        "outcome": _outcome(answer, body),
                        "http_status": answer.status,
                        "error_code": _error_code(error) if error else None,
                        "name": answer.body.get("name"),
                        "headers": kept,
                        "http_version": http_version,
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
        token = _target({"message": message})
        self._accepted[token or ""] += 1
        if self.record != "full":
            return SendAnswer(200, {"name": name}, {})
        notification = message.get("notification") or {}
        self._messages.append(
            {
                "name": name,
                "token": token,
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
