"""The arq worker with one proposed setting changed (`python -m bench --worker-variant NAME`).

Run as `arq bench.worker_variants.<name>` by the bench; workers/settings.py stays as it is.
arq reads a settings class's own attributes only (not inherited ones), so each variant is a
copy of WorkerSettings with one value replaced.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from app.queue import announcement_queue
from workers import settings as worker_settings
from workers.settings import WorkerSettings


def _copy(name: str, **changes: Any) -> type:
    own = {k: v for k, v in vars(WorkerSettings).items() if not k.startswith("__")}
    return type(name, (), {**own, **changes})


# The poll delay before decision 16 (0.1 s; now 0.02 s): a push waited 50 ms on average
# (100 ms at worst) before a worker even saw it. Kept to measure the before beside the after.
SlowPollWorkerSettings = _copy("SlowPollWorkerSettings", poll_delay=0.1)


# Announcements in a process of their own (`--worker-variant announcements-apart`, measured by
# the push-during-announcement scenario): decision 25 gave them their own arq queue and Worker,
# but in the same process, so a broadcast's batches share one event loop with citizens'
# pushes. The first process runs every lane but the announcements'; the second
# (started beside it by that scenario, bench/scenarios_lanes.py) only the announcements' queue.
def _startup_with(lanes: tuple[str, ...], *, main_queue: bool = False) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def startup(ctx: dict[str, Any]) -> None:
        if main_queue:
            # arq's pool defaults to the queue its worker polls; app/queue.py derives the
            # announcements' queue from that default, so it must stay the main queue's name.
            ctx["redis"].default_queue_name = worker_settings.settings.queue_name
        kept = dict(worker_settings.LANES)
        worker_settings.LANES.clear()
        worker_settings.LANES.update({name: make for name, make in kept.items() if name in lanes})
        try:
            await worker_settings.startup(ctx)
        finally:
            worker_settings.LANES.clear()
            worker_settings.LANES.update(kept)

    return startup


WithoutAnnouncementLaneWorkerSettings = _copy(
    "WithoutAnnouncementLaneWorkerSettings",
    on_startup=_startup_with(tuple(n for n in worker_settings.LANES if n != "announcement")),
)
AnnouncementLaneWorkerSettings = _copy(
    "AnnouncementLaneWorkerSettings",
    on_startup=_startup_with((), main_queue=True),
    queue_name=announcement_queue(worker_settings.settings.queue_name),
    functions=worker_settings.ANNOUNCEMENT_FUNCTIONS,
    cron_jobs=[],
    max_jobs=max(2, worker_settings.settings.announcement_batches_in_flight),
    poll_delay=0.1,
)
