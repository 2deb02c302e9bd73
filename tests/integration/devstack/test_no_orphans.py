"""A test run killed half-way (SIGKILL: no fixture teardown runs) leaves none of the servers
its fixtures started — store, FCM emulator, payment simulator, worker — running: each ends
with the process that started it (PR_SET_PDEATHSIG in devtools.devstack.start_process)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from app.config import Settings
from devtools.devstack import start_process
from tests.integration.devstack.processes import children_of, gone, wait_for

pytestmark = pytest.mark.slow

PROBE = Path(__file__).with_name("orphan_probe.py")
SUITE_VARIABLES = {f.upper() for f in Settings.__struct_fields__} | {"LOG_FILE"}


def test_a_killed_test_run_leaves_no_server_behind(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    env = {k: v for k, v in os.environ.items() if k not in SUITE_VARIABLES} | {"ORPHAN_PROBE_READY": str(ready)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PROBE)]
    run = start_process("probe-run", argv, env, tmp_path / "probe.log")
    servers: set[int] = set()
    try:
        wait_for(ready.exists, 240, run, "the probe's servers up")
        servers = children_of(run.pid)
        named = {int(pid) for pid in ready.read_text().split()}
        # The store, the emulator, the simulator and the worker at least (and they are its own).
        assert named <= servers and len(servers) >= 4, (servers, named)
        os.kill(run.pid, signal.SIGKILL)
        wait_for(lambda: all(gone(pid) for pid in servers), 60, None, "the killed run's servers ending")
    finally:
        run.stop()
        for pid in servers:  # a failed test must not leave them behind either
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
