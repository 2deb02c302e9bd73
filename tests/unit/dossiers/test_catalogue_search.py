"""The catalogue search's folding and ranking, on a made-up catalogue."""

from __future__ import annotations

import pytest

from app.catalogue.search import fold, search
from app.errors import AppError
from models.catalogue import LocalizedText, ServiceData


def _service(code: str, vi: str, en: str, keywords: list[str] | None = None) -> ServiceData:
    return ServiceData(
        code=code, name=LocalizedText(vi=vi, en=en), keywords=keywords or [], agency_code="X", processing_days=1
    )


CATALOGUE = [
    # Both words only through a keyword, yet its code sorts first.
    _service("A_KEYWORDS", "Thủ tục khác", "Other procedure", ["hộ chiếu"]),
    _service("B_HALF", "Cấp hộ khẩu", "Household book"),
    _service("C_NAME", "Cấp hộ chiếu", "Passport"),
    _service("D_NAME", "Đổi hộ chiếu", "Passport renewal"),
    _service("E_NONE", "Đăng ký khai sinh", "Birth registration"),
]


def test_folding_drops_tone_marks_and_d_stroke() -> None:
    assert fold("Cấp đổi giấy phép lái xe") == "cap doi giay phep lai xe"
    assert fold("ĐĂNG KÝ KHAI TỬ") == "dang ky khai tu"


def test_every_word_in_the_name_first_then_in_keywords_then_fewer_words() -> None:
    found = [s.code for s in search(CATALOGUE, "ho chieu")]
    assert found == ["C_NAME", "D_NAME", "A_KEYWORDS", "B_HALF"]


def test_more_matching_words_rank_first_among_partial_matches() -> None:
    found = [s.code for s in search(CATALOGUE, "cap ho chieu moi")]
    # C_NAME holds three of the four words, B_HALF and D_NAME two, A_KEYWORDS two; ties by code.
    assert found == ["C_NAME", "A_KEYWORDS", "B_HALF", "D_NAME"]


def test_a_query_without_words_is_refused() -> None:
    with pytest.raises(AppError) as refused:
        search(CATALOGUE, " - ")
    assert refused.value.status == 422
