"""The words of the pushes: the type of a title and body, and the texts of a dossier's status
changes in Vietnamese and English (the largest kind of notifications/kinds.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

# A kind's variant when no specific text exists for the value of its variant param.
FALLBACK = "*"


class Text(NamedTuple):
    title: str
    body: str


DOSSIER_STATUS_TEXTS: Mapping[str, Mapping[str, Text]] = {
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
