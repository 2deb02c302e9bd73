"""SMS texts: one GSM-7 part, Vietnamese without diacritics or English, nothing sensitive."""

from __future__ import annotations

import pytest

from models.escalation import DEFAULT_CRITICAL
from notifications.sms import GSM7, SMS_PART, TEXTS, TEXTS_EN, sms_text, to_gsm7


def test_diacritics_are_dropped_and_d_with_stroke_becomes_d() -> None:
    assert to_gsm7("Hồ sơ đã được tiếp nhận. Đề nghị bổ sung!") == "Ho so da duoc tiep nhan. De nghi bo sung!"


@pytest.mark.parametrize("notice", sorted(DEFAULT_CRITICAL))
@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_critical_notice_has_a_text_of_one_gsm7_part(notice: str, language: str) -> None:
    assert notice in TEXTS and notice in TEXTS_EN
    text = sms_text(notice, "HS-2026-ABCDEFGH-00000001", language)
    assert len(text) <= SMS_PART and set(text) <= GSM7
    assert "HS-2026-ABCDEFGH-00000001" in text or "{code}" not in (TEXTS_EN if language == "en" else TEXTS)[notice]


def test_english_is_chosen_by_the_language_and_anything_else_is_vietnamese() -> None:
    assert sms_text("result_ready", "HS-1", "en").startswith("The result of dossier HS-1")
    assert (
        sms_text("result_ready", "HS-1", "fr")
        == sms_text("result_ready", "HS-1")
        == sms_text("result_ready", "HS-1", "vi")
    )


def test_a_dossier_text_without_a_code_falls_back_to_the_neutral_one() -> None:
    assert "{code}" not in sms_text("supplement_required", None)
