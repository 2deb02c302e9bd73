"""`make test` and `make pytest` (`python -m devtools.checks [--only-pytest] [pytest args]`).

Says what it starts and how long to expect, makes sure Redis answers at REDIS_URL (starting
a private `redis-server` for the run when none does, and stopping it at the end, whatever
happens), then runs the checks CI runs, one after another, with the time each took.
Everything else the suite needs (the embedded store, the FCM emulator, the payment
simulator, API and worker processes, one `make run`-like stack) the suite starts and stops
itself; each of them ends with the run even when the run is killed (`devstack.start_process`).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from devtools.devstack import (
    DEFAULT_REDIS_URL,
    LOCAL_DIR,
    LOCAL_HOSTS,
    DevStackError,
    ManagedProcess,
    redis_answers,
    start_redis,
)

LINTERS: list[list[str]] = [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"], ["lint-imports"]]
EXPECTED = (
    "Expect about 1 minute for ruff, mypy and the import contracts, then about 8 minutes for the suite "
    "on 2 free CPU cores (longer on a busy machine, shorter on more cores)."
)


def _say(text: str) -> None:
    print(text, flush=True)


def _ensure_redis(url: str) -> ManagedProcess | None:
    """None when Redis already answers; else the private server started for this run."""
    if redis_answers(url):
        _say(f"Redis answers at {url}: using it (this run does not stop it).")
        return None
    parts = urlsplit(url)
    if (parts.hostname or "localhost") not in LOCAL_HOSTS:
        raise DevStackError(f"Redis at {url} does not answer, and it is not local to start.")
    port = parts.port or 6379
    _say(f"Starting Redis on 127.0.0.1:{port} for this run (stopped at its end) ...")
    return start_redis(port, log_path=LOCAL_DIR / "logs" / "test-redis.log")


def _run(argv: Sequence[str]) -> int:
    began = time.monotonic()
    _say(f"\n$ {' '.join(argv)}")
    code = subprocess.run(argv, check=False).returncode
    _say(f"  ({time.monotonic() - began:.0f} s)")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.checks", description=__doc__, allow_abbrev=False)
    parser.add_argument("--only-pytest", action="store_true", help="skip ruff, mypy and the import contracts")
    args, pytest_args = parser.parse_known_args(argv)
    url = os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    _say(
        "make test starts: Redis (only if none answers at REDIS_URL); during the suite, the embedded store "
        "(SecantusDB), the FCM emulator, the payment simulator, API and worker processes, private Redis servers "
        "for the outage tests and one `make run`-like stack. All of them stop at the end."
    )
    _say(EXPECTED)
    # SIGTERM (CI cancelling the job) unwinds like Ctrl-C, through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.monotonic()
    redis = None
    try:
        redis = _ensure_redis(url)
        steps = [] if args.only_pytest else LINTERS
        for step in [*steps, ["pytest", *pytest_args]]:
            if code := _run(step):
                return code
        return 0
    except DevStackError as exc:
        _say(f"error: {exc}")
        return 2
    finally:
        if redis is not None:
            redis.stop()
            _say("Stopped the Redis this run started.")
        _say(f"Total: {(time.monotonic() - began) / 60:.1f} min.")


if __name__ == "__main__":
    sys.exit(main())
