"""The emulator's rules, checked in-process: auth, project, message shape, faults, records."""

import json
from typing import Any

import pytest

from devtools.fcm_emulator import DEFAULT_QUOTA_RETRY_AFTER, EmulatorState
from notifications.fcm_wire import BAD_REQUEST_TYPE, FCM_ERROR_TYPE, check_send_request

AUTH = {"authorization": "Bearer local-fcm-token", "content-type": "application/json"}


def message(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "token": "tok-1",
        "notification": {"title": "T", "body": "B"},
        "data": {"type": "dossier_status", "notification_id": "n1"},
        "android": {"collapse_key": "n1"},
        "apns": {"headers": {"apns-collapse-id": "n1"}},
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def send(
    state: EmulatorState, body: object, headers: dict[str, str] = AUTH, project: str = "p"
) -> tuple[int, dict[str, Any], dict[str, str]]:
    answer = state.handle_send(project, headers, json.dumps(body).encode())
    return answer.status, answer.body, answer.headers


def test_accepts_a_well_formed_message_and_records_it() -> None:
    state = EmulatorState("p")
    status, body, _ = send(state, {"message": message()})
    assert status == 200
    assert body["name"].startswith("projects/p/messages/")
    [kept] = state.messages()
    assert kept["name"] == body["name"]
    assert (kept["token"], kept["title"], kept["body"]) == ("tok-1", "T", "B")
    assert kept["android_collapse_key"] == kept["apns_collapse_id"] == "n1"
    assert kept["headers"]["authorization"] == "Bearer local-fcm-token"
    assert isinstance(kept["received_at"], float)
    [attempt] = state.attempts()
    assert attempt["outcome"] == "accepted"
    assert attempt["http_status"] == 200


def test_names_are_unique() -> None:
    state = EmulatorState("p")
    names = {send(state, {"message": message()})[1]["name"] for _ in range(50)}
    assert len(names) == 50


@pytest.mark.parametrize(
    "auth", [{}, {"authorization": ""}, {"authorization": "Bearer "}, {"authorization": "Basic abc"}]
)
def test_missing_bearer_is_401(auth: dict[str, str]) -> None:
    state = EmulatorState("p")
    status, body, _ = send(state, {"message": message()}, headers=auth)
    assert status == 401
    assert body["error"]["status"] == "UNAUTHENTICATED"
    assert body["error"]["code"] == 401
    assert state.messages() == []
    assert state.attempts()[0]["error_code"] == "UNAUTHENTICATED"
    assert state.attempts("tok-1")[0]["http_status"] == 401


def test_expected_bearer_is_enforced() -> None:
    state = EmulatorState("p", expected_bearer="secret")
    assert send(state, {"message": message()})[0] == 401
    assert send(state, {"message": message()}, {"authorization": "Bearer secret"})[0] == 200


def test_wrong_project_is_404_without_fcm_code() -> None:
    status, body, _ = send(EmulatorState("p"), {"message": message()}, project="other")
    assert status == 404
    assert body["error"]["status"] == "NOT_FOUND"
    assert "details" not in body["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": message(data={"count": 3})}, "message.data[0].value"),
        ({"message": message(data={"from": "x"})}, "message.data[0].key"),
        ({"message": message(data={"google.x": "x"})}, "message.data[0].key"),
        ({"message": message(token=None)}, "message"),
        ({"message": message(topic="news")}, "message"),
        ({"message": message(token="")}, "message.token"),
        ({"message": message(notification={"title": 1})}, "message.notification.title"),
        ({"message": message(notification={"subtitle": "x"})}, "message.notification.subtitle"),
        ({"message": message(android={"collapse_key": 5})}, "message.android.collapse_key"),
        ({"message": message(android={"ttl": "soon"})}, "message.android.ttl"),
        ({"message": message(apns={"headers": {"apns-priority": 10}})}, "message.apns.headers[0].value"),
        ({"message": message(apns={"headers": {"apns-collapse-id": "x" * 65}})}, "message.apns.headers"),
        ({"message": message(data={"big": "x" * 5000})}, "message"),
        ({"message": message(colour="red")}, "message.colour"),
        ({"message": message(), "dry_run": True}, "dry_run"),
        ({"message": message(), "validate_only": "yes"}, "validate_only"),
        ({"msg": message()}, "msg"),
        ({}, "message"),
        ([], ""),
    ],
)
def test_malformed_messages_are_400_invalid_argument(body: object, field: str) -> None:
    state = EmulatorState("p")
    status, answer, _ = send(state, body)
    assert status == 400
    error = answer["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    types = [d["@type"] for d in error["details"]]
    assert types == [FCM_ERROR_TYPE, BAD_REQUEST_TYPE]
    assert error["details"][1]["fieldViolations"][0]["field"] == field
    assert state.messages() == []
    assert state.attempts()[0]["outcome"] == "rejected"


def test_invalid_json_is_400() -> None:
    answer = EmulatorState("p").handle_send("p", AUTH, b"{not json")
    assert answer.status == 400
    assert answer.body["error"]["status"] == "INVALID_ARGUMENT"


def test_fid_target_is_accepted() -> None:
    state = EmulatorState("p")
    assert send(state, {"message": message(token=None, fid="fid-1")})[0] == 200
    assert state.messages("fid-1")


def test_validate_only_is_checked_but_not_delivered() -> None:
    state = EmulatorState("p")
    status, body, _ = send(state, {"message": message(), "validate_only": True})
    assert status == 200
    assert body["name"] == "projects/p/messages/fake_message_id"
    assert state.messages() == []
    assert state.attempts()[0]["outcome"] == "validated"


@pytest.mark.parametrize(
    ("error", "http_status", "status"),
    [
        ("UNREGISTERED", 404, "NOT_FOUND"),
        ("INVALID_ARGUMENT", 400, "INVALID_ARGUMENT"),
        ("QUOTA_EXCEEDED", 429, "RESOURCE_EXHAUSTED"),
        ("UNAVAILABLE", 503, "UNAVAILABLE"),
        ("INTERNAL", 500, "INTERNAL"),
        ("SENDER_ID_MISMATCH", 403, "PERMISSION_DENIED"),
    ],
)
def test_faults_answer_in_fcm_format(error: str, http_status: int, status: str) -> None:
    state = EmulatorState("p")
    state.set_fault("tok-1", error)
    code, body, headers = send(state, {"message": message()})
    assert code == http_status
    assert body["error"]["status"] == status
    assert body["error"]["details"] == [{"@type": FCM_ERROR_TYPE, "errorCode": error}]
    if error == "QUOTA_EXCEEDED":
        assert headers["Retry-After"] == str(DEFAULT_QUOTA_RETRY_AFTER)
    assert state.attempts()[0]["error_code"] == error
    # Forever by default; other tokens unaffected.
    assert send(state, {"message": message()})[0] == http_status
    assert send(state, {"message": message(token="tok-2")})[0] == 200


def test_fault_times_and_retry_after_and_clearing() -> None:
    state = EmulatorState("p")
    state.set_fault("tok-1", "UNAVAILABLE", times=2, retry_after=7)
    first = send(state, {"message": message()})
    assert first[0] == 503
    assert first[2]["Retry-After"] == "7"
    assert send(state, {"message": message()})[0] == 503
    assert send(state, {"message": message()})[0] == 200
    state.set_fault("tok-1", "INTERNAL")
    assert state.clear_fault("tok-1") is True
    assert send(state, {"message": message()})[0] == 200
    with pytest.raises(ValueError):
        state.set_fault("tok-1", "TEAPOT")


def test_reset_forgets_everything() -> None:
    state = EmulatorState("p")
    state.set_fault("tok-1", "INTERNAL")
    send(state, {"message": message()})
    send(state, {"message": message(token="tok-2")})
    state.reset()
    assert state.messages() == []
    assert state.attempts() == []
    assert send(state, {"message": message()})[0] == 200


def test_filter_by_token() -> None:
    state = EmulatorState("p")
    send(state, {"message": message()})
    send(state, {"message": message(token="tok-2")})
    assert [m["token"] for m in state.messages("tok-2")] == ["tok-2"]
    assert len(state.attempts()) == 2
    assert len(state.attempts("tok-1")) == 1


def test_what_firebase_admin_sends_passes_the_shape_check() -> None:
    from firebase_admin import messaging

    from notifications.push import Push, build_message

    push = Push("tok", "Tiêu đề", "Nội dung", {"type": "document_issued", "notification_id": "n"}, "n")
    wire = messaging._MessagingService.encode_message(build_message(push))
    assert check_send_request({"message": wire}) is None
    assert check_send_request({"message": wire, "validate_only": True}) is None
