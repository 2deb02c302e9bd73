"""Checks on the identity facts a citizen gives at registration."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^(?:\+?84|0)([35789]\d{8})$")


def canonical_phone(raw: str) -> str | None:
    """Vietnamese mobile numbers in one form, `+84` and nine digits; None if not one."""
    digits = re.sub(r"[\s.\-()]", "", raw)
    match = _MOBILE.match(digits)
    return f"+84{match.group(1)}" if match else None


def national_id_problem(national_id: str) -> bool:
    """True when the value cannot be a citizen ID number (12 digits)."""
    return not (len(national_id) == 12 and national_id.isdigit())


def mask(value: str, keep: int = 3) -> str:
    """Show only the last `keep` characters, for places that must not show the whole value."""
    return "*" * max(len(value) - keep, 0) + value[-keep:]
