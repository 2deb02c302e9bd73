"""Push texts in Vietnamese and English.

Lock-screen text: it names the dossier and the service, never a national ID, a note from
the agency or health detail; "open the app" leads to the rest behind login. Adding a kind is
one entry in KINDS.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import NamedTuple

DEFAULT_LOCALE = "vi"
LOCALES = ("vi", "en")
# A kind's variant when no specific text exists for the value of its variant param.
FALLBACK = "*"


class Text(NamedTuple):
    title: str
    body: str


class KindSpec(NamedTuple):
    """One kind of push: the params it may show, and its texts by variant and locale."""

    params: frozenset[str]
    # Param whose value picks the variant ("status" for dossier_status); None: one variant.
    variant_param: str | None
    texts: Mapping[str, Mapping[str, Text]]
    # Always neutral on the lock screen, whatever the params.
    sensitive: bool = False


NEUTRAL: Mapping[str, Text] = {
    "vi": Text("Thông báo mới", "Bạn có cập nhật mới. Mở ứng dụng để xem chi tiết."),
    "en": Text("New notification", "You have a new update. Open the app to see the details."),
}

_DOSSIER_TEXTS: Mapping[str, Mapping[str, Text]] = {
    "submitted": {
        "vi": Text(
            "Đã nộp hồ sơ {dossier_code}",
            "Hồ sơ {service_name} của bạn đã được nộp và đang chờ cơ quan tiếp nhận.",
        ),
        "en": Text(
            "Dossier {dossier_code} submitted",
            "Your application for {service_name} has been submitted and is waiting for the agency.",
        ),
    },
    "received": {
        "vi": Text(
            "Hồ sơ {dossier_code} đã được tiếp nhận",
            "Cơ quan đã tiếp nhận hồ sơ {service_name} của bạn.",
        ),
        "en": Text(
            "Dossier {dossier_code} received",
            "The agency has received your application for {service_name}.",
        ),
    },
    "processing": {
        "vi": Text(
            "Hồ sơ {dossier_code} đang được xử lý",
            "Cơ quan đang xử lý hồ sơ {service_name} của bạn.",
        ),
        "en": Text(
            "Dossier {dossier_code} is being processed",
            "The agency is processing your application for {service_name}.",
        ),
    },
    "supplement_required": {
        "vi": Text(
            "Hồ sơ {dossier_code} cần bổ sung",
            "Cơ quan yêu cầu bổ sung giấy tờ cho hồ sơ {service_name}. Mở ứng dụng để xem lý do và cách bổ sung.",
        ),
        "en": Text(
            "Dossier {dossier_code} needs more information",
            "The agency needs more documents for your application for {service_name}. "
            "Open the app to see the reason and what to do.",
        ),
    },
    "approved": {
        "vi": Text(
            "Hồ sơ {dossier_code} đã được phê duyệt",
            "Hồ sơ {service_name} của bạn đã được phê duyệt. Bạn sẽ nhận được thông báo khi có kết quả.",
        ),
        "en": Text(
            "Dossier {dossier_code} approved",
            "Your application for {service_name} has been approved. We will let you know when the result is ready.",
        ),
    },
    "rejected": {
        "vi": Text(
            "Hồ sơ {dossier_code} không được chấp thuận",
            "Hồ sơ {service_name} của bạn không được chấp thuận. Mở ứng dụng để xem lý do và hướng dẫn tiếp theo.",
        ),
        "en": Text(
            "Dossier {dossier_code} was not approved",
            "Your application for {service_name} was rejected. Open the app to see the reason and what to do next.",
        ),
    },
    "result_ready": {
        "vi": Text(
            "Đã có kết quả hồ sơ {dossier_code}",
            "Kết quả hồ sơ {service_name} của bạn đã sẵn sàng. Mở ứng dụng để xem cách nhận kết quả.",
        ),
        "en": Text(
            "Result ready for dossier {dossier_code}",
            "The result of your application for {service_name} is ready. Open the app to see how to receive it.",
        ),
    },
    "completed": {
        "vi": Text(
            "Hồ sơ {dossier_code} đã hoàn thành",
            "Hồ sơ {service_name} của bạn đã hoàn thành. Cảm ơn bạn đã sử dụng dịch vụ.",
        ),
        "en": Text(
            "Dossier {dossier_code} completed",
            "Your application for {service_name} is complete. Thank you for using the service.",
        ),
    },
    "withdrawn": {
        "vi": Text(
            "Đã rút hồ sơ {dossier_code}",
            "Hồ sơ {service_name} đã được rút theo yêu cầu của bạn.",
        ),
        "en": Text(
            "Dossier {dossier_code} withdrawn",
            "Your application for {service_name} has been withdrawn at your request.",
        ),
    },
    # A status added later still notifies, with a generic text.
    FALLBACK: {
        "vi": Text(
            "Hồ sơ {dossier_code} có cập nhật mới",
            "Hồ sơ {service_name} của bạn có cập nhật mới. Mở ứng dụng để xem chi tiết.",
        ),
        "en": Text(
            "Dossier {dossier_code} updated",
            "There is an update on your application for {service_name}. Open the app to see the details.",
        ),
    },
}

KINDS: Mapping[str, KindSpec] = {
    "dossier_status": KindSpec(
        params=frozenset({"dossier_code", "status", "service_name"}),
        variant_param="status",
        texts=_DOSSIER_TEXTS,
    ),
    "document_issued": KindSpec(
        params=frozenset({"document_type_name"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Giấy tờ mới trong ví của bạn",
                    "{document_type_name} đã được thêm vào ví giấy tờ của bạn.",
                ),
                "en": Text(
                    "New document in your wallet",
                    "{document_type_name} has been added to your wallet.",
                ),
            },
        },
    ),
}

# Statuses of the public contract; each has its own text.
DOSSIER_STATUSES = (
    "submitted",
    "received",
    "processing",
    "supplement_required",
    "approved",
    "rejected",
    "result_ready",
    "completed",
    "withdrawn",
)


def normalize_locale(locale: str | None) -> str:
    """'en', 'en-US', 'EN_gb' → 'en'; anything unknown → the default, 'vi'."""
    primary = (locale or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in LOCALES else DEFAULT_LOCALE


def render(kind: str, locale: str, params: Mapping[str, str], *, neutral: bool = False) -> tuple[str, str]:
    """(title, body) of a push of `kind` in `locale`.

    `neutral=True` (or a sensitive kind) gives a text that says nothing but "open the app":
    for pushes whose subject itself should stay off the lock screen.
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown push kind: {kind!r}")
    lang = normalize_locale(locale)
    if neutral or spec.sensitive:
        text = NEUTRAL[lang]
        return text.title, text.body
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
