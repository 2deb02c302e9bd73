"""Procedures remembered per API process, so an agency event or a dossier view does not read
its procedure from the store each time (decision 0016, issue 18).

The catalogue changes only when it is loaded (`load_catalogue`: `cwallet catalogue load`,
in any process). A load forgets every procedure here at once and announces it on a Redis
channel that every API process listens to, as session revocations are (decision 0017). A
remembered procedure is trusted only while this process's subscription is up (when it
breaks, everything is forgotten and each call reads the store until it is back), and for
no longer than `TTL_SECONDS` in any case: a write to the store that bypassed the loader is
seen within that time.
"""

from __future__ import annotations

from app.redis_channel import KeyedMemory, WholeMemoryChannel
from models.catalogue import Service

TTL_SECONDS = 60.0


# One per process, announced on `<QUEUE_NAME>:catalogue:changed` by every load.
CACHE: KeyedMemory[Service] = KeyedMemory(TTL_SECONDS)
CHANGES = WholeMemoryChannel(CACHE, "catalogue:changed", event="catalogue_changes")
# Call after the catalogue was written; the app's lifespan runs `listen`.
announce_changed = CHANGES.announce_changed
listen = CHANGES.listen
