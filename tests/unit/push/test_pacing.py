"""When a broadcast's batch goes on waiting for citizens' own pushes (workers/pacing.py)."""

from __future__ import annotations

from workers.pacing import Pacing, keeps_waiting, slices

PACING = Pacing(max_wait_seconds=2.0, poll_seconds=0.05, above=0)


def test_waits_only_while_personal_pushes_are_due() -> None:
    assert keeps_waiting(1, 0.0, PACING)
    assert keeps_waiting(40, 1.9, PACING)
    assert not keeps_waiting(0, 0.0, PACING)


def test_the_cap_ends_the_wait_however_busy_the_lane() -> None:
    assert not keeps_waiting(1, 2.0, PACING)
    assert not keeps_waiting(10_000, 60.0, PACING)


def test_a_tolerated_number_of_pushes_does_not_hold_it() -> None:
    tolerant = Pacing(max_wait_seconds=2.0, poll_seconds=0.05, above=3)
    assert not keeps_waiting(3, 0.0, tolerant)
    assert keeps_waiting(4, 0.0, tolerant)


def test_no_cap_means_no_yield() -> None:
    assert not keeps_waiting(5, 0.0, Pacing(max_wait_seconds=0.0, poll_seconds=0.05, above=0))


def test_a_batch_is_sent_in_slices_that_keep_every_device_once_in_order() -> None:
    devices = list(range(501))
    parts = slices(devices, 100)
    assert [len(p) for p in parts] == [100] * 5 + [1]
    assert [d for p in parts for d in p] == devices
    assert slices([], 100) == []
    assert [list(p) for p in slices([1, 2], 0)] == [[1], [2]]  # a slice holds at least one
