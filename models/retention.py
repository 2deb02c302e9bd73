"""How long each kind of data is kept: THE table (docs/contract.md's "Retention" section shows
it to readers; the citizen's export lists it, app/privacy; the models' TTL indexes and the
retention cron, app/retention.py, enforce it).

A TTL index (Beanie `expireAfterSeconds`) enforces a lifetime where the document carries the
moment it counts from and nothing else must be checked; the retention cron does the rest
(an upload is kept while a dossier refers to it). Dossiers, wallet documents, consents and
the access log are not on it: they are kept while the account is, and what closing the
account keeps, and why, is in app/privacy (KEPT).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DAY = 86_400

UNATTACHED_UPLOAD_DAYS = 7
PRESENTATION_DAYS_AFTER_EXPIRY = 0
SESSION_DAYS_AFTER_EXPIRY = 0
CONSENT_CODE_DAYS_AFTER_EXPIRY = 1
PAYMENT_DAYS = 10 * 365
PAYMENT_NONCE_DAYS = 2
INBOX_DAYS = 180
WEBHOOK_LOG_DAYS = 90
SMS_LOG_DAYS = 90
LETTER_DAYS = 5 * 365
ANNOUNCEMENT_DEVICE_LIST_DAYS = 30

Enforcer = Literal["ttl-index", "retention-cron", "inbox-purge-cron"]


@dataclass(frozen=True)
class Lifetime:
    kind: str
    days: int
    counted_from: str
    enforced_by: Enforcer
    what_vi: str
    what_en: str


LIFETIMES: tuple[Lifetime, ...] = (
    Lifetime("uploads", UNATTACHED_UPLOAD_DAYS, "upload, while no dossier refers to it", "retention-cron",
             "Tệp tải lên chưa gắn vào hồ sơ nào; tệp đã gắn được giữ cùng hồ sơ",
             "Uploaded files no dossier refers to; attached ones stay with their dossier"),
    Lifetime("presentations", PRESENTATION_DAYS_AFTER_EXPIRY, "expiry of the code", "ttl-index",
             "Mã xuất trình giấy tờ (QR)", "Document presentation codes (QR)"),
    Lifetime("sessions", SESSION_DAYS_AFTER_EXPIRY, "expiry of the refresh token", "ttl-index",
             "Phiên đăng nhập trên các thiết bị", "Signed-in sessions on your devices"),
    Lifetime("consent_codes", CONSENT_CODE_DAYS_AFTER_EXPIRY, "expiry of the code", "ttl-index",
             "Mã đồng ý cho bộ phận hỗ trợ", "Consent codes for the support desk"),
    Lifetime("payments", PAYMENT_DAYS, "the payment request", "ttl-index",
             "Chứng từ thanh toán (Luật Kế toán: 10 năm)", "Payment records (accounting law: 10 years)"),
    Lifetime("payment_callback_nonces", PAYMENT_NONCE_DAYS, "receipt of the provider's callback", "ttl-index",
             "Dấu chống phát lại của cổng thanh toán", "The payment provider's anti-replay marks"),
    Lifetime("notifications", INBOX_DAYS, "the notification", "inbox-purge-cron",
             "Thông báo trong hộp thư của ứng dụng", "Notifications in the app's inbox"),
    Lifetime("webhook_logs", WEBHOOK_LOG_DAYS, "the event", "ttl-index",
             "Nhật ký gửi sự kiện đến hệ thống của cơ quan", "Logs of events sent to agencies' systems"),
    Lifetime("sms_logs", SMS_LOG_DAYS, "the first attempt", "ttl-index",
             "Nhật ký tin nhắn SMS nhắc thông báo chưa đọc", "Logs of SMS about unread notices"),
    Lifetime("postal_letters", LETTER_DAYS, "the letter", "ttl-index",
             "Thư bảo đảm gửi thông báo pháp lý chưa đọc", "Registered letters of unread legal notices"),
    Lifetime("announcement_device_lists", ANNOUNCEMENT_DEVICE_LIST_DAYS, "the end of the announcement's sending",
             "retention-cron",
             "Danh sách máy nhận một thông báo chung (mã thiết bị) và kết quả gửi từng máy; chỉ giữ số liệu tổng",
             "A broadcast's device lists (push tokens) and each device's result; only the totals are kept"),
)  # fmt: skip
