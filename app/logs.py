"""Structured logs that never carry personal data, tokens or secrets.

Code logs ids and event names only; this redactor is the second line of defence: it blanks
sensitive keys and anything that looks like a national ID, a phone number or a token.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, BinaryIO

import structlog
from litestar.logging.config import StructLoggingConfig, default_json_serializer
from litestar.plugins.structlog import StructlogConfig

SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "password",
        "client_secret",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "national_id",
        "phone",
        "full_name",
        "address",
        "form",
        "fields",
        "cookie",
    }
)
_PATTERNS = [
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),  # JWTs
    re.compile(r"(?<!\d)\d{12}(?!\d)"),  # national ID numbers
    re.compile(r"(?<![\d+])(?:\+?84|0)[35789]\d{8}(?!\d)"),  # Vietnamese mobile numbers
]
REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for pattern in _PATTERNS:
            value = pattern.sub(REDACTED, value)
        return value
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in SENSITIVE_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def processors(renderer: Any) -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
        renderer,
    ]


def quiet_chatty_loggers() -> None:
    # httpx logs every request URL at INFO; some carry ids we would rather not keep.
    for name in ("httpx", "httpcore", "hpack"):
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_worker_logging() -> None:
    quiet_chatty_loggers()
    structlog.configure(processors=processors(structlog.processors.JSONRenderer()))


def _log_sink(log_file: str | None) -> BinaryIO:
    if log_file:
        return open(log_file, "ab", buffering=0)
    # The process's real stdout, not whatever object sys.stdout is when the first logger is
    # made (test runners swap it), so every line lands on file descriptor 1.
    return sys.__stdout__.buffer  # type: ignore[union-attr,return-value]


def structlog_config(log_file: str | None = None) -> StructlogConfig:
    return StructlogConfig(
        structlog_logging_config=StructLoggingConfig(
            processors=processors(structlog.processors.JSONRenderer(serializer=default_json_serializer)),
            logger_factory=structlog.BytesLoggerFactory(file=_log_sink(log_file)),
            log_exceptions="never",
        ),
        # Not Litestar's line pair per request: app/request_log.py logs the answers worth reading.
        enable_middleware_logging=False,
    )
