"""The audit trail: who read or changed a citizen's data, and the changes the citizen made.

Records are appended by anyone (plain inserts, cheap on hot paths) and then *sealed* in one
chain by a single sealer: each sealed record gets the next `seq`, the previous record's hash
and its own hash over its content. Editing, deleting or reordering sealed records breaks the
chain, which `cwallet audit verify` finds and names.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from models.common import utcnow

# "public": someone who gave a dossier's code and tracking secret, without signing in.
ActorKind = Literal[
    "citizen", "guardian", "agency", "staff", "verifier", "admin", "system", "postal", "payment", "public"
]
GENESIS_HASH = "0" * 64
# The fields a record's hash covers. Adding one later needs a new chain version.
HASHED_FIELDS = (
    "citizen_id",
    "actor_kind",
    "actor_id",
    "client",
    "action",
    "target",
    "reason",
    "result",
    "changed_fields",
    "at",
)


class AccessRecord(Document):
    citizen_id: PydanticObjectId
    actor_kind: ActorKind
    actor_id: str
    action: str  # e.g. "dossier.read", "document.issue", "POST /api/v1/me/devices"
    target: str  # what was read or changed, e.g. a dossier code
    reason: str | None = None
    # The application or office the actor acted through (agency code, staff office, app).
    client: str | None = None
    result: str = "ok"
    # Names only, never values: the trail must not become a second copy of personal data.
    changed_fields: list[str] = Field(default_factory=list)
    at: datetime = Field(default_factory=utcnow)
    # Filled by the sealer.
    seq: int | None = None
    prev_hash: str | None = None
    hash: str | None = None
    # The sealing run that claimed it (not hashed): a run that meets a conflict undoes only its
    # own claims, even where another run computed the very same seal.
    sealed_by: str | None = None

    class Settings:
        name = "access_records"
        indexes = [
            IndexModel([("citizen_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            IndexModel([("seq", pymongo.ASCENDING)]),
        ]


class AuditChainHead(Document):
    """The last sealed record of the chain, moved forward by compare-and-set."""

    seq: int = 0
    hash: str = GENESIS_HASH

    class Settings:
        name = "audit_chain_head"


def record_hash(raw: dict[str, Any], seq: int, prev_hash: str) -> str:
    content: dict[str, Any] = {name: raw.get(name) for name in HASHED_FIELDS}
    content["citizen_id"] = str(content["citizen_id"])
    at = content["at"]
    # Milliseconds in UTC, as BSON keeps them, so the hash is the same before and after storing.
    content["at"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}" if at else None
    payload = json.dumps({"seq": seq, "prev": prev_hash, "record": content}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
