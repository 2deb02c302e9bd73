"""Small rules with no server: content sniffing, HMAC signatures, the status table."""

from __future__ import annotations

import pytest

from app.dossiers.attachments import sniff
from app.payments.signing import pay_link_message, pay_url, sign, signature_header, valid_signature
from models.dossier_status import TRANSITIONS, DossierStatus, allowed_next


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.4\n", "application/pdf"),
        (b"\xff\xd8\xff\xdb", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"GIF89a", None),
        (b"PK\x03\x04", None),  # a zip (or .docx) renamed .pdf
        (b" %PDF-1.4", None),
        (b"", None),
    ],
)
def test_sniffing_by_magic_numbers(head: bytes, expected: str | None) -> None:
    assert sniff(head) == expected


def test_signatures() -> None:
    body = b'{"reference":"PAY-1","status":"paid"}'
    header = signature_header("s3cret", body)
    assert valid_signature("s3cret", body, header)
    assert not valid_signature("other", body, header)
    assert not valid_signature("s3cret", body + b" ", header)
    assert not valid_signature("s3cret", body, header.removeprefix("sha256="))
    assert not valid_signature("s3cret", body, None)


def test_pay_links_sign_their_query() -> None:
    url = pay_url("http://pay.local/", "k", "http://api/cb", "PAY-HS-1", 200000)
    assert url.startswith("http://pay.local/pay?merchant=cwallet&reference=PAY-HS-1&amount=200000")
    message = pay_link_message(
        {"merchant": "cwallet", "reference": "PAY-HS-1", "amount": "200000", "notify_url": "http://api/cb"}
    )
    assert url.endswith("signature=" + sign("k", message))


def test_the_citizen_moves_only_where_the_contract_says() -> None:
    assert allowed_next("citizen", DossierStatus.SUBMITTED) == {DossierStatus.WITHDRAWN}
    assert allowed_next("citizen", DossierStatus.RECEIVED) == frozenset()
    assert allowed_next("postal", DossierStatus.RESULT_READY) == {DossierStatus.COMPLETED}
    # No actor can leave a final status.
    for actor in TRANSITIONS.values():
        for final in (DossierStatus.REJECTED, DossierStatus.COMPLETED, DossierStatus.WITHDRAWN):
            assert final not in actor
