"""How each firebase-admin error becomes a PushOutcome."""

import email.utils
import json

import httpx
import pytest
from firebase_admin import exceptions, messaging

from notifications.fcm import outcome_from_error, outcome_from_response, parse_retry_after
from notifications.fcm_wire import Violation, error_body, fcm_error_body


def response(status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


def fcm_response(code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    status, body = fcm_error_body(code)
    return response(status, body, headers)


def test_success() -> None:
    ok = messaging.SendResponse({"name": "projects/p/messages/1"}, None)
    outcome = outcome_from_response("t", ok)
    assert outcome.kind == "sent"
    assert outcome.message_name == "projects/p/messages/1"


def test_unregistered() -> None:
    exc = messaging.UnregisteredError("gone", http_response=fcm_response("UNREGISTERED"))
    outcome = outcome_from_response("t", messaging.SendResponse(None, exc))
    assert (outcome.kind, outcome.error_code) == ("unregistered", "UNREGISTERED")


def test_not_found_without_fcm_code_is_not_a_dead_token() -> None:
    # 404 for a wrong project must never prune every token.
    exc = exceptions.NotFoundError("no project", http_response=response(404, {}))
    assert outcome_from_error("t", exc).kind == "failed"


def test_invalid_token() -> None:
    exc = exceptions.InvalidArgumentError("bad", http_response=fcm_response("INVALID_ARGUMENT"))
    outcome = outcome_from_error("t", exc)
    assert (outcome.kind, outcome.error_code) == ("invalid_token", "INVALID_ARGUMENT")


def test_invalid_payload_keeps_the_token() -> None:
    body = error_body(
        400,
        "INVALID_ARGUMENT",
        "bad",
        fcm_code="INVALID_ARGUMENT",
        violations=[Violation("message.data[0].value", "not a string")],
    )
    exc = exceptions.InvalidArgumentError("bad", http_response=response(400, body))
    assert outcome_from_error("t", exc).kind == "failed"
    token_body = error_body(400, "INVALID_ARGUMENT", "bad", violations=[Violation("message.token", "bad token")])
    exc = exceptions.InvalidArgumentError("bad", http_response=response(400, token_body))
    assert outcome_from_error("t", exc).kind == "invalid_token"


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (messaging.QuotaExceededError("q", http_response=fcm_response("QUOTA_EXCEEDED")), "QUOTA_EXCEEDED"),
        (exceptions.UnavailableError("u", http_response=fcm_response("UNAVAILABLE")), "UNAVAILABLE"),
        (exceptions.InternalError("i", http_response=fcm_response("INTERNAL")), "INTERNAL"),
        (exceptions.UnavailableError("connect", cause=httpx.ConnectError("refused")), "UNAVAILABLE"),
        (exceptions.DeadlineExceededError("slow", cause=httpx.ReadTimeout("t")), "DEADLINE_EXCEEDED"),
        (exceptions.UnknownError("proto", cause=httpx.RemoteProtocolError("x")), "UNKNOWN"),
    ],
)
def test_retryable(exc: exceptions.FirebaseError, code: str) -> None:
    outcome = outcome_from_error("t", exc)
    assert (outcome.kind, outcome.error_code, outcome.retry_after_seconds) == ("retryable", code, None)


def test_retry_after_header_in_seconds() -> None:
    exc = messaging.QuotaExceededError("q", http_response=fcm_response("QUOTA_EXCEEDED", {"Retry-After": "2"}))
    assert outcome_from_error("t", exc).retry_after_seconds == 2.0


def test_other_errors_fail_with_their_code() -> None:
    exc = messaging.SenderIdMismatchError("m", http_response=fcm_response("SENDER_ID_MISMATCH"))
    outcome = outcome_from_error("t", exc)
    assert (outcome.kind, outcome.error_code) == ("failed", "SENDER_ID_MISMATCH")
    exc2 = exceptions.UnauthenticatedError("who", http_response=response(401, {}))
    assert outcome_from_error("t", exc2).error_code == "UNAUTHENTICATED"


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 3 ") == 3.0
    assert parse_retry_after("1.5") == 1.5
    now = 1_750_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
