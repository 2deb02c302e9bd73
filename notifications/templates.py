"""Push texts in Vietnamese and English: rendering a kind of push for a locale.

The kinds and their texts are the table in notifications/kinds.py.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from notifications.kinds import (
    CATEGORIES,
    CRITICAL,
    DEFAULT_LOCALE,
    DOSSIER_STATUSES,
    KINDS,
    LOCALES,
    MUTABLE_CATEGORIES,
    NEUTRAL,
    KindSpec,
)
from notifications.texts import FALLBACK, Text

__all__ = [
    "CATEGORIES",
    "CRITICAL",
    "DEFAULT_LOCALE",
    "DOSSIER_STATUSES",
    "FALLBACK",
    "FOR_CHILD",
    "KINDS",
    "LOCALES",
    "MUTABLE_CATEGORIES",
    "NEUTRAL",
    "KindSpec",
    "Text",
    "category_of",
    "normalize_locale",
    "placeholders",
    "render",
]


def normalize_locale(locale: str | None) -> str:
    """'en', 'en-US', 'EN_gb' → 'en'; anything unknown → the default, 'vi'."""
    primary = (locale or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in LOCALES else DEFAULT_LOCALE


def category_of(kind: str) -> str:
    """The preference category of a kind; `general` for a kind this table does not know."""
    spec = KINDS.get(kind)
    return spec.category if spec is not None else "general"


# A parent's copy of a notification about the child they manage: the same text, with a
# title that says whose it is (the child's name stays off the lock screen).
FOR_CHILD: Mapping[str, str] = {"vi": "Con bạn · {title}", "en": "Your child · {title}"}


def render(
    kind: str, locale: str, params: Mapping[str, str], *, neutral: bool = False, about_child: bool = False
) -> tuple[str, str]:
    """(title, body) of a push of `kind` in `locale`.

    `neutral=True` (or a sensitive kind) gives a text that says nothing but "open the app":
    for pushes whose subject itself should stay off the lock screen. `about_child`: a
    parent's copy of their child's notification.
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown push kind: {kind!r}")
    lang = normalize_locale(locale)
    if neutral or spec.sensitive:
        text = NEUTRAL[lang]
        return text.title, text.body
    title, body = _render_text(kind, spec, lang, params)
    return (FOR_CHILD[lang].format(title=title) if about_child else title), body


def _render_text(kind: str, spec: KindSpec, lang: str, params: Mapping[str, str]) -> tuple[str, str]:
    variant = params.get(spec.variant_param, FALLBACK) if spec.variant_param else FALLBACK
    texts = spec.texts.get(variant) or spec.texts[FALLBACK]
    text = texts[lang]
    # Only the kind's declared params can reach the text, whatever the caller passes.
    allowed = {key: params[key] for key in spec.params if key in params}
    try:
        return text.title.format_map(allowed), text.body.format_map(allowed)
    except KeyError as missing:
        raise ValueError(f"push kind {kind!r} needs param {missing.args[0]!r}") from None


def placeholders(template: str) -> set[str]:
    """The names a template inserts, e.g. {'dossier_code'}."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
