"""Searching the catalogue as Vietnamese users type: with or without diacritics, ranked.

The catalogue is tens of procedures, so the index is built in process from the procedures the
list already read (microseconds), not kept in the store: it always matches the loaded
catalogue, and MongoDB's text index does not fold Vietnamese (đ, tone marks on ơ/ư) anyway.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.errors import AppError, FieldProblem, Text, invalid_input
from models.catalogue import ServiceData

S = TypeVar("S", bound=ServiceData)

QUERY_MAX_LENGTH = 100
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase without diacritics: "Cấp đổi giấy phép" → "cap doi giay phep". NFD splits a
    letter from its marks; đ has no decomposition, so it is mapped by hand."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def query_words(q: str) -> list[str]:
    """The distinct words of a query, or a 422 when it is too long or has no word at all."""
    if len(q) > QUERY_MAX_LENGTH:
        raise _bad_query(
            "Từ khoá dài quá {max} ký tự; hãy gõ ngắn hơn, ví dụ 'hộ chiếu'.",
            "The search is longer than {max} characters; type fewer words, e.g. 'passport'.",
        )
    found = list(dict.fromkeys(words(q)))
    if not found:
        raise _bad_query(
            "Từ khoá không có chữ hay số nào; hãy gõ tên thủ tục, ví dụ 'ho chieu'.",
            "The search has no letters or digits; type a procedure's name, e.g. 'passport'.",
        )
    return found


def _bad_query(vi: str, en: str) -> AppError:
    return invalid_input([FieldProblem("q", Text(vi, en), {"max": QUERY_MAX_LENGTH})])


@dataclass(frozen=True)
class _Indexed(Generic[S]):
    service: S
    name_words: frozenset[str]
    keyword_words: frozenset[str]


def _index(services: list[S]) -> list[_Indexed[S]]:
    return [
        _Indexed(
            service=s,
            name_words=frozenset(words(s.name.vi) + words(s.name.en)),
            keyword_words=frozenset(w for keyword in s.keywords for w in words(keyword)),
        )
        for s in services
    ]


def search(services: list[S], q: str) -> list[S]:
    """The procedures matching at least one word of `q`, best first: every word in the name
    (vi or en), then every word in the name or keywords, then the rest; within each, more
    matching words first; ties by code."""
    wanted = query_words(q)
    ranked: list[tuple[int, int, str, S]] = []
    for entry in _index(services):
        in_name = sum(w in entry.name_words for w in wanted)
        anywhere = sum(w in entry.name_words or w in entry.keyword_words for w in wanted)
        if anywhere == 0:
            continue
        tier = 0 if in_name == len(wanted) else 1 if anywhere == len(wanted) else 2
        ranked.append((tier, -anywhere, entry.service.code, entry.service))
    ranked.sort(key=lambda row: row[:3])
    return [row[3] for row in ranked]
