"""The push kinds and their texts in Vietnamese and English: the table behind
notifications/templates.py.

Lock-screen text: it names the dossier and the service, never a national ID, a note from
the agency or health detail; "open the app" leads to the rest behind login. Adding a kind is
one entry in KINDS (give it a `category`: "general" when none fits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from notifications.texts import DOSSIER_STATUS_TEXTS, FALLBACK, Text

DEFAULT_LOCALE = "vi"
LOCALES = ("vi", "en")


class KindSpec(NamedTuple):
    """One kind of push: the params it may show, and its texts by variant and locale."""

    params: frozenset[str]
    # Param whose value picks the variant ("status" for dossier_status); None: one variant.
    variant_param: str | None
    texts: Mapping[str, Mapping[str, Text]]
    # Always neutral on the lock screen, whatever the params.
    sensitive: bool = False
    # The preference category (CATEGORIES below): what a citizen can mute, and whether quiet
    # hours hold the push back.
    category: str = "general"


# Preference categories. A citizen may mute any of MUTABLE_CATEGORIES (the inbox still gets
# what is muted); `general` is always pushed; `critical` (a revoked or suspended document) is
# always pushed at once, even in quiet hours.
MUTABLE_CATEGORIES = ("dossier_updates", "documents", "document_expiry", "announcements")
CRITICAL = "critical"
CATEGORIES = (*MUTABLE_CATEGORIES, "general", CRITICAL)

NEUTRAL: Mapping[str, Text] = {
    "vi": Text("Thông báo mới", "Bạn có cập nhật mới. Mở ứng dụng để xem chi tiết."),
    "en": Text("New notification", "You have a new update. Open the app to see the details."),
}


KINDS: Mapping[str, KindSpec] = {
    "dossier_status": KindSpec(
        category="dossier_updates",
        params=frozenset({"dossier_code", "status", "service_name"}),
        variant_param="status",
        texts=DOSSIER_STATUS_TEXTS,
    ),
    # Dossier fees, the result's journey by post, and a missed deadline (app/payments,
    # app/postal, app/dossiers/deadlines.py). `amount` is formatted per language.
    "payment_requested": KindSpec(
        category="dossier_updates",
        params=frozenset({"dossier_code", "service_name", "amount"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Cần thanh toán cho hồ sơ {dossier_code}",
                    "Hãy thanh toán {amount} đồng cho hồ sơ {service_name} để cơ quan bắt đầu xử lý.",
                ),
                "en": Text(
                    "Payment needed for dossier {dossier_code}",
                    "Pay {amount} VND for your application for {service_name} so the agency can process it.",
                ),
            },
        },
    ),
    "payment_confirmed": KindSpec(
        category="dossier_updates",
        params=frozenset({"dossier_code", "service_name", "amount"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Đã nhận thanh toán hồ sơ {dossier_code}",
                    "Khoản thanh toán {amount} đồng cho hồ sơ {service_name} đã được xác nhận.",
                ),
                "en": Text(
                    "Payment received for dossier {dossier_code}",
                    "Your payment of {amount} VND for {service_name} has been confirmed.",
                ),
            },
        },
    ),
    "payment_failed": KindSpec(
        category="dossier_updates",
        params=frozenset({"dossier_code", "service_name"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Thanh toán hồ sơ {dossier_code} chưa thành công",
                    "Thanh toán cho hồ sơ {service_name} chưa thành công. Mở ứng dụng để thử lại hoặc chọn cách "
                    "thanh toán khác.",
                ),
                "en": Text(
                    "Payment for dossier {dossier_code} did not go through",
                    "Your payment for {service_name} did not go through. Open the app to try again or pay another way.",
                ),
            },
        },
    ),
    "delivery_update": KindSpec(
        category="dossier_updates",
        params=frozenset({"dossier_code", "service_name", "delivery_status"}),
        variant_param="delivery_status",
        texts={
            "accepted": {
                "vi": Text(
                    "Bưu điện đã nhận kết quả hồ sơ {dossier_code}",
                    "Bưu điện đã nhận kết quả hồ sơ {service_name} để chuyển đến bạn.",
                ),
                "en": Text(
                    "The post has the result of dossier {dossier_code}",
                    "The post has picked up the result of your application for {service_name}.",
                ),
            },
            "in_transit": {
                "vi": Text(
                    "Kết quả hồ sơ {dossier_code} đang trên đường đến",
                    "Kết quả hồ sơ {service_name} đang được chuyển đến địa chỉ của bạn.",
                ),
                "en": Text(
                    "Result of dossier {dossier_code} on its way",
                    "The result of your application for {service_name} is on its way to your address.",
                ),
            },
            "delivered": {
                "vi": Text(
                    "Đã giao kết quả hồ sơ {dossier_code}",
                    "Kết quả hồ sơ {service_name} đã được giao đến bạn.",
                ),
                "en": Text(
                    "Result of dossier {dossier_code} delivered",
                    "The result of your application for {service_name} has been delivered.",
                ),
            },
            "returned": {
                "vi": Text(
                    "Chưa giao được kết quả hồ sơ {dossier_code}",
                    "Bưu điện chưa giao được kết quả hồ sơ {service_name} và đã chuyển trả cơ quan. Mở ứng dụng "
                    "để xem lý do và cách nhận lại.",
                ),
                "en": Text(
                    "Result of dossier {dossier_code} could not be delivered",
                    "The post could not deliver the result of your application for {service_name} and returned "
                    "it to the agency. Open the app to see why and how to get it.",
                ),
            },
            FALLBACK: {
                "vi": Text(
                    "Cập nhật bưu gửi hồ sơ {dossier_code}",
                    "Có cập nhật về việc chuyển kết quả hồ sơ {service_name}. Mở ứng dụng để xem chi tiết.",
                ),
                "en": Text(
                    "Delivery update for dossier {dossier_code}",
                    "There is news about the delivery of your result for {service_name}. Open the app to see it.",
                ),
            },
        },
    ),
    "dossier_overdue": KindSpec(
        category="dossier_updates",
        params=frozenset({"dossier_code", "service_name", "new_date"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Xin lỗi: hồ sơ {dossier_code} bị chậm",
                    "Cơ quan xin lỗi vì hồ sơ {service_name} chưa được giải quyết đúng hạn. Ngày hẹn trả kết quả "
                    "mới: {new_date}.",
                ),
                "en": Text(
                    "Sorry: dossier {dossier_code} is late",
                    "The agency apologises: your application for {service_name} was not settled on time. New "
                    "expected date: {new_date}.",
                ),
            },
        },
    ),
    "dossier_expected_late": KindSpec(
        category="dossier_updates",
        params=frozenset({"dossier_code", "service_name", "expected_date", "due_date"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Hồ sơ {dossier_code} có thể chậm",
                    "Theo các hồ sơ gần đây, hồ sơ {service_name} có thể có kết quả muộn nhất vào {expected_date}, "
                    "sau ngày hẹn {due_date}. Mở ứng dụng để xem chi tiết.",
                ),
                "en": Text(
                    "Dossier {dossier_code} may be late",
                    "Judging by recent dossiers, your result for {service_name} may come as late as "
                    "{expected_date}, after the due date {due_date}. Open the app for details.",
                ),
            },
        },
    ),
    "support_lookup": KindSpec(
        category="general",
        params=frozenset({"staff", "office", "reason", "place"}),
        # "office" when the staff member's office is known; without one, the text names no place.
        variant_param="place",
        texts={
            "office": {
                "vi": Text(
                    "Nhân viên hỗ trợ đã xem thông tin của bạn",
                    "{staff} tại {office} đã xem thông tin của bạn. Lý do: {reason}.",
                ),
                "en": Text(
                    "Support staff viewed your data",
                    "{staff} at {office} viewed your data. Reason: {reason}.",
                ),
            },
            FALLBACK: {
                "vi": Text(
                    "Nhân viên hỗ trợ đã xem thông tin của bạn",
                    "Nhân viên hỗ trợ {staff} đã xem thông tin của bạn. Lý do: {reason}.",
                ),
                "en": Text(
                    "Support staff viewed your data",
                    "Support staff member {staff} viewed your data. Reason: {reason}.",
                ),
            },
        },
    ),
    "document_issued": KindSpec(
        category="documents",
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
    # Document events. The reason an agency gives is never shown here, only in the app.
    "document_revoked": KindSpec(
        category="critical",
        params=frozenset({"document_type_name"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Giấy tờ đã bị thu hồi",
                    "{document_type_name} trong ví của bạn đã bị thu hồi. Mở ứng dụng để xem lý do và hướng dẫn.",
                ),
                "en": Text(
                    "Document revoked",
                    "{document_type_name} in your wallet has been revoked. Open the app to see why and what to do.",
                ),
            },
        },
    ),
    "document_suspended": KindSpec(
        category="critical",
        params=frozenset({"document_type_name"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Giấy tờ bị tạm đình chỉ",
                    "{document_type_name} trong ví của bạn đang bị tạm đình chỉ. Mở ứng dụng để xem lý do và "
                    "hướng dẫn.",
                ),
                "en": Text(
                    "Document suspended",
                    "{document_type_name} in your wallet has been suspended. Open the app to see why and what to do.",
                ),
            },
        },
    ),
    "document_reinstated": KindSpec(
        category="documents",
        params=frozenset({"document_type_name"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Giấy tờ có hiệu lực trở lại",
                    "{document_type_name} trong ví của bạn đã có hiệu lực trở lại.",
                ),
                "en": Text(
                    "Document valid again",
                    "{document_type_name} in your wallet is valid again.",
                ),
            },
        },
    ),
    "document_renewed": KindSpec(
        category="documents",
        params=frozenset({"document_type_name"}),
        variant_param=None,
        texts={
            FALLBACK: {
                "vi": Text(
                    "Giấy tờ đã được gia hạn",
                    "{document_type_name} đã được gia hạn. Phiên bản mới đã có trong ví của bạn.",
                ),
                "en": Text(
                    "Document renewed",
                    "{document_type_name} has been renewed. The new version is in your wallet.",
                ),
            },
        },
    ),
    "document_expiring": KindSpec(
        category="document_expiry",
        params=frozenset({"document_type_name", "valid_until", "renewal", "service_name"}),
        # "online" when the catalogue has a service that renews this type.
        variant_param="renewal",
        texts={
            "online": {
                "vi": Text(
                    "Giấy tờ sắp hết hạn",
                    "{document_type_name} của bạn hết hạn ngày {valid_until}. Bạn có thể làm thủ tục "
                    "{service_name} trực tuyến ngay trong ứng dụng.",
                ),
                "en": Text(
                    "Document expiring soon",
                    "{document_type_name} expires on {valid_until}. You can apply for {service_name} online "
                    "in the app.",
                ),
            },
            FALLBACK: {
                "vi": Text(
                    "Giấy tờ sắp hết hạn",
                    "{document_type_name} của bạn hết hạn ngày {valid_until}. Mở ứng dụng để xem cách gia hạn.",
                ),
                "en": Text(
                    "Document expiring soon",
                    "{document_type_name} expires on {valid_until}. Open the app to see how to renew it.",
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
