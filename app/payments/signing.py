"""HMAC-SHA256 with the secret shared with the payment provider.

Two directions, one secret (as VNPay-style gateways do): our pay links carry a signature over
their query, so the provider knows the amount is ours; the provider's callback carries a
signature over its raw body, so we know the confirmation is the provider's. The callback
body holds a timestamp and a nonce, so the signature covers them too.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

SIGNATURE_HEADER = "X-Signature"
SIGNATURE_PREFIX = "sha256="
# The fields of a pay link, in the order they are signed.
PAY_LINK_FIELDS = ("merchant", "reference", "amount", "notify_url")
MERCHANT = "cwallet"


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes) -> str:
    return SIGNATURE_PREFIX + sign(secret, body)


def valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    # Constant-time comparison: the time taken says nothing about how much of it matched.
    return hmac.compare_digest(sign(secret, body), header.removeprefix(SIGNATURE_PREFIX))


def pay_link_message(params: dict[str, str]) -> bytes:
    return urlencode([(k, params[k]) for k in PAY_LINK_FIELDS]).encode()


def pay_url(provider_url: str, secret: str, notify_url: str, reference: str, amount_vnd: int) -> str:
    params = {"merchant": MERCHANT, "reference": reference, "amount": str(amount_vnd), "notify_url": notify_url}
    signature = sign(secret, pay_link_message(params))
    return f"{provider_url.rstrip('/')}/pay?{urlencode({**params, 'signature': signature})}"
