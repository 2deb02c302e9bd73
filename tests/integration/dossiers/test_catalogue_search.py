"""Searching the catalogue as citizens type it: with or without diacritics, in either language, ranked."""

from __future__ import annotations

import httpx
import pytest


async def _codes(api: httpx.AsyncClient, q: str, **headers: str) -> list[str]:
    answer = await api.get("/api/v1/services", params={"q": q}, headers=headers)
    assert answer.status_code == 200, answer.text
    return [s["code"] for s in answer.json()["items"]]


@pytest.mark.parametrize("q", ["ho chieu", "hộ chiếu", "HO CHIEU", "  hộ   chiếu "])
async def test_passport_is_found_with_or_without_diacritics(api: httpx.AsyncClient, q: str) -> None:
    assert (await _codes(api, q))[0] == "PASSPORT"


async def test_what_people_call_it_finds_the_procedure_first(api: httpx.AsyncClient) -> None:
    # "bằng lái" is what people say; the name says "giấy phép lái xe": the keywords carry it.
    found = await _codes(api, "cap doi bang lai")
    assert found[0] == "DL_RENEWAL"
    # Other renewals ("cấp đổi") match fewer words and come after, ties in code order.
    assert {"CITIZEN_ID_CARD", "VEHICLE_REGISTRATION"} <= set(found[1:])
    assert found.index("CITIZEN_ID_CARD") < found.index("VEHICLE_REGISTRATION")


async def test_all_words_through_keywords_beat_some_words_in_a_name(api: httpx.AsyncClient) -> None:
    # "hộ khẩu" is only in RESIDENCE_REGISTRATION's keywords; "hộ" alone is in the passport's name.
    assert await _codes(api, "ho khau") == ["RESIDENCE_REGISTRATION", "PASSPORT"]


async def test_a_word_in_several_names_lists_them_in_code_order(api: httpx.AsyncClient) -> None:
    found = await _codes(api, "đăng ký")
    assert found == sorted(found)
    assert {"BIRTH_REGISTRATION", "DEATH_REGISTRATION", "TEMPORARY_RESIDENCE", "VEHICLE_REGISTRATION"} <= set(found)


async def test_english_words_search_the_english_names(api: httpx.AsyncClient) -> None:
    found = await _codes(api, "Passport", **{"Accept-Language": "en"})
    assert found == ["PASSPORT"]
    answer = await api.get("/api/v1/services", params={"q": "driving licence"}, headers={"Accept-Language": "en"})
    assert answer.json()["items"][0]["name"] == "Driver's licence renewal"


async def test_nothing_matches_an_unknown_word(api: httpx.AsyncClient) -> None:
    assert await _codes(api, "xyzzy qwerty") == []


async def test_without_q_the_whole_catalogue_is_listed(api: httpx.AsyncClient) -> None:
    everything = (await api.get("/api/v1/services")).json()["items"]
    assert len(everything) >= 12
    assert [s["code"] for s in everything] == sorted(s["code"] for s in everything)


@pytest.mark.parametrize(
    ("q", "says"),
    [("hộ chiếu " * 20, "100 characters"), ("", "no letters"), ("?!-", "no letters")],
)
async def test_a_bad_search_is_refused_with_what_to_type(api: httpx.AsyncClient, q: str, says: str) -> None:
    answer = await api.get("/api/v1/services", params={"q": q}, headers={"Accept-Language": "en"})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == "invalid-input"
    assert problem["errors"][0]["field"] == "q" and says in problem["errors"][0]["message"]
    vietnamese = await api.get("/api/v1/services", params={"q": q})
    assert vietnamese.status_code == 422 and "hãy gõ" in vietnamese.json()["errors"][0]["message"]
