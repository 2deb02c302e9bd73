"""Why a presentation is refused: a stable code, an HTTP status, and texts a verifier can
show as they are (vi/en), each saying what to do next."""

from __future__ import annotations

from app.errors import AppError, Text

_TITLE = Text("Không chấp nhận giấy tờ", "Document not accepted")
_NEW_CODE = Text(
    " Đề nghị người xuất trình tạo mã mới trong ứng dụng.", " Ask the holder to create a new code in the app."
)

# code → (HTTP status, what happened and what to do)
REASONS: dict[str, tuple[int, Text]] = {
    "presentation-malformed": (
        422,
        Text(
            "Mã này không đọc được hoặc không phải mã xuất trình giấy tờ của Ví công dân. Hãy quét lại.",
            "This code cannot be read or is not a Citizen Wallet presentation. Scan it again.",
        ),
    ),
    "presentation-tampered": (
        422,
        Text(
            "Chữ ký không khớp: nội dung mã đã bị sửa. Không chấp nhận mã này.",
            "The signature does not match: the code has been altered. Do not accept it.",
        ),
    ),
    "presentation-unknown-key": (
        422,
        Text(
            "Mã được ký bằng một khoá không do Ví công dân công bố. Không chấp nhận mã này.",
            "The code is signed with a key Citizen Wallet has not published. Do not accept it.",
        ),
    ),
    "presentation-expired": (
        410,
        Text("Mã đã hết thời hạn sử dụng.", "The code has expired."),
    ),
    "presentation-used": (
        410,
        Text(
            "Mã này chỉ dùng được một lần và đã được kiểm tra trước đó.",
            "This code could be checked once only, and it has been checked already.",
        ),
    ),
    "presentation-withdrawn": (
        410,
        Text(
            "Người xuất trình đã huỷ mã này, hoặc mã không còn tồn tại.",
            "The holder withdrew this code, or it no longer exists.",
        ),
    ),
    "document-revoked": (
        409,
        Text(
            "Giấy tờ đã bị cơ quan cấp thu hồi. Không chấp nhận giấy tờ này.",
            "The issuing agency has revoked this document. Do not accept it.",
        ),
    ),
    "document-suspended": (
        409,
        Text(
            "Giấy tờ đang bị cơ quan cấp tạm đình chỉ. Không chấp nhận giấy tờ này lúc này.",
            "The issuing agency has suspended this document. Do not accept it for now.",
        ),
    ),
    "document-expired": (
        409,
        Text("Giấy tờ đã hết hạn. Không chấp nhận giấy tờ này.", "The document has expired. Do not accept it."),
    ),
    "document-superseded": (
        409,
        Text(
            "Giấy tờ đã được thay bằng phiên bản mới.",
            "The document has been replaced by a newer version.",
        ),
    ),
    "document-integrity": (
        409,
        Text(
            "Dữ liệu giấy tờ không khớp chữ ký của nơi cấp. Không chấp nhận giấy tờ này.",
            "The document's data does not match its issuer's signature. Do not accept it.",
        ),
    ),
}
# The holder can fix these by showing a fresh code (of the newest version).
_FIXED_BY_NEW_CODE = {"presentation-expired", "presentation-used", "presentation-withdrawn", "document-superseded"}


def refusal(code: str) -> AppError:
    status, text = REASONS[code]
    if code in _FIXED_BY_NEW_CODE:
        text = Text(text.vi + _NEW_CODE.vi, text.en + _NEW_CODE.en)
    return AppError(status, code, _TITLE, text, extra={"verified": False})
