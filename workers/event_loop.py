"""uvloop for the worker process.

arq makes its event loop right after importing WorkerSettings, so choosing the loop here is
in time. Only when this process is the worker (`python -m workers`, or the `arq` command): a
test or tool that merely imports the settings keeps its own loop. uvloop takes about a fifth off the CPU each push costs
(firebase-admin → httpx → HTTP/2 is all Python and asyncio-heavy; docs/decisions/0014).
"""

from __future__ import annotations

import asyncio
import os
import sys


def started_by_arq(argv: list[str]) -> bool:
    """`python -m workers ...`, `arq ...` or `python -m arq ...`."""
    if not argv:
        return False
    return (
        os.path.basename(argv[0]) == "arq"
        or argv[0].endswith(os.path.join("arq", "__main__.py"))
        or argv[0].endswith(os.path.join("workers", "__main__.py"))
    )


def use_uvloop_when_run_by_arq() -> bool:
    if not started_by_arq(sys.argv):
        return False
    try:
        import uvloop
    except ImportError:  # an optional speed-up, not a requirement
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True
