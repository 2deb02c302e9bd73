"""The emulator's counting mode (a broadcast to 100,000 devices) and its answer delay."""

from __future__ import annotations

import json

from devtools.fcm_emulator_state import EmulatorState

AUTH = {"authorization": "Bearer x"}


def _send(state: EmulatorState, token: str) -> int:
    body = {"message": {"token": token, "notification": {"title": "t", "body": "b"}}}
    return state.handle_send("p", AUTH, json.dumps(body).encode()).status


def test_counts_mode_keeps_a_counter_per_token_and_no_copies() -> None:
    state = EmulatorState("p", record="counts")
    for token in ("a", "b", "a"):
        assert _send(state, token) == 200
    state.set_fault("c", "UNREGISTERED")
    assert _send(state, "c") == 404
    assert state.messages() == [] and state.attempts() == []
    assert state.counts() == {"messages": 3, "tokens": 2, "max_per_token": 2, "rejected": 1}
    assert state.counts(detail=True)["per_token"] == {"a": 2, "b": 1}
    state.reset()
    assert state.counts()["messages"] == 0


def test_full_mode_counts_too_and_records_the_http_version() -> None:
    state = EmulatorState("p")
    body = {"message": {"token": "a", "notification": {"title": "t", "body": "b"}}}
    assert state.handle_send("p", AUTH, json.dumps(body).encode(), http_version="2").status == 200
    assert state.counts()["messages"] == 1
    assert [a["http_version"] for a in state.attempts("a")] == ["2"]
    assert len(state.messages("a")) == 1
