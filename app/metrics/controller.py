from __future__ import annotations

import hmac
import os
from typing import Any

from arq import ArqRedis
from litestar import Controller, Request, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from app.config import Settings
from app.errors import AppError, Text
from app.metrics.figures import PushFigures, read_figures
from app.metrics.prometheus import PUSH_COLLECTOR
from app.security import admin_only

METRICS_OFF = AppError(
    404,
    "metrics-not-enabled",
    Text("Chưa bật số liệu vận hành", "Metrics not enabled"),
    Text(
        "/metrics chỉ phục vụ khi đã đặt METRICS_TOKEN; Prometheus gửi nó dưới dạng 'Authorization: Bearer ...'.",
        "/metrics is served only once METRICS_TOKEN is set; Prometheus sends it as 'Authorization: Bearer ...'.",
    ),
)
METRICS_CREDENTIAL_NEEDED = AppError(
    401,
    "metrics-credential-needed",
    Text("Cần mã truy cập số liệu", "Metrics credential needed"),
    Text(
        "Gửi METRICS_TOKEN trong 'Authorization: Bearer ...' (bearer_token trong cấu hình scrape của Prometheus).",
        "Send METRICS_TOKEN as 'Authorization: Bearer ...' (bearer_token in Prometheus's scrape config).",
    ),
    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
)


def require_metrics_credential(connection: ASGIConnection[Any, Any, Any, Any], expected: str | None) -> None:
    """Request counts, paths and queue depths are for the operator's scraper only: /metrics
    wants METRICS_TOKEN as a bearer token, and is not served at all while it is unset."""
    if not expected:
        raise METRICS_OFF
    scheme, _, presented = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        raise METRICS_CREDENTIAL_NEEDED


class MetricsController(PrometheusController):
    """litestar's /metrics, with the push pipeline's figures read fresh at each scrape."""

    @get()
    async def get(  # type: ignore[override]
        self,
        request: Request[Any, Any, Any],
        queue_pool: NamedDependency[ArqRedis],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        require_metrics_credential(request, settings.metrics_token)
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
