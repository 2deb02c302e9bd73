"""The console's words in Vietnamese and English (app/i18n.py: Vietnamese unless asked)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from app.dossiers.timeline import STATUS_LABELS
from app.errors import Text
from app.i18n import Language, negotiate

LANGUAGE_COOKIE = "cw_lang"

TEXTS: dict[str, Text] = {
    "title": Text("Bàn làm việc Ví công dân", "Citizen Wallet console"),
    "skip": Text("Bỏ qua, đến nội dung chính", "Skip to the main content"),
    "language": Text("Ngôn ngữ", "Language"),
    "sign_in": Text("Đăng nhập", "Sign in"),
    "sign_out": Text("Đăng xuất", "Sign out"),
    "sign_in_staff": Text("Nhân viên hỗ trợ", "Support staff"),
    "sign_in_clerk": Text("Cán bộ cơ quan", "Agency clerk"),
    "username": Text("Tên đăng nhập", "Username"),
    "password": Text("Mật khẩu", "Password"),
    "otp": Text("Mã xác thực 6 chữ số", "6-digit one-time code"),
    "otp_hint": Text("Mã trong ứng dụng xác thực của bạn.", "The code in your authenticator app."),
    "signed_in_as": Text("Đang đăng nhập: {name}", "Signed in as {name}"),
    "session_ends": Text("Phiên làm việc tự kết thúc lúc {at}.", "This session ends by itself at {at}."),
    "session_over": Text(
        "Phiên làm việc đã kết thúc. Hãy đăng nhập lại.", "Your session has ended. Please sign in again."
    ),
    "forbidden": Text("Bạn không có quyền xem trang này.", "You may not see this page."),
    "csrf": Text(
        "Biểu mẫu đã cũ hoặc không đến từ trang này. Hãy tải lại trang và gửi lại.",
        "The form was stale or did not come from this page. Reload the page and send it again.",
    ),
    "not_found": Text("Không tìm thấy trang.", "Page not found."),
    "too_many": Text(
        "Quá nhiều yêu cầu trong một phút. Hãy chờ một lát rồi thử lại.",
        "Too many requests in a minute. Wait a moment, then try again.",
    ),
    "http_error": Text(
        "Yêu cầu không thực hiện được (mã {status}). Hãy quay lại trang trước và thử lại.",
        "The request could not be done (status {status}). Go back to the previous page and try again.",
    ),
    # the support desk
    "support": Text("Bàn hỗ trợ", "Support desk"),
    "lookup": Text("Tra cứu công dân", "Look a citizen up"),
    "national_id": Text("Số định danh (12 chữ số)", "National ID number (12 digits)"),
    "reason": Text("Lý do (bắt buộc, công dân sẽ thấy)", "Reason (required; the citizen sees it)"),
    "look_up": Text("Tra cứu", "Look up"),
    "masked_note": Text(
        "Thông tin được che bớt. Để xem đầy đủ, hãy xin công dân mã đồng ý.",
        "The details are masked. To see them in full, ask the citizen for a consent code.",
    ),
    "full_name": Text("Họ tên", "Full name"),
    "birth_year": Text("Năm sinh", "Year of birth"),
    "phone": Text("Điện thoại", "Phone"),
    "eid_level": Text("Mức định danh", "e-ID level"),
    "documents": Text("Giấy tờ", "Documents"),
    "type": Text("Loại", "Type"),
    "number": Text("Số", "Number"),
    "issuer": Text("Nơi cấp", "Issuer"),
    "status": Text("Trạng thái", "Status"),
    "valid_until": Text("Hiệu lực đến", "Valid until"),
    "no_documents": Text("Chưa có giấy tờ nào.", "No documents yet."),
    "open_session": Text("Mở phiên hỗ trợ", "Open an assisted session"),
    "consent_code": Text("Mã đồng ý 6 chữ số của công dân", "The citizen's 6-digit consent code"),
    "consent_hint": Text(
        "Công dân tạo mã trong ứng dụng: Cài đặt → Cho phép hỗ trợ.",
        "The citizen makes it in the app: Settings → Allow assistance.",
    ),
    "open": Text("Mở phiên", "Open the session"),
    "assisted_session": Text("Phiên hỗ trợ", "Assisted session"),
    "time_left": Text("Thời gian còn lại", "Time left"),
    "session_ended": Text(
        "Phiên hỗ trợ đã kết thúc. Hãy xin công dân mã đồng ý mới nếu cần.",
        "The assisted session has ended. Ask the citizen for a new consent code if needed.",
    ),
    "end_session": Text("Kết thúc phiên", "End the session"),
    "pushed_note": Text(
        "Mỗi lần xem, công dân nhận được thông báo: ai, ở đâu và vì sao.",
        "Each look sends the citizen a notice: who, where and why.",
    ),
    "scopes": Text("Quyền công dân cho phép", "What the citizen allowed"),
    "scope_view_wallet": Text("xem ví giấy tờ", "see the wallet"),
    "scope_submit_dossier": Text("nộp hồ sơ thay", "file dossiers for them"),
    "wallet": Text("Ví giấy tờ", "Wallet"),
    "back": Text("Quay lại", "Back"),
    "file_dossier": Text("Nộp hồ sơ thay công dân", "File a dossier for the citizen"),
    "choose": Text("Chọn thủ tục", "Choose the procedure"),
    "optional": Text("(không bắt buộc)", "(optional)"),
    "file": Text("Nộp hồ sơ", "File the dossier"),
    "filed": Text("Đã nộp hồ sơ {code} thay công dân.", "Dossier {code} was filed for the citizen."),
    "required_paper": Text("(bắt buộc)", "(required)"),
    "upload_paper": Text(
        "Tải tệp lên (PDF, JPEG hoặc PNG, tối đa {mb} MB)", "Upload a file (PDF, JPEG or PNG, at most {mb} MB)"
    ),
    "from_wallet": Text("Hoặc chọn giấy tờ trong ví của công dân", "Or pick a document from the citizen's wallet"),
    "wallet_only": Text("Chọn giấy tờ trong ví của công dân", "Pick a document from the citizen's wallet"),
    "wallet_needs_consent": Text(
        "Giấy tờ này có thể lấy từ ví ({types}), nhưng mã đồng ý không gồm quyền xem ví. Hãy tải tệp lên, hoặc nhờ "
        "công dân tạo mã mới có quyền xem ví.",
        "This paper may come from the wallet ({types}), but the consent code does not cover viewing the wallet. "
        "Upload a file, or ask the citizen for a new code that does.",
    ),
    "online_delivery": Text("Kết quả được trả vào ví của công dân.", "The result goes to the citizen's wallet."),
    # the agency clerk
    "worklist": Text("Danh sách hồ sơ", "Worklist"),
    "performance": Text("Hiệu quả giải quyết", "Performance"),
    "filters": Text("Lọc", "Filters"),
    "apply_filters": Text("Lọc danh sách", "Filter the list"),
    "any": Text("Tất cả", "Any"),
    "procedure": Text("Thủ tục", "Procedure"),
    "deadline": Text("Hạn giải quyết", "Deadline"),
    "code": Text("Mã hồ sơ", "Dossier code"),
    "applicant": Text("Người nộp", "Applicant"),
    "submitted": Text("Ngày nộp", "Submitted"),
    "due": Text("Hạn", "Due"),
    "on_track": Text("Trong hạn", "On track"),
    "at_risk": Text("Sắp đến hạn", "Due soon"),
    "overdue": Text("Quá hạn", "Overdue"),
    "paused": Text("Chờ công dân", "Waiting for the citizen"),
    "stopped": Text("Đã dừng", "Stopped"),
    "no_dossiers": Text("Không có hồ sơ nào khớp.", "No dossier matches."),
    "next_page": Text("Trang sau", "Next page"),
    "history": Text("Lịch sử", "History"),
    "form": Text("Tờ khai", "Form"),
    "attachments": Text("Giấy tờ kèm theo", "Attachments"),
    "open_file": Text("Mở tệp", "Open the file"),
    "payment": Text("Lệ phí", "Payment"),
    "delivery": Text("Nhận kết quả", "Delivery"),
    "no_fee": Text("Không thu phí", "No fee"),
    "no_attachments": Text("Không có giấy tờ kèm theo", "No papers attached"),
    "moves": Text("Chuyển trạng thái", "Move the dossier"),
    "no_moves": Text(
        "Thủ tục không cho phép chuyển tiếp từ trạng thái này.", "The procedure allows no move from this status."
    ),
    "note": Text("Ghi chú cho công dân", "Note for the citizen"),
    "move_to": Text("Chuyển sang: {status}", "Move to: {status}"),
    "moved": Text("Đã chuyển hồ sơ sang '{status}'.", "The dossier moved to '{status}'."),
    "supplement": Text("Yêu cầu bổ sung", "Ask for a supplement"),
    "issue_result": Text("Trả kết quả: {type}", "Issue the result: {type}"),
    "valid_from": Text("Hiệu lực từ", "Valid from"),
    "issue": Text("Cấp vào ví và trả kết quả", "Issue into the wallet and mark the result ready"),
    "checklist": Text("Danh sách cần bổ sung", "Supplement checklist"),
    "item": Text("Mục {n}", "Item {n}"),
    "kind": Text("Loại mục", "Kind of item"),
    "kind_attachment": Text("Giấy tờ tải lên", "An uploaded paper"),
    "kind_wallet_document": Text("Giấy tờ trong ví", "A wallet document"),
    "kind_field": Text("Sửa một trường của tờ khai", "A form field to correct"),
    "kind_other": Text("Khác", "Other"),
    "target": Text("Giấy tờ / trường liên quan", "Paper or field concerned"),
    "item_reason": Text("Lý do", "Reason"),
    "item_action": Text("Việc công dân cần làm", "What the citizen should do"),
    "add_item": Text("Thêm mục", "Add an item"),
    "send_back": Text("Gửi yêu cầu bổ sung", "Send back for supplement"),
    "requested_items": Text("Các mục đã yêu cầu (lần {round})", "Items asked for (round {round})"),
    "answered": Text("Đã trả lời", "Answered"),
    "waiting": Text("Đang chờ", "Waiting"),
    "received_count": Text("Tiếp nhận", "Received"),
    "resolved_count": Text("Đã giải quyết", "Resolved"),
    "on_time_rate": Text("Tỉ lệ đúng hạn", "On time"),
    "period": Text("Kỳ", "Period"),
    "chart_title": Text("Hồ sơ tiếp nhận và giải quyết theo kỳ", "Dossiers received and resolved, by period"),
    "speed_title": Text("Tỉ lệ giải quyết đúng hạn theo kỳ", "Share resolved on time, by period"),
    "days_average": Text("Số ngày xử lý trung bình", "Average working days"),
    "from": Text("Từ ngày", "From"),
    "to": Text("Đến ngày", "To"),
    "show": Text("Xem", "Show"),
    "period_day": Text("Ngày", "Day"),
    "period_month": Text("Tháng", "Month"),
    "period_quarter": Text("Quý", "Quarter"),
    "period_year": Text("Năm", "Year"),
    "chart_empty": Text("Chưa có số liệu trong kỳ này.", "No figures for this period yet."),
    "backlog": Text("Hồ sơ quá hạn hiện tại", "Overdue dossiers now"),
    # the head of the unit: the agency's webhooks
    "webhooks": Text("Webhook", "Webhooks"),
    "webhooks_intro": Text(
        "Hệ thống của cơ quan nhận tin về hồ sơ tại các địa chỉ này. Tạo đăng ký và đổi khoá bí mật qua API "
        "(/api/v1/agency/webhooks), nơi hệ thống của cơ quan giữ khoá.",
        "Your agency's system hears of its dossiers at these addresses. Subscriptions are made and their secrets "
        "rotated through the API (/api/v1/agency/webhooks), where your system keeps the secret.",
    ),
    "webhooks_none": Text("Cơ quan chưa có đăng ký webhook nào.", "Your agency has no webhook subscription yet."),
    "webhook_address": Text("Địa chỉ nhận", "Address"),
    "webhook_events": Text("Sự kiện", "Events"),
    "webhook_state": Text("Trạng thái", "State"),
    "webhook_on": Text("Đang bật", "On"),
    "webhook_off_gone": Text(
        "Đã tắt: địa chỉ trả lời 410, không nhận nữa", "Off: the address answered 410 and takes no more"
    ),
    "webhook_off_agency": Text("Đã tắt bởi cơ quan", "Off: turned off by the agency"),
    "webhook_enable": Text("Bật lại", "Turn it back on"),
    "webhook_enable_hint": Text(
        "Chỉ bật lại khi hệ thống nhận đã được sửa; các lần gửi đã dừng có thể gửi lại từng lần bên dưới.",
        "Turn it back on once the receiving system is fixed; stopped deliveries can then be sent again below.",
    ),
    "webhook_ping": Text("Gửi một sự kiện thử", "Send a test event"),
    "webhook_log": Text("Nhật ký gửi", "Delivery log"),
    "webhook_summary": Text(
        "Trong {n} lần gửi hiển thị: {delivered} đã nhận, {pending} đang chờ gửi, {parked} đã dừng.",
        "Of the {n} deliveries shown: {delivered} received, {pending} waiting, {parked} stopped.",
    ),
    "webhook_no_deliveries": Text("Chưa có lần gửi nào.", "No delivery yet."),
    "webhook_latest": Text(
        "{n} lần gửi gần nhất: {delivered} đã nhận, {pending} đang chờ gửi, {parked} đã dừng.",
        "Latest {n}: {delivered} received, {pending} waiting, {parked} stopped.",
    ),
    "webhook_recent": Text("Các lần gửi gần đây", "Recent deliveries"),
    "delivery_event": Text("Sự kiện", "Event"),
    "delivery_about": Text("Hồ sơ", "Dossier"),
    "delivery_made": Text("Phát sinh lúc", "Made at"),
    "delivery_state": Text("Kết quả", "Outcome"),
    "delivery_last": Text("Lần gửi gần nhất", "Last attempt"),
    "delivery_pending": Text("Đang chờ gửi, lần tới lúc {at}", "Waiting, next try at {at}"),
    "delivery_delivered": Text("Đã nhận", "Received"),
    "delivered": Text("Đã nhận", "Received"),
    "delivery_parked": Text("Đã dừng ({reason})", "Stopped ({reason})"),
    "delivery_attempts": Text("Số lần gửi: {n}", "Attempts: {n}"),
    "delivery_replay": Text("Gửi lại", "Send again"),
    "delivery_replay_which": Text("Gửi lại sự kiện {event}", "Send event {event} again"),
    "webhook_replayed": Text(
        "Đã xếp lịch gửi lại, kèm một ngày thử lại.", "Queued to be sent again, with a new day of retries."
    ),
    "webhook_pinged": Text(
        "Đã gửi sự kiện thử; kết quả hiện trong nhật ký.", "A test event is on its way; its outcome shows in the log."
    ),
    "webhook_enabled": Text("Đăng ký đã được bật lại.", "The subscription is on again."),
    "parked_retries-exhausted": Text("hết thời gian thử lại", "retries ran out"),
    "parked_gone": Text("địa chỉ trả lời 410", "the address answered 410"),
    "parked_address-refused": Text("địa chỉ không được phép", "the address is not allowed"),
    "parked_subscription-disabled": Text("đăng ký đang tắt", "the subscription is off"),
    "parked_subscription-deleted": Text("đăng ký đã bị xoá", "the subscription was deleted"),
    # admins
    "announcements": Text("Thông báo chung", "Announcements"),
    "title_vi": Text("Tiêu đề (tiếng Việt)", "Title (Vietnamese)"),
    "title_en": Text("Tiêu đề (tiếng Anh)", "Title (English)"),
    "body_vi": Text("Nội dung (tiếng Việt)", "Text (Vietnamese)"),
    "body_en": Text("Nội dung (tiếng Anh)", "Text (English)"),
    "province": Text("Tỉnh (3 chữ số đầu của số định danh)", "Province (the first 3 digits of the ID number)"),
    "province_hint": Text("Để trống: gửi cho mọi người.", "Leave it empty to send to everyone."),
    "send_announcement": Text("Gửi thông báo", "Send the announcement"),
    "everyone": Text("mọi người", "everyone"),
    "progress_of": Text("Đã xử lý {handled} trên {total} thiết bị", "{handled} of {total} devices handled"),
    "progress_detail": Text(
        "đã gửi {sent}, lỗi {failed}, đang chờ {pending}, đã tắt thông báo {muted}",
        "sent {sent}, failed {failed}, waiting {pending}, muted {muted}",
    ),
    "state_planning": Text("Đang lập danh sách", "Planning"),
    "state_sending": Text("Đang gửi", "Sending"),
    "yielding": Text(
        "đang nhường thông báo riêng của công dân đi trước", "letting citizens' own notifications go first"
    ),
    "state_done": Text("Đã xong", "Done"),
    "accounts": Text("Tài khoản", "Accounts"),
    "clerks": Text("Cán bộ cơ quan", "Agency clerks"),
    "agency": Text("Cơ quan", "Agency"),
    "role": Text("Vai trò", "Role"),
    "actions": Text("Thao tác", "Actions"),
    "disable": Text("Khoá", "Disable"),
    "disable_who": Text("Khoá tài khoản {name}", "Disable {name}"),
    "disabled": Text("Đã khoá", "Disabled"),
    "new_clerk": Text("Tạo tài khoản cán bộ", "New clerk account"),
    "create": Text("Tạo", "Create"),
    "created_account": Text("Đã tạo tài khoản {name}", "Account {name} created"),
    "shown_once": Text(
        "Chỉ hiện một lần: hãy trao tận tay, rồi đóng trang này.",
        "Shown this once: hand it over, then close this page.",
    ),
    "agency_secrets": Text("Khoá bí mật của hệ thống cơ quan", "Agency systems' secrets"),
    "old_secret": Text("Khoá cũ còn dùng được đến", "Previous secret works until"),
    "rotate": Text("Đổi khoá", "Rotate"),
    "rotate_who": Text("Đổi khoá bí mật của {code}", "Rotate the secret of {code}"),
    "rotated": Text("Khoá mới của {code}", "New secret of {code}"),
    "old_secret_until": Text("Khoá cũ còn dùng được đến {at}.", "The previous secret works until {at}."),
    "staff_accounts": Text("Nhân viên hỗ trợ và quản trị", "Support staff and admins"),
    "new_staff": Text("Tạo tài khoản nhân viên", "New staff account"),
    "office": Text("Nơi làm việc", "Office"),
    "office_hint": Text(
        "Công dân thấy nơi này khi nhân viên tra cứu thông tin của họ.",
        "Citizens see it when the staff member looks them up.",
    ),
    "heads_only": Text("Chỉ trưởng bộ phận xem được trang này.", "Only the head of the unit may see this page."),
}


def language(request: Request[Any, Any, Any]) -> Language:
    """`?lang=` (kept in a cookie), else the cookie, else Accept-Language; Vietnamese by default."""
    asked = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if asked in ("vi", "en"):
        return asked  # type: ignore[return-value]
    return negotiate(request.headers.get("accept-language"))


class Words:
    """`t.key` or `t("key", name=...)` in a template: the text in the page's language."""

    def __init__(self, lang: Language) -> None:
        self.lang = lang

    def __getattr__(self, key: str) -> str:
        text = TEXTS.get(key)
        if text is None:
            raise AttributeError(key)  # Jinja asks for __html__ and the like
        return text.render(self.lang)

    def __getitem__(self, key: str) -> str:
        return TEXTS[key].render(self.lang)

    def __call__(self, key: str, **params: object) -> str:
        return TEXTS[key].render(self.lang, **params)

    def parked_reason(self, reason: str | None) -> str:
        """Why a delivery stopped, in words; an unknown reason as it is recorded."""
        text = TEXTS.get(f"parked_{reason}")
        return text.render(self.lang) if text else (reason or "-")

    def status_name(self, code: str) -> str:
        """A dossier status in words (the citizen's timeline's words); a procedure's own step by its code."""
        label = STATUS_LABELS.get(code)
        return label.render(self.lang) if label else code.replace("_", " ")
