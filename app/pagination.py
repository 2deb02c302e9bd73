"""Cursor pagination: `{items, next_cursor}` with `?cursor=&limit=`.

The cursor is the last item's ObjectId, opaque to clients; paging by `_id` walks an index
and never skips or repeats an item when new ones arrive meanwhile.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec
from bson import ObjectId
from bson.errors import InvalidId

from app.errors import FieldProblem, Text, invalid_input

T = TypeVar("T")
DEFAULT_LIMIT = 20


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def clamp_limit(limit: int | None, maximum: int) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(limit, maximum))


def cursor_filter(cursor: str | None, *, descending: bool) -> dict[str, Any]:
    """The `_id` condition that resumes after `cursor`."""
    if not cursor:
        return {}
    try:
        last = ObjectId(cursor)
    except (InvalidId, TypeError):
        raise invalid_input(
            [
                FieldProblem(
                    "cursor",
                    Text(
                        "Con trỏ trang không hợp lệ; hãy bỏ nó để đọc từ đầu.",
                        "Invalid cursor; omit it to start from the first page.",
                    ),
                )
            ]
        ) from None
    return {"_id": {"$lt" if descending else "$gt": last}}


def next_cursor(ids: list[Any], limit: int) -> str | None:
    """A cursor only when the page came back full (there may be more)."""
    return str(ids[-1]) if len(ids) == limit and ids else None
