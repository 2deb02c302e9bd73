"""Keeps `make run`'s parts running: a part that exits on its own is started again, after a
pause that doubles with each quick failure (1 s, 2 s, 4 s ... 30 s), and the terminal is told
what happened and where its log is. A part that stayed up a minute starts over at 1 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from devtools.devstack import DevStackError, ManagedProcess

FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0
STABLE_AFTER_SECONDS = 60.0


@dataclass
class Part:
    """One process of the stack, and how to start it again (same port, same settings)."""

    proc: ManagedProcess
    restart: Callable[[], ManagedProcess] | None = None
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)
    restart_at: float | None = None

    @property
    def name(self) -> str:
        return self.proc.name

    def next_pause(self) -> float:
        if time.monotonic() - self.started_at >= STABLE_AFTER_SECONDS:
            self.restarts = 0
        pause: float = FIRST_PAUSE_SECONDS * 2.0**self.restarts
        return min(LONGEST_PAUSE_SECONDS, pause)


def check_once(parts: Sequence[Part], say: Callable[[str], None]) -> bool:
    """Restart what has exited and is due; False when a part that cannot restart has exited."""
    now = time.monotonic()
    for part in parts:
        if part.restart_at is None:
            if part.proc.alive():
                continue
            code = part.proc.stop()  # reaps it, closes its log
            say(f"\n{part.name} exited unexpectedly (code {code}).")
            say(f"--- last lines of {part.proc.log_path} ---\n{part.proc.log_tail(15)}")
            if part.restart is None:
                return False
            kept = part.proc.log_path.with_suffix(".crashed.log")
            part.proc.log_path.replace(kept)  # the new process writes a fresh log
            pause = part.next_pause()
            say(f"Restarting {part.name} in {pause:.0f} s (restart {part.restarts + 1}; its last log: {kept}) ...")
            part.restart_at = now + pause
        elif now >= part.restart_at and part.restart is not None:
            part.restarts += 1
            try:
                part.proc = part.restart()
            except DevStackError as exc:
                pause = part.next_pause()
                say(f"{part.name} did not start again: {exc}\nTrying again in {pause:.0f} s ...")
                part.restart_at = now + pause
                continue
            part.started_at, part.restart_at = time.monotonic(), None
            say(f"{part.name} is running again (pid {part.proc.pid}).")
    return True
