"""The rules of delivery that need no server: categories, outcomes, backoff."""

from __future__ import annotations

import pytest

from notifications.push import PushOutcome
from notifications.templates import CATEGORIES, CRITICAL, KINDS, MUTABLE_CATEGORIES, category_of
from workers.delivery import MAX_BACKOFF_SECONDS, backoff_seconds, state_after


def test_every_kind_has_a_known_category() -> None:
    assert {spec.category for spec in KINDS.values()} <= set(CATEGORIES)
    assert CRITICAL not in MUTABLE_CATEGORIES and "general" not in MUTABLE_CATEGORIES


def test_a_revoked_document_is_critical_and_the_rest_are_where_citizens_expect() -> None:
    assert category_of("document_revoked") == CRITICAL
    assert category_of("dossier_status") == "dossier_updates"
    assert category_of("document_expiring") == "document_expiry"
    assert category_of("no_such_kind") == "general"


@pytest.mark.parametrize(
    ("kind", "final", "state"),
    [
        ("sent", False, "sent"),
        ("unregistered", False, "dropped"),
        ("invalid_token", True, "dropped"),
        ("retryable", False, "pending"),
        ("retryable", True, "failed"),
        ("failed", False, "failed"),
    ],
)
def test_what_one_answer_does_to_a_device(kind: str, final: bool, state: str) -> None:
    assert state_after(PushOutcome("t", kind), final_attempt=final) == state  # type: ignore[arg-type]


def test_backoff_grows_with_jitter_stays_bounded_and_honours_retry_after() -> None:
    for attempt in range(1, 20):
        delay = backoff_seconds(attempt, None)
        ceiling = min(MAX_BACKOFF_SECONDS, 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert backoff_seconds(1, 30.0) == 30.0
    assert backoff_seconds(12, 2.0) >= MAX_BACKOFF_SECONDS / 2


def test_uvloop_is_chosen_only_for_a_process_run_by_arq() -> None:
    from workers.event_loop import started_by_arq

    assert started_by_arq(["/srv/.venv/bin/arq", "workers.settings.WorkerSettings"])
    assert started_by_arq(["/srv/workers/__main__.py"])  # python -m workers
    assert started_by_arq(["/srv/.venv/lib/python3.11/site-packages/arq/__main__.py", "-v"])
    assert not started_by_arq(["/srv/.venv/bin/pytest"])
    assert not started_by_arq([])
