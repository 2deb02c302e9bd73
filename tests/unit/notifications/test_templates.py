"""Push texts: every status in both languages, nothing sensitive on the lock screen."""

import pytest

from notifications.templates import (
    DOSSIER_STATUSES,
    FALLBACK,
    KINDS,
    NEUTRAL,
    normalize_locale,
    placeholders,
    render,
)

DOSSIER = {"dossier_code": "HS-2025-000123", "service_name": "Đăng ký khai sinh"}
# Things a caller might hold next to the params; none may reach a push.
SECRETS = {
    "national_id": "001099012345",
    "note": "Thiếu giấy chứng nhận sức khỏe: viêm gan B",
    "full_name": "Nguyễn Văn An",
    "phone": "0912345678",
}


def dossier(status: str, locale: str) -> tuple[str, str]:
    return render("dossier_status", locale, {**DOSSIER, "status": status})


@pytest.mark.parametrize("status", DOSSIER_STATUSES)
def test_every_status_has_its_own_text_in_both_languages(status: str) -> None:
    vi = dossier(status, "vi")
    en = dossier(status, "en")
    assert all(vi)
    assert all(en)
    assert vi != en
    assert "HS-2025-000123" in vi[0]
    assert "HS-2025-000123" in en[0]
    assert "Đăng ký khai sinh" in vi[1]
    # A specific text, not the generic one kept for statuses added later.
    fallback = render("dossier_status", "en", {**DOSSIER, "status": "something_new"})
    assert en != fallback


def test_status_texts_are_distinct() -> None:
    for locale in ("vi", "en"):
        titles = {dossier(s, locale)[0] for s in DOSSIER_STATUSES}
        assert len(titles) == len(DOSSIER_STATUSES)


def test_received_text_reads_as_specified() -> None:
    assert dossier("received", "en") == (
        "Dossier HS-2025-000123 received",
        "The agency has received your application for Đăng ký khai sinh.",
    )
    assert dossier("received", "vi") == (
        "Hồ sơ HS-2025-000123 đã được tiếp nhận",
        "Cơ quan đã tiếp nhận hồ sơ Đăng ký khai sinh của bạn.",
    )


@pytest.mark.parametrize("status", ["rejected", "supplement_required"])
def test_rejection_and_supplement_send_the_citizen_to_the_app(status: str) -> None:
    assert "Open the app to see the reason" in dossier(status, "en")[1]
    assert "Mở ứng dụng để xem lý do" in dossier(status, "vi")[1]


def test_vietnamese_texts_carry_diacritics() -> None:
    for status in DOSSIER_STATUSES:
        title, body = dossier(status, "vi")
        assert "Hồ sơ" in title + body or "hồ sơ" in title + body


def test_document_issued() -> None:
    params = {"document_type_name": "Giấy phép lái xe"}
    assert render("document_issued", "en", params)[0] == "New document in your wallet"
    assert render("document_issued", "vi", params) == (
        "Giấy tờ mới trong ví của bạn",
        "Giấy phép lái xe đã được thêm vào ví giấy tờ của bạn.",
    )


@pytest.mark.parametrize("locale", [None, "", "fr", "zz-ZZ", "vi", "vi-VN"])
def test_unknown_locale_falls_back_to_vietnamese(locale: str | None) -> None:
    assert normalize_locale(locale) == "vi"
    assert dossier("approved", locale or "") == dossier("approved", "vi")


@pytest.mark.parametrize("locale", ["en", "EN", "en-US", "en_GB"])
def test_english_locale_variants(locale: str) -> None:
    assert dossier("approved", locale) == dossier("approved", "en")


def test_no_template_uses_a_param_its_kind_does_not_declare() -> None:
    for kind, spec in KINDS.items():
        for variant, texts in spec.texts.items():
            assert set(texts) == {"vi", "en"}, (kind, variant)
            for text in texts.values():
                used = placeholders(text.title) | placeholders(text.body)
                assert used <= spec.params, (kind, variant, used - spec.params)


@pytest.mark.parametrize("status", [*DOSSIER_STATUSES, "something_new"])
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_extra_params_never_leak(status: str, locale: str) -> None:
    title, body = render("dossier_status", locale, {**DOSSIER, "status": status, **SECRETS})
    for secret in SECRETS.values():
        assert secret not in title
        assert secret not in body
    title, body = render("document_issued", locale, {"document_type_name": "CCCD", **SECRETS})
    for secret in SECRETS.values():
        assert secret not in title + body


def test_neutral_text_hides_everything() -> None:
    params = {**DOSSIER, "status": "rejected"}
    for locale in ("vi", "en"):
        title, body = render("dossier_status", locale, params, neutral=True)
        assert (title, body) == tuple(NEUTRAL[locale])
        assert DOSSIER["dossier_code"] not in title + body


def test_fallback_exists_for_every_kind() -> None:
    for spec in KINDS.values():
        assert FALLBACK in spec.texts


def test_unknown_kind_and_missing_param_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown push kind"):
        render("lottery_win", "vi", {})
    with pytest.raises(ValueError, match="service_name"):
        render("dossier_status", "en", {"dossier_code": "HS-1", "status": "received"})


def test_a_parents_copy_says_it_is_about_their_child_and_nothing_more() -> None:
    for locale, marker in (("vi", "Con bạn · "), ("en", "Your child · ")):
        own_title, own_body = dossier("received", locale)
        title, body = render("dossier_status", locale, {**DOSSIER, "status": "received"}, about_child=True)
        assert (title, body) == (marker + own_title, own_body)
    # A neutral push stays neutral: not even that a child is concerned reaches the lock screen.
    neutral = render("dossier_status", "en", {**DOSSIER, "status": "received"}, neutral=True, about_child=True)
    assert neutral == (NEUTRAL["en"].title, NEUTRAL["en"].body)
