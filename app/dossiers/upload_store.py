"""The dossiers area's second store module: the bytes of the papers citizens upload
(GridFS bucket `attachments`), apart from the dossiers that refer to them (app/dossiers/store.py).

Who may delete an upload is settled by conditional writes on its file record: a filing
claims it (`claim_upload`), the retention cron takes it (`take_for_purge`), and one of the
two wins (decision 0028).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from gridfs import AsyncGridFSBucket, AsyncGridOut
from gridfs.errors import NoFile

from models.common import utcnow
from models.dossier import Dossier

BUCKET = "attachments"
_indexed = False


def _bucket() -> AsyncGridFSBucket:
    return AsyncGridFSBucket(Dossier.get_pymongo_collection().database, bucket_name=BUCKET)


def _files() -> Any:
    return Dossier.get_pymongo_collection().database[f"{BUCKET}.files"]


async def _ensure_upload_indexes() -> None:
    global _indexed
    if not _indexed:
        await _files().create_index([("metadata.citizen_id", 1), ("metadata.sha256", 1)])
        # The retention cron's scan of old uploads (attachments.purge_unattached).
        await _files().create_index([("uploadDate", 1)])
        _indexed = True


async def upload_by_digest(citizen_id: PydanticObjectId, digest: str) -> dict[str, Any] | None:
    """The citizen's upload of these bytes, if any (not one the retention cron is deleting)."""
    await _ensure_upload_indexes()
    found: dict[str, Any] | None = await _files().find_one(
        {"metadata.citizen_id": citizen_id, "metadata.sha256": digest, "metadata.purging": {"$ne": True}}
    )
    return found


async def store_upload(filename: str, data: bytes, metadata: dict[str, Any]) -> dict[str, Any] | None:
    """Store the bytes; the stored file's record."""
    file_id = await _bucket().upload_from_stream(filename, data, metadata=metadata)
    stored: dict[str, Any] | None = await _files().find_one({"_id": file_id})
    return stored


async def upload_of(citizen_id: PydanticObjectId, upload_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = await _files().find_one({"_id": upload_id, "metadata.citizen_id": citizen_id})
    return found


async def open_upload(file_id: Any) -> AsyncGridOut:
    """Raises NoFile when the bytes are gone."""
    return await _bucket().open_download_stream(file_id)


async def old_unchecked_uploads(
    before: datetime, citizen_ids: list[ObjectId] | None, batch: int
) -> AsyncIterator[dict[str, Any]]:
    """Uploads made before `before` not yet found attached to a dossier (retention)."""
    await _ensure_upload_indexes()
    query: dict[str, Any] = {"uploadDate": {"$lt": before}, "metadata.attached": {"$ne": True}}
    if citizen_ids is not None:
        query["metadata.citizen_id"] = {"$in": citizen_ids}
    async for raw in _files().find(query, {"_id": 1, "metadata.citizen_id": 1}).limit(batch):
        yield raw


# An attachment's claim keeps the retention cron off an upload for this long: far longer than
# a request takes to store the dossier that refers to it.
CLAIM_GRACE = timedelta(hours=1)


async def claim_upload(upload_id: Any) -> bool:
    """Before a dossier refers to an upload: False if the retention cron has taken it. The
    claim and the cron's `take_for_purge` are conditional writes on the same document, so one
    of them wins: the dossier never refers to a deleted file."""
    claimed = await _files().update_one(
        {"_id": upload_id, "metadata.purging": {"$ne": True}}, {"$set": {"metadata.claimed_at": utcnow()}}
    )
    return bool(claimed.matched_count == 1)


async def take_for_purge(upload_id: Any) -> bool:
    """Mark an upload as being deleted, unless it is known attached or was claimed within
    CLAIM_GRACE (the next run looks again); from then on no dossier can claim it."""
    taken = await _files().update_one(
        {
            "_id": upload_id,
            "metadata.attached": {"$ne": True},
            "$or": [
                {"metadata.claimed_at": {"$exists": False}},
                {"metadata.claimed_at": {"$lt": utcnow() - CLAIM_GRACE}},
            ],
        },
        {"$set": {"metadata.purging": True}},
    )
    return bool(taken.matched_count == 1)


async def release_from_purge(upload_id: Any) -> None:
    await _files().update_one({"_id": upload_id}, {"$unset": {"metadata.purging": ""}})


async def upload_attached(owner: Any, upload_id: Any) -> bool:
    """Whether a dossier of its owner refers to the upload; if so it is marked, so it is checked once."""
    if await Dossier.get_pymongo_collection().find_one(
        {"citizen_id": owner, "attachments.upload_id": upload_id}, {"_id": 1}
    ):
        await _files().update_one({"_id": upload_id}, {"$set": {"metadata.attached": True}})
        return True
    return False


async def delete_upload(file_id: Any) -> bool:
    """Delete the file; False if it was gone already (two retention runs at once)."""
    try:
        await _bucket().delete(file_id)
    except NoFile:
        return False
    return True
