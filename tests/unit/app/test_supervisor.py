"""`make run` restarts a crashed part after a pause that doubles with each quick failure, up to
30 s, and starts over once the part has stayed up a minute; a part with no way to restart
ends the supervision."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from devtools.devstack import ManagedProcess, start_process
from devtools.supervisor import Part, check_once


def _exited(tmp_path: Path, code: int) -> ManagedProcess:
    proc = start_process("part", [sys.executable, "-c", f"raise SystemExit({code})"], None, tmp_path / "part.log")
    proc.popen.wait(timeout=30)
    return proc


def test_the_pause_doubles_up_to_thirty_seconds_and_resets_after_a_minute_up(tmp_path: Path) -> None:
    part = Part(_exited(tmp_path, 0))
    pauses = []
    for restarts in range(7):
        part.restarts = restarts
        pauses.append(part.next_pause())
    assert pauses == [1, 2, 4, 8, 16, 30, 30]
    part.started_at = time.monotonic() - 61
    assert part.next_pause() == 1 and part.restarts == 0


def test_a_crashed_part_is_announced_and_scheduled_and_one_without_restart_ends_it(tmp_path: Path) -> None:
    said: list[str] = []
    again = _exited(tmp_path, 0)
    part = Part(_exited(tmp_path, 3), restart=lambda: again)
    assert check_once([part], said.append)
    assert "part exited unexpectedly (code 3)" in said[0]
    assert any("Restarting part in 1 s" in line for line in said)
    assert part.restart_at is not None and part.proc is not again
    part.restart_at = time.monotonic()  # due now
    assert check_once([part], said.append)
    assert part.proc is again and part.restarts == 1 and "part is running again" in said[-1]
    assert not check_once([Part(_exited(tmp_path, 1))], said.append)
