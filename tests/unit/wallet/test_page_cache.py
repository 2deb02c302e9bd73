"""The per-process memory of wallet pages: what it may and may not serve (app/wallet/page_cache.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.wallet import page_cache
from app.wallet.page_cache import WalletPageCache

TODAY = date(2026, 12, 2)


class Store:
    """Counts the reads the cache could not save, and answers what the store holds now."""

    def __init__(self) -> None:
        self.reads = 0
        self.holds = "v1"

    async def read(self) -> str:
        self.reads += 1
        return self.holds


def _subscribed(**kwargs: float) -> WalletPageCache:
    cache = WalletPageCache(**kwargs)  # type: ignore[arg-type]
    cache.subscribed = True
    return cache


async def test_a_page_is_served_from_memory_only_while_subscribed() -> None:
    cache, store = _subscribed(), Store()
    key = ("c1", 20)
    assert await cache.get(key, TODAY, store.read) == "v1"
    store.holds = "v2"  # written behind the announcements' back
    assert await cache.get(key, TODAY, store.read) == "v1"
    assert store.reads == 1
    cache.subscribed = False  # announcements could be missed from now on
    assert await cache.get(key, TODAY, store.read) == "v2"
    assert store.reads == 2


async def test_an_announced_citizen_is_read_again_and_no_one_else() -> None:
    cache, store = _subscribed(), Store()
    mine, theirs = ("c1", 20), ("c2", 20)
    await cache.get(mine, TODAY, store.read)
    await cache.get(("c1", 50), TODAY, store.read)
    await cache.get(theirs, TODAY, store.read)
    store.holds = "v2"
    cache.forget(["c1"])
    assert await cache.get(mine, TODAY, store.read) == "v2"
    assert await cache.get(("c1", 50), TODAY, store.read) == "v2"
    assert await cache.get(theirs, TODAY, store.read) == "v1"


async def test_a_read_that_began_before_a_write_does_not_put_its_page_back() -> None:
    cache = _subscribed()
    key = ("c1", 20)

    async def read_overtaken_by_a_write() -> str:
        cache.forget(["c1"])  # the write's announcement arrives while the store answers
        return "before the write"

    assert await cache.get(key, TODAY, read_overtaken_by_a_write) == "before the write"
    store = Store()
    assert await cache.get(key, TODAY, store.read) == "v1"
    assert store.reads == 1


async def test_a_page_is_not_served_on_another_day_nor_past_its_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    cache, store = _subscribed(ttl_seconds=30), Store()
    key = ("c1", 20)
    await cache.get(key, TODAY, store.read)
    await cache.get(key, TODAY + timedelta(days=1), store.read)  # a paper may have expired overnight
    assert store.reads == 2
    now = page_cache.time.monotonic()
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: now + 31)
    await cache.get(key, TODAY + timedelta(days=1), store.read)
    assert store.reads == 3


async def test_nothing_is_remembered_when_switched_off() -> None:
    for cache in (_subscribed(ttl_seconds=0), _subscribed(max_entries=0)):
        store = Store()
        await cache.get(("c1", 20), TODAY, store.read)
        await cache.get(("c1", 20), TODAY, store.read)
        assert (store.reads, len(cache)) == (2, 0)


async def test_the_memory_is_bounded_and_drops_the_least_recent_first() -> None:
    cache, store = _subscribed(max_entries=2), Store()
    for citizen in ("c1", "c2", "c1", "c3"):
        await cache.get((citizen, 20), TODAY, store.read)
    assert len(cache) == 2
    reads = store.reads
    await cache.get(("c1", 20), TODAY, store.read)
    await cache.get(("c3", 20), TODAY, store.read)
    assert store.reads == reads
    await cache.get(("c2", 20), TODAY, store.read)
    assert store.reads == reads + 1
    cache.forget(["c1", "c2", "c3"])
    assert len(cache) == 0
