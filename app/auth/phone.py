"""A mobile number in one form: citizens sign in with it, register it and are throttled by it.

It lives in auth, the lower area, so citizens imports auth and never the other way round.
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^(?:\+?84|0)([35789]\d{8})$")


def canonical_phone(raw: str) -> str | None:
    """Vietnamese mobile numbers in one form, `+84` and nine digits; None if not one."""
    digits = re.sub(r"[\s.\-()]", "", raw)
    match = _MOBILE.match(digits)
    return f"+84{match.group(1)}" if match else None
