"""SMS: the texts (one GSM-7 part) and the provider boundary.

Texts are in the language of the citizen's app (their most recently registered phone's; none:
Vietnamese). Vietnamese texts are WITHOUT diacritics, in the GSM-7 alphabet, at most 160 characters: one
SMS part on every network and every phone. With diacritics a message is UCS-2, 70
characters a part, and our texts would take two or three parts at two or three times the
price, with parts that some older phones join badly; Vietnamese readers read unaccented SMS
every day (banks and carriers send them so). No sensitive detail: no procedure or document
type, no name, no amount; the dossier code only where the notice is about a dossier, and the
app (behind login) shows the rest.

The provider is an HTTP API (`SMS_PROVIDER_URL`): `POST /messages {to, text, reference}` with
`Authorization: Bearer <SMS_API_KEY>` → 2xx `{id}`. 429, 5xx, timeouts and refused connections
are worth retrying; other 4xx are not (the number or the text was refused). The local
emulator (devtools/sms_emulator.py) speaks the same.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import httpx

SMS_PART = 160
# The GSM 03.38 basic alphabet (the escape table's characters cost two and are not used).
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

TEXTS: dict[str, str] = {
    "supplement_required": "Ho so {code} can bo sung giay to. Mo ung dung Vi Cong dan de xem va tra loi truoc han.",
    "payment_requested": "Ho so {code} dang cho thanh toan le phi. Mo ung dung Vi Cong dan de thanh toan.",
    "result_ready": "Ket qua ho so {code} da san sang. Mo ung dung Vi Cong dan de xem cach nhan.",
    "document_revoked": "Mot giay to trong Vi Cong dan cua ban vua bi thu hoi. Mo ung dung de xem chi tiet.",
    "document_suspended": "Mot giay to trong Vi Cong dan cua ban vua bi tam dinh chi. Mo ung dung de xem chi tiet.",
}
FALLBACK = "Ban co thong bao quan trong chua doc. Mo ung dung Vi Cong dan de xem chi tiet."
TEXTS_EN: dict[str, str] = {
    "supplement_required": (
        "Dossier {code} needs more documents. Open the Citizen Wallet app to see which and reply in time."
    ),
    "payment_requested": "Dossier {code} is waiting for its fee. Open the Citizen Wallet app to pay.",
    "result_ready": "The result of dossier {code} is ready. Open the Citizen Wallet app to see how to receive it.",
    "document_revoked": "A paper in your Citizen Wallet was revoked. Open the app for details.",
    "document_suspended": "A paper in your Citizen Wallet was suspended. Open the app for details.",
}
FALLBACK_EN = "You have an important unread notice. Open the Citizen Wallet app for details."


def to_gsm7(text: str) -> str:
    """Vietnamese without diacritics (đ → d), anything else outside GSM-7 dropped."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in plain if not unicodedata.combining(c) and c in GSM7)


def sms_text(notice: str, dossier_code: str | None, language: str = "vi") -> str:
    texts, fallback = (TEXTS_EN, FALLBACK_EN) if language == "en" else (TEXTS, FALLBACK)
    template = texts.get(notice, fallback)
    if "{code}" in template and not dossier_code:
        template = fallback
    text = to_gsm7(template.format(code=dossier_code or ""))
    if len(text) > SMS_PART:
        raise ValueError(f"SMS text for {notice} is {len(text)} characters, over one part")
    return text


@dataclass(frozen=True)
class SmsResult:
    sent: bool
    retryable: bool = False
    provider_id: str | None = None
    error: str | None = None


class SmsSender:
    def __init__(self, base_url: str, api_key: str, timeout: float = 5.0) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            trust_env=False,
            headers={"authorization": f"Bearer {api_key}"},
        )

    async def send(self, to: str, text: str, reference: str) -> SmsResult:
        try:
            answer = await self.client.post("/messages", json={"to": to, "text": text, "reference": reference})
        except httpx.TimeoutException:
            return SmsResult(False, retryable=True, error="timeout")
        except httpx.HTTPError as exc:
            return SmsResult(False, retryable=True, error=type(exc).__name__)
        if answer.is_success:
            try:
                provider_id = str(answer.json().get("id", "")) or None
            except (ValueError, AttributeError):
                provider_id = None  # taken all the same: an odd answer body must not send it twice
            return SmsResult(True, provider_id=provider_id)
        retryable = answer.status_code == 429 or answer.status_code >= 500
        return SmsResult(False, retryable=retryable, error=f"http-{answer.status_code}")

    async def aclose(self) -> None:
        await self.client.aclose()
