from __future__ import annotations

import os

from arq import ArqRedis
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from app.config import Settings
from app.metrics.figures import PushFigures, read_figures
from app.metrics.prometheus import PUSH_COLLECTOR
from app.security import admin_only


class MetricsController(PrometheusController):
    """litestar's /metrics, with the push pipeline's figures read fresh at each scrape."""

    @get()
    async def get(self, queue_pool: NamedDependency[ArqRedis], settings: NamedDependency[Settings]) -> Response[bytes]:  # type: ignore[override]
        PUSH_COLLECTOR.snapshot = await read_figures(queue_pool, settings.queue_name)
        registry = REGISTRY
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(PUSH_COLLECTOR)
        return Response(generate_latest(registry), status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})


class PushFiguresController(Controller):
    path = "/api/v1/admin/push"
    tags = ["admin"]
    guards = [admin_only]

    @get("/figures")
    async def figures(self, queue_pool: NamedDependency[ArqRedis], settings: NamedDependency[Settings]) -> PushFigures:
        """Delivery figures: pushes sent, failed by FCM's reason, retried, tokens dropped,
        queue depth and the age of the oldest notification still waiting to be sent."""
        return await read_figures(queue_pool, settings.queue_name)
