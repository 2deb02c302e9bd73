"""One push → one FCM message, collapsible on both platforms, data all strings."""

import pytest
from firebase_admin import messaging

from notifications.push import Push, PushOutcome, build_message

PUSH = Push(
    token="device-token-1",
    title="Dossier HS-1 received",
    body="The agency has received your application.",
    data={"type": "dossier_status", "dossier_code": "HS-1", "status": "received", "notification_id": "66f0c0ffee"},
    collapse_id="66f0c0ffee",
)


def encode(message: messaging.Message) -> dict[str, object]:
    # firebase-admin's own encoder: exactly what goes on the wire.
    encoded: dict[str, object] = messaging._MessagingService.encode_message(message)
    return encoded


def test_message_targets_one_token_with_notification_and_data() -> None:
    message = build_message(PUSH)
    assert message.token == "device-token-1"
    assert message.topic is None
    assert message.condition is None
    assert message.notification.title == PUSH.title
    assert message.notification.body == PUSH.body
    assert message.data == PUSH.data
    assert message.data is not PUSH.data


def test_collapse_keys_on_both_platforms() -> None:
    wire = encode(build_message(PUSH))
    assert wire["android"] == {"collapse_key": "66f0c0ffee"}
    assert wire["apns"] == {"headers": {"apns-collapse-id": "66f0c0ffee"}}


def test_wire_data_values_are_strings() -> None:
    wire = encode(build_message(PUSH))
    data = wire["data"]
    assert isinstance(data, dict)
    assert data
    assert all(isinstance(v, str) for v in data.values())
    assert wire["notification"] == {"title": PUSH.title, "body": PUSH.body}
    assert wire["token"] == "device-token-1"


@pytest.mark.parametrize(
    "bad",
    [
        Push("t", "T", "B", {"count": 3}, "n"),  # type: ignore[dict-item]
        Push("", "T", "B", {}, "n"),
        Push("t", "T", "B", {}, ""),
        Push("t", "T", "B", {}, "x" * 65),
    ],
)
def test_invalid_push_is_refused_before_sending(bad: Push) -> None:
    with pytest.raises(ValueError):
        build_message(bad)


def test_outcome_defaults() -> None:
    outcome = PushOutcome(token="t", kind="sent", message_name="projects/p/messages/1")
    assert outcome.error_code is None
    assert outcome.retry_after_seconds is None
