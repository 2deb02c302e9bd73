"""What one push is, how it becomes an FCM message, and what came of sending it."""

from __future__ import annotations

import warnings
from typing import Literal

import msgspec
from firebase_admin import messaging

from notifications.fcm_wire import APNS_COLLAPSE_ID_MAX_BYTES

OutcomeKind = Literal["sent", "unregistered", "invalid_token", "retryable", "failed"]


class Push(msgspec.Struct, frozen=True):
    """One message to one device token."""

    token: str
    title: str
    body: str
    data: dict[str, str]
    # The notification id: the phone collapses repeated sends of the same notification.
    collapse_id: str


class PushOutcome(msgspec.Struct, frozen=True):
    """What FCM said about one push.

    `unregistered` and `invalid_token` mean the token is dead and should be pruned;
    `retryable` means try again later (not before `retry_after_seconds` when set);
    `failed` is final for this push but says nothing bad about the token.
    """

    token: str
    kind: OutcomeKind
    # FCM's message name, "projects/{id}/messages/{id}", when sent.
    message_name: str | None = None
    # FCM error code (UNREGISTERED, QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, ...) when not sent.
    error_code: str | None = None
    retry_after_seconds: float | None = None


def validate_push(push: Push) -> None:
    """Raise ValueError when FCM would refuse the push for its shape, not its token."""
    if not isinstance(push.token, str) or not push.token:
        raise ValueError("push token must be a non-empty string")
    if not isinstance(push.title, str) or not isinstance(push.body, str):
        raise ValueError("push title and body must be strings")
    if not isinstance(push.data, dict):
        raise ValueError("push data must be a dict")
    for key, value in push.data.items():
        # FCM data values are strings only; a stray int would fail the whole request.
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"push data must map str to str (key {key!r})")
    if not isinstance(push.collapse_id, str) or not push.collapse_id:
        raise ValueError("push collapse_id must be a non-empty string")
    # APNs rejects a longer apns-collapse-id; catch it here rather than at Apple.
    if len(push.collapse_id.encode()) > APNS_COLLAPSE_ID_MAX_BYTES:
        raise ValueError("push collapse_id is longer than APNs allows (64 bytes)")


def build_message(push: Push) -> messaging.Message:
    """The FCM v1 message for one push, collapsible on Android and iOS by notification id."""
    validate_push(push)
    with warnings.catch_warnings():
        # firebase-admin 7.7 deprecates `token` for `fid` (Firebase installation ID), but FCM
        # still takes registration tokens there and delivers to an FID sent there too; the
        # contract registers one device `token` of either kind, so `token` fits both.
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return messaging.Message(
            token=push.token,
            notification=messaging.Notification(title=push.title, body=push.body),
            data=dict(push.data),
            android=messaging.AndroidConfig(collapse_key=push.collapse_id),
            apns=messaging.APNSConfig(headers={"apns-collapse-id": push.collapse_id}),
        )
