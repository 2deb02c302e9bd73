"""The per-process memory of live sessions: what it may and may not trust (decision 0017)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import session_cache
from app.session_cache import SessionCache
from models.common import utcnow

LATER = utcnow() + timedelta(days=30)


def _subscribed(**kwargs: float) -> SessionCache:
    cache = SessionCache(**kwargs)  # type: ignore[arg-type]
    cache.subscribed = True
    return cache


def test_a_live_session_is_remembered_for_its_citizen_only_while_subscribed() -> None:
    cache = _subscribed()
    cache.remember("s1", "c1", LATER, cache.generation)
    assert cache.citizen_of("s1") == "c1"
    assert cache.citizen_of("s2") is None
    cache.subscribed = False  # announcements could be missed from now on
    assert cache.citizen_of("s1") is None


def test_nothing_is_remembered_when_unsubscribed_or_switched_off() -> None:
    unsubscribed = SessionCache()
    unsubscribed.remember("s1", "c1", LATER, unsubscribed.generation)
    assert len(unsubscribed) == 0
    off = _subscribed(ttl_seconds=0)
    off.remember("s1", "c1", LATER, off.generation)
    assert off.citizen_of("s1") is None


def test_a_read_that_began_before_a_revocation_does_not_put_the_session_back() -> None:
    cache = _subscribed()
    read_began = cache.generation
    cache.forget(sessions=["s1"])  # revoked while the store read was in flight
    cache.remember("s1", "c1", LATER, read_began)
    assert cache.citizen_of("s1") is None


def test_forgetting_a_citizen_ends_all_of_their_sessions_and_no_one_elses() -> None:
    cache = _subscribed()
    for session, citizen in (("a", "c1"), ("b", "c1"), ("c", "c2")):
        cache.remember(session, citizen, LATER, cache.generation)
    cache.forget(citizens=["c1"])
    assert [cache.citizen_of(s) for s in ("a", "b", "c")] == [None, None, "c2"]


def test_an_entry_is_trusted_no_longer_than_the_ttl_nor_past_the_sessions_end(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(session_cache.time, "monotonic", lambda: clock[0])
    cache = _subscribed(ttl_seconds=30)
    cache.remember("long", "c1", LATER, cache.generation)
    cache.remember("ending", "c1", utcnow() + timedelta(seconds=5), cache.generation)
    cache.remember("ended", "c1", utcnow() - timedelta(seconds=1), cache.generation)
    assert cache.citizen_of("ended") is None
    clock[0] += 10
    assert (cache.citizen_of("long"), cache.citizen_of("ending")) == ("c1", None)
    clock[0] += 25
    assert cache.citizen_of("long") is None


def test_the_memory_is_bounded_and_drops_the_least_recent_first() -> None:
    cache = _subscribed(max_entries=2)
    for session in ("a", "b", "c"):
        cache.remember(session, "c1", LATER, cache.generation)
    assert len(cache) == 2
    assert [cache.citizen_of(s) for s in ("a", "b", "c")] == [None, "c1", "c1"]
