"""Run only by test_no_orphans.py, in a pytest of its own that it then kills (the name does not
start with `test_`, so the suite never collects it): holds the suite's own servers — the
embedded store, the FCM emulator, the payment simulator, a worker — started by the session
fixtures of tests/conftest.py, says so, and waits to be killed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from devtools.devstack import ManagedProcess

READY_FILE = "ORPHAN_PROBE_READY"


@pytest.mark.skipif(READY_FILE not in os.environ, reason="run by test_no_orphans.py only")
def test_hold_the_suites_servers_until_killed(
    mongo_url: str, fcm_emulator: ManagedProcess, payment_simulator: ManagedProcess, worker: ManagedProcess
) -> None:
    Path(os.environ[READY_FILE]).write_text(f"{fcm_emulator.pid} {payment_simulator.pid} {worker.pid}")
    threading.Event().wait()  # until the killer comes: nothing here ever sets it
