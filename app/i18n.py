"""The caller's language: `Accept-Language: vi` or `en`, Vietnamese by default."""

from __future__ import annotations

from typing import Literal

Language = Literal["vi", "en"]


def negotiate(accept_language: str | None) -> Language:
    if not accept_language:
        return "vi"
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("vi"):
            return "vi"
    return "vi"
