"""Looking at processes from the outside: is a pid gone, who are a process's children, and
polling a real condition with a deadline."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path

from devtools.devstack import DevStackError, ManagedProcess


def read_stack_file(path: Path) -> dict[str, str]:
    """`.local/stack.env` as `make run` wrote it (KEY='value' lines)."""
    return dict(line.split("=", 1) for line in shlex.split(path.read_text(), comments=True))


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]  # the field after "(command name)"


def gone(pid: int) -> bool:
    """No such process, or only its exit status is left (a zombie no longer holds a port)."""
    return _state(pid) in (None, "Z", "X")


def children_of(parent: int) -> set[int]:
    """The pids whose parent is `parent` right now."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.add(int(stat.parent.name))
    return found


def wait_for(check: Callable[[], bool], timeout: float, proc: ManagedProcess | None, what: str) -> None:
    """Poll `check` until true; DevStackError (with `proc`'s log) if `proc` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and not proc.alive():
            raise DevStackError(f"{proc.name} exited before {what}:\n{proc.log_tail(60)}")
        if time.monotonic() > deadline:
            tail = f":\n{proc.log_tail(60)}" if proc is not None else ""
            raise DevStackError(f"no sign of {what} after {timeout:.0f} s{tail}")
        time.sleep(0.2)
