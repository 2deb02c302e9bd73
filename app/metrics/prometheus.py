"""The push figures as Prometheus metrics, next to litestar's request metrics on /metrics."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.metrics.figures import PushFigures
from models.working_days import UNCOVERED, calendar


class PushCollector(Collector):
    """Yields the figures read for the scrape in progress (MetricsController sets them)."""

    def __init__(self) -> None:
        self.snapshot: PushFigures | None = None

    def collect(self) -> Iterator[Metric]:
        figures = self.snapshot
        if figures is None:
            return
        yield CounterMetricFamily("cwallet_push_sent", "Pushes FCM accepted.", value=figures.sent)
        failed = CounterMetricFamily(
            "cwallet_push_failed", "Pushes given up on, by FCM's error code.", labels=["reason"]
        )
        for reason, count in figures.failed_by_reason.items():
            failed.add_metric([reason], count)
        yield failed
        yield CounterMetricFamily("cwallet_push_retried", "Pushes that will be tried again.", value=figures.retried)
        yield CounterMetricFamily(
            "cwallet_push_tokens_dropped", "Device tokens FCM called dead, removed.", value=figures.tokens_dropped
        )
        yield CounterMetricFamily(
            "cwallet_push_muted", "Pushes not sent because the citizen muted the category.", value=figures.muted
        )
        depth = GaugeMetricFamily("cwallet_push_queue_depth", "Jobs in the push queue.", labels=["state"])
        depth.add_metric(["ready"], figures.queue.ready)
        depth.add_metric(["deferred"], figures.queue.deferred)
        yield depth
        yield GaugeMetricFamily(
            "cwallet_push_pending_notifications",
            "Notifications not yet sent (quiet-hour holds excluded).",
            value=figures.pending_notifications,
        )
        yield GaugeMetricFamily(
            "cwallet_push_oldest_pending_seconds",
            "Age of the oldest notification not yet sent (0 when none waits).",
            value=figures.oldest_pending_seconds or 0.0,
        )


PUSH_COLLECTOR = PushCollector()
# Once per process, however many apps it creates (the tests create several).
REGISTRY.register(PUSH_COLLECTOR)


class CalendarCollector(Collector):
    """How far the working-day calendar reaches, and lookups beyond it (an alert: deadlines
    in those years count public holidays as working days)."""

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "cwallet_calendar_last_year", "Last year the holiday calendar covers.", value=max(calendar().years)
        )
        uncovered = CounterMetricFamily(
            "cwallet_calendar_uncovered_lookups", "Days looked up in years the calendar lacks.", labels=["year"]
        )
        for year, count in sorted(UNCOVERED.items()):
            uncovered.add_metric([str(year)], count)
        yield uncovered


REGISTRY.register(CalendarCollector())
