"""A push's send request over the direct transport is byte for byte what firebase-admin's
encoding of its own message gives, though the message is built once for many tokens."""

import msgspec
import pytest
from firebase_admin import messaging

from notifications.fcm_bodies import TEMPLATES_KEPT, MessageBodies
from notifications.push import Push, build_message

ANNOUNCEMENT = Push(
    token="-",
    title='Thông báo "bảo trì"',
    body="Hệ thống bảo trì từ 22:00 đến 23:00.\n",
    data={"type": "announcement", "announcement_id": "6750a1b2", "notification_id": "6750a1b2"},
    collapse_id="6750a1b2",
)
TOKENS = ["plain-token", 'with "quotes" and \\ slash', "ünï\u2028cødé", "x" * 300]


def full_encoding(push: Push) -> bytes:
    encoded = messaging._MessagingService.encode_message(build_message(push))
    return msgspec.json.encode({"message": encoded})


@pytest.mark.parametrize("token", TOKENS)
def test_each_token_gets_the_body_a_full_encoding_gives(token: str) -> None:
    bodies = MessageBodies(messaging._MessagingService.encode_message)
    bodies.body(msgspec.structs.replace(ANNOUNCEMENT, token="warm-up"))  # the message built once
    push = msgspec.structs.replace(ANNOUNCEMENT, token=token)
    assert bodies.body(push) == full_encoding(push)
    assert msgspec.json.decode(bodies.body(push))["message"]["token"] == token


def test_distinct_messages_do_not_borrow_each_other_s_text() -> None:
    bodies = MessageBodies(messaging._MessagingService.encode_message)
    english = msgspec.structs.replace(ANNOUNCEMENT, title="Maintenance notice", body="From 22:00.")
    reordered = msgspec.structs.replace(ANNOUNCEMENT, data=dict(reversed(ANNOUNCEMENT.data.items())))
    pushes = [msgspec.structs.replace(p, token=f"t{n}") for n, p in enumerate([ANNOUNCEMENT, english, reordered] * 2)]
    assert [bodies.body(p) for p in pushes] == [full_encoding(p) for p in pushes]


def test_many_personal_messages_keep_a_bounded_table_and_right_bodies() -> None:
    bodies = MessageBodies(messaging._MessagingService.encode_message)
    pushes = [
        msgspec.structs.replace(ANNOUNCEMENT, token=f"t{n}", collapse_id=f"n{n}") for n in range(3 * TEMPLATES_KEPT)
    ]
    assert [bodies.body(p) for p in pushes] == [full_encoding(p) for p in pushes]
    assert len(bodies._templates) <= TEMPLATES_KEPT


@pytest.mark.parametrize(
    "bad",
    [
        msgspec.structs.replace(ANNOUNCEMENT, token=""),
        msgspec.structs.replace(ANNOUNCEMENT, data={"count": 3}),  # type: ignore[dict-item]
        msgspec.structs.replace(ANNOUNCEMENT, data={"list": ["a"]}),  # type: ignore[dict-item]
        msgspec.structs.replace(ANNOUNCEMENT, collapse_id="c" * 65),
    ],
)
def test_a_push_fcm_would_refuse_for_its_shape_raises(bad: Push) -> None:
    bodies = MessageBodies(messaging._MessagingService.encode_message)
    with pytest.raises(ValueError):
        bodies.body(bad)
