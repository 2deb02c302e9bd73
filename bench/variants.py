"""The real API with one change applied in memory (`python -m bench --api-variant NAME`), so
a proposal can be measured before it is made, or a tuning already made measured without it.

Each factory runs in a fresh uvicorn worker process, where nothing of `app` is loaded yet:
what it patches before importing `app.main` is what every module then sees.

The proposals of decision 16 (async guards, the session memory, no hint on the dossier
code) were measured this way and are now the code itself.
"""

from typing import Any

from litestar import Litestar
from litestar.types import ASGIApp


def create_app_without_session_memory() -> Litestar:
    """Every citizen request reads its session from the store (SESSION_CACHE_SECONDS=0), as
    before decision 17: the wallet read's "before"."""
    import msgspec

    from app.config import get_settings
    from app.main import create_app

    return create_app(msgspec.structs.replace(get_settings(), session_cache_seconds=0.0))


def create_app_without_wallet_cache() -> Litestar:
    """Every wallet read asks the store (WALLET_CACHE_SECONDS=0), as before the page cache:
    the wallet read's "before" (decision 25's addendum on the page cache)."""
    import msgspec

    from app.config import get_settings
    from app.main import create_app

    return create_app(msgspec.structs.replace(get_settings(), wallet_cache_seconds=0.0))


# The per-request layers of decision 25, each of which can be left out in memory, so its
# cost is the difference between two contenders of the same interleaved rounds.
LAYERS = ("metrics", "request-log", "audit", "throttle")


def _passthrough(app: ASGIApp) -> ASGIApp:
    return app


def _without(*layers: str) -> Litestar:
    """The API with some per-request layers replaced by a pass-through, patched in before
    `app.main` is imported (each variant runs in a fresh server process)."""
    import litestar.plugins.prometheus

    import app.audit.middleware
    import app.auth.throttle
    import app.logs
    import app.request_log

    if "metrics" in layers:

        class NoMetrics(litestar.plugins.prometheus.PrometheusConfig):
            @property
            def middleware(self) -> Any:
                return _passthrough

        litestar.plugins.prometheus.PrometheusConfig = NoMetrics  # type: ignore[misc]
    if "request-log" in layers:
        app.request_log.RequestLog = lambda: _passthrough  # type: ignore[assignment,misc]
    if "two-line-request-log" in layers:
        # Before decision 25: Litestar's logging middleware, a request and a response line each.
        from litestar.middleware.logging import LoggingMiddlewareConfig

        plain = app.logs.structlog_config

        def two_lines(log_file: str | None = None) -> Any:
            config = plain(log_file)
            config.middleware_logging_config = LoggingMiddlewareConfig(
                request_log_fields=["method", "path"], response_log_fields=["status_code"], exclude=["^/health"]
            )
            config.enable_middleware_logging = True
            return config

        app.logs.structlog_config = two_lines
    if "audit" in layers:
        app.audit.middleware.CitizenChangeAudit = lambda: _passthrough  # type: ignore[assignment,misc]
    if "throttle" in layers:

        def no_throttle(settings: Any) -> Any:
            return type("NoThrottle", (), {"middleware": staticmethod(_passthrough)})()

        app.auth.throttle.sign_in_throttle = no_throttle
    from app.main import create_app

    return create_app()


def create_app_without_metrics() -> Litestar:
    return _without("metrics")


def create_app_without_request_log() -> Litestar:
    return _without("request-log")


def create_app_without_audit_middleware() -> Litestar:
    return _without("audit")


def create_app_without_throttle() -> Litestar:
    return _without("throttle")


def create_app_with_two_line_request_log() -> Litestar:
    return _without("two-line-request-log")


def create_app_without_layers() -> Litestar:
    return _without(*LAYERS)


VARIANTS = {
    "default": "app.main:create_app",
    "no-session-memory": "bench.variants:create_app_without_session_memory",
    "no-wallet-cache": "bench.variants:create_app_without_wallet_cache",
    "no-metrics": "bench.variants:create_app_without_metrics",
    "no-request-log": "bench.variants:create_app_without_request_log",
    "no-audit-middleware": "bench.variants:create_app_without_audit_middleware",
    "no-throttle": "bench.variants:create_app_without_throttle",
    "bare-layers": "bench.variants:create_app_without_layers",
    "two-line-request-log": "bench.variants:create_app_with_two_line_request_log",
}
