"""Which catalogue service renews a document type (for expiry reminders and their pushes)."""

from __future__ import annotations

from app.catalogue import store
from models.catalogue import Service


async def renewal_service(document_type: str) -> Service | None:
    """The service whose result is this type; a dedicated renewal procedure (code with
    "RENEW") wins over a first issue, and the code decides between equals so it is stable."""
    services = await store.services_with_result(document_type)
    if not services:
        return None
    return min(services, key=lambda s: ("RENEW" not in s.code.upper(), s.code))
