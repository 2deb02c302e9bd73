"""The send request body of each push, with firebase-admin's message built once per distinct
message (FCM_TRANSPORT=direct).

An announcement sends one message to many tokens (two messages, with the English text).
firebase-admin builds that `messaging.Message`, validates it and encodes it (its
MessageEncoder) once; each push's body is then that encoded request with the push's own token
put in the token's place, JSON-escaped by the same encoder as the whole body, so the bytes are
those a full encoding of the push gives (tests/unit/notifications/test_fcm_bodies.py). A
personal push is a message of its own and is built as it always was. Building and encoding
every message anew was 43 µs of the broadcasting worker's 656 µs a message (decision 16,
section "fan-out per worker core, the direct sender's cost per message cut").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from typing import Any

import msgspec
from firebase_admin import messaging

from notifications.push import Push, build_message

_encode = msgspec.json.Encoder().encode
# Stands for the token in a template: random per process, so no title or data can hold it.
_PLACEHOLDER = f"cwallet-token-{secrets.token_hex(16)}"
_PLACEHOLDER_JSON = _encode(_PLACEHOLDER)
# Distinct messages kept; personal pushes each add one, so the table is emptied when full.
TEMPLATES_KEPT = 64


def encode_request(message: dict[str, Any]) -> bytes:
    """The send request body for firebase-admin's encoding of one message."""
    return _encode({"message": message})


class MessageBodies:
    """Send request bodies for pushes; `encode_message` is firebase-admin's
    `_MessagingService.encode_message`."""

    def __init__(self, encode_message: Callable[[messaging.Message], dict[str, Any]]) -> None:
        self._encode_message = encode_message
        self._templates: dict[Hashable, tuple[bytes, bytes]] = {}

    def body(self, push: Push) -> bytes:
        """The body for `push`; ValueError when FCM would refuse it for its shape (as
        build_message and firebase-admin's encoder say)."""
        if not isinstance(push.token, str) or not push.token:
            raise ValueError("push token must be a non-empty string")
        key = _message_key(push)
        template = self._templates.get(key) if key is not None else None
        if template is None:
            template = self._template(push)
            if template is None:  # the placeholder did not come out once: encoded whole
                return encode_request(self._encode_message(build_message(push)))
            if key is not None:
                if len(self._templates) >= TEMPLATES_KEPT:
                    self._templates.clear()
                self._templates[key] = template
        head, tail = template
        return head + _encode(push.token) + tail

    def _template(self, push: Push) -> tuple[bytes, bytes] | None:
        """The body of `push` cut where its token goes."""
        stand_in = msgspec.structs.replace(push, token=_PLACEHOLDER)
        encoded = encode_request(self._encode_message(build_message(stand_in)))
        head, found, tail = encoded.partition(_PLACEHOLDER_JSON)
        if not found or _PLACEHOLDER_JSON in tail:
            return None
        return head, tail


def _message_key(push: Push) -> Hashable | None:
    """What makes two pushes the same message but for the token; None for a push whose data
    cannot be a key (a malformed one, refused by build_message)."""
    try:
        key = (push.title, push.body, push.collapse_id, tuple(push.data.items()))
        hash(key)
    except (AttributeError, TypeError):
        return None
    return key
