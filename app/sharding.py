"""The shard key of each collection, in one table (docs/scale.md explains each choice).

Nothing here shards anything: MongoDB is told with `sh.shardCollection` when a deployment
outgrows one replica set. The table is what the code promises meanwhile: every hot query
names its collection's shard key with an equality, so a sharded cluster sends it to one
shard (tests/integration/dossiers/test_shard_keys.py watches the commands the app sends).
"""

from __future__ import annotations

from typing import Final

# collection → (shard key field, how MongoDB splits it)
SHARD_KEYS: Final[dict[str, tuple[str, str]]] = {
    # A citizen's wallet, sessions, phones, inbox and access log: every read is by citizen.
    "citizens": ("_id", "hashed"),
    "documents": ("citizen_id", "hashed"),
    "auth_sessions": ("_id", "hashed"),
    "devices": ("citizen_id", "hashed"),
    "notifications": ("citizen_id", "hashed"),
    "access_records": ("citizen_id", "hashed"),
    "payments": ("citizen_id", "hashed"),
    # Dossiers are worked on by agencies: the worklist and an agency's reads are by agency.
    # Ranged with _id ({agency_code: 1, _id: 1}), so one large agency spans several chunks.
    "dossiers": ("agency_code", "range"),
}


def shard_key(collection: str) -> str | None:
    entry = SHARD_KEYS.get(collection)
    return entry[0] if entry else None
