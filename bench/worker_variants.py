"""The arq worker with one proposed setting changed (`python -m bench --worker-variant NAME`).

Run as `arq bench.worker_variants.<name>` by the bench; workers/settings.py stays as it is.
arq reads a settings class's own attributes only (not inherited ones), so each variant is a
copy of WorkerSettings with one value replaced.
"""

from typing import Any

from workers.settings import WorkerSettings


def _copy(name: str, **changes: Any) -> type:
    own = {k: v for k, v in vars(WorkerSettings).items() if not k.startswith("__")}
    return type(name, (), {**own, **changes})


# The poll delay before decision 16 (0.1 s; now 0.02 s): a push waited 50 ms on average
# (100 ms at worst) before a worker even saw it. Kept to measure the before beside the after.
SlowPollWorkerSettings = _copy("SlowPollWorkerSettings", poll_delay=0.1)
