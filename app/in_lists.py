"""Reads by a list of values (`$in`) in pieces of at most `IN_LIST_MAX`: the one rule.

The embedded store checks each document it finds against the whole list, so a read's cost
per document grows with the list: 500 ids held it 330–430 ms, 100 ids 18–32 ms
(`python -m bench.in_reads`, decision 26 of 2026-12-02 evening), whether by `_id` or through
a secondary index. Every store command holds it alone, so pieces of 100 also shorten what a
citizen's push waits behind. MongoDB answers each value by an index look-up either way; 100
means five round trips where there was one per 500 values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

IN_LIST_MAX = 100

Value = TypeVar("Value")


def pieces(values: Sequence[Value], size: int = IN_LIST_MAX) -> list[Sequence[Value]]:
    """`values` in consecutive pieces of at most `size`."""
    step = max(1, size)
    return [values[start : start + step] for start in range(0, len(values), step)]
