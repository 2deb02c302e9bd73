"""`python -m workers`: the worker process (API image, `make run`, tests and compose all start it).

What `arq workers.settings.WorkerSettings` does, with one change: the worker is an
`OutageTolerantWorker`, whose poll loop rides out a Redis outage that arq's own Worker dies of
(workers/redis_outages.py). `arq --check workers.settings.WorkerSettings` still checks its health.
An argument names other settings, as `arq` takes them (the benchmarks' settings).
"""

from __future__ import annotations

import logging.config
import sys
from typing import Any, cast

from arq.logs import default_log_config
from arq.utils import import_string
from arq.worker import get_kwargs

from workers.redis_outages import OutageTolerantWorker

DEFAULT_SETTINGS = "workers.settings.WorkerSettings"


def main(argv: list[str]) -> None:
    # Importing the settings chooses the event loop (workers/event_loop.py): before the Worker.
    settings = import_string(argv[0] if argv else DEFAULT_SETTINGS)
    logging.config.dictConfig(default_log_config(verbose=False))
    # arq annotates get_kwargs' values as NameError; they are the settings' values.
    OutageTolerantWorker(**cast(dict[str, Any], get_kwargs(settings))).run()


if __name__ == "__main__":
    main(sys.argv[1:])
