"""Papers attached to dossiers: uploads kept in GridFS, and documents of the wallet.

An upload is accepted by what its bytes are, never by its name or declared type: PDF, JPEG
or PNG, recognised by their magic numbers, and no bigger than the configured cap. The same
file uploaded twice by the same citizen is stored once.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId
from gridfs.errors import NoFile
from litestar.datastructures import UploadFile

from app.dossiers import store, upload_store
from app.dossiers.schemas import AttachmentIn, UploadOut
from app.errors import AppError, FieldProblem, Text, not_found
from models.catalogue import AttachmentSpec, Service
from models.common import utcnow
from models.dossier import AttachmentRef, Dossier
from models.wallet import WalletDocument

CHUNK = 256 * 1024
ATTACHMENT = Text("tệp đính kèm", "attachment")
# Magic numbers of the only types accepted.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(head: bytes) -> str | None:
    """The content type the bytes really are, or None when they are none we accept."""
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def too_large(limit: int) -> AppError:
    return AppError(
        413,
        "file-too-large",
        Text("Tệp quá lớn", "File too large"),
        Text(
            "Tệp vượt quá {mb} MB. Hãy quét lại với độ phân giải thấp hơn hoặc chia thành nhiều tệp rồi tải lên lại.",
            "The file is larger than {mb} MB. Scan it at a lower resolution or split it, then upload again.",
        ),
        params={"mb": round(limit / (1024 * 1024), 1)},
    )


UNSUPPORTED_TYPE = AppError(
    415,
    "unsupported-file-type",
    Text("Loại tệp không được chấp nhận", "File type not accepted"),
    Text(
        "Chỉ nhận tệp PDF, JPEG hoặc PNG, và nội dung tệp phải đúng là loại đó (tên tệp không quyết định). Hãy xuất "
        "hoặc chụp lại giấy tờ ở dạng PDF, JPEG hoặc PNG rồi tải lên lại.",
        "Only PDF, JPEG or PNG files are accepted, and the content must really be one of them (the file name does "
        "not count). Export or photograph the paper as PDF, JPEG or PNG and upload it again.",
    ),
)

EMPTY_FILE = AppError(
    422,
    "empty-file",
    Text("Tệp rỗng", "Empty file"),
    Text(
        "Tệp không có nội dung. Hãy chọn lại tệp rồi tải lên.", "The file is empty. Pick the file again and upload it."
    ),
)


def _upload_out(raw: dict[str, Any]) -> UploadOut:
    meta = raw.get("metadata") or {}
    return UploadOut(
        id=str(raw["_id"]),
        filename=raw.get("filename") or "",
        content_type=meta.get("content_type", ""),
        size=int(raw.get("length", 0)),
        sha256=meta.get("sha256", ""),
        uploaded_at=raw["uploadDate"],
    )


@dataclass(frozen=True)
class CheckedFile:
    """An upload's bytes, read within the cap and recognised by their content; not stored yet."""

    filename: str
    data: bytes
    content_type: str
    sha256: str


async def check(file: UploadFile, max_bytes: int) -> CheckedFile:
    """Read and judge one upload without storing it: within the cap, not empty, PDF/JPEG/PNG."""
    data = bytearray()
    while chunk := await file.read(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise too_large(max_bytes)
    if not data:
        raise EMPTY_FILE
    content_type = sniff(bytes(data[:16]))
    if content_type is None:
        raise UNSUPPORTED_TYPE
    # Only the base name, trimmed: it is shown back to its owner, never trusted for anything.
    filename = (file.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:120] or "upload"
    return CheckedFile(filename, bytes(data), content_type, hashlib.sha256(data).hexdigest())


async def keep(citizen_id: PydanticObjectId, checked: CheckedFile) -> tuple[UploadOut, bool]:
    """Store a checked upload for the citizen; the same bytes again give their first upload
    back. Returns it and whether this call stored it."""
    existing = await upload_store.upload_by_digest(citizen_id, checked.sha256)
    if existing is not None:
        return _upload_out(existing), False
    stored = await upload_store.store_upload(
        checked.filename,
        checked.data,
        {"citizen_id": citizen_id, "content_type": checked.content_type, "sha256": checked.sha256},
    )
    assert stored is not None
    return _upload_out(stored), True


async def upload(citizen_id: PydanticObjectId, file: UploadFile, max_bytes: int) -> UploadOut:
    """Check and store one upload; the same bytes again give the first upload back."""
    return (await keep(citizen_id, await check(file, max_bytes)))[0]


async def discard(citizen_id: PydanticObjectId, upload_ids: list[str]) -> None:
    """Delete uploads a failed filing stored (`keep` said it stored them), unless a dossier
    refers to them meanwhile: nothing of a refused filing stays behind."""
    for upload_id in upload_ids:
        raw = await find_upload(citizen_id, upload_id)
        if raw is not None and not await upload_store.upload_attached(citizen_id, raw["_id"]):
            await upload_store.delete_upload(raw["_id"])


async def find_upload(citizen_id: PydanticObjectId, upload_id: str | ObjectId) -> dict[str, Any] | None:
    try:
        oid = ObjectId(upload_id)
    except (InvalidId, TypeError):
        return None
    return await upload_store.upload_of(citizen_id, oid)


@dataclass
class StoredFile:
    filename: str
    content_type: str
    size: int
    chunks: AsyncIterator[bytes]


async def open_upload(citizen_id: PydanticObjectId, upload_id: str | ObjectId) -> StoredFile:
    """An upload of this citizen, to stream back; anyone else's answers like a missing one."""
    raw = await find_upload(citizen_id, upload_id)
    if raw is None:
        raise not_found(ATTACHMENT)
    try:
        stream = await upload_store.open_upload(raw["_id"])
    except NoFile:
        raise not_found(ATTACHMENT) from None

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await stream.readchunk():
            yield chunk
        await stream.close()

    meta = raw.get("metadata") or {}
    return StoredFile(
        raw.get("filename") or "file", meta.get("content_type", "application/octet-stream"), raw["length"], chunks()
    )


# --- attaching to a dossier ---------------------------------------------------------------


def _problem(field: str, vi: str, en: str, **params: object) -> FieldProblem:
    return FieldProblem(field, Text(vi, en), dict(params))


async def wallet_document(citizen_id: PydanticObjectId, document_id: str | ObjectId) -> WalletDocument | None:
    try:
        oid = PydanticObjectId(document_id)
    except (InvalidId, TypeError):
        return None
    return await store.citizens_wallet_document(citizen_id, oid)


async def reference(
    citizen_id: PydanticObjectId,
    spec: AttachmentSpec,
    upload_id: str | None,
    document_id: str | None,
    field: str,
    now: datetime | None = None,
) -> tuple[AttachmentRef | None, FieldProblem | None]:
    """One paper for `spec`, checked: the citizen's own upload, or a valid wallet document of a type it accepts."""
    now = now or utcnow()
    if (upload_id is None) == (document_id is None):
        return None, _problem(
            field,
            "Gửi đúng một trong hai: upload_id (tệp đã tải lên) hoặc document_id (giấy tờ trong ví).",
            "Send exactly one of upload_id (an uploaded file) or document_id (a wallet document).",
        )
    if upload_id is not None:
        if not spec.upload:
            return None, _problem(
                field,
                "Giấy tờ '{name}' phải lấy từ ví (loại: {types}), không nhận tệp tải lên.",
                "'{name}' must come from your wallet (types: {types}); uploads are not accepted for it.",
                name=spec.name,
                types=", ".join(spec.wallet_types),
            )
        raw = await find_upload(citizen_id, upload_id)
        if raw is None or not await upload_store.claim_upload(raw["_id"]):
            # Unknown, someone else's, or being deleted as never attached (models/retention.py).
            return None, _problem(
                field,
                "Không tìm thấy tệp đã tải lên này (tệp không được gắn vào hồ sơ nào sau 7 ngày sẽ bị xoá). Hãy "
                "tải tệp lên lại qua POST /api/v1/me/attachments rồi dùng id trả về.",
                "No such upload (files not attached to a dossier within 7 days are deleted). Upload the file "
                "again with POST /api/v1/me/attachments and use the id it returns.",
            )
        meta = raw.get("metadata") or {}
        return AttachmentRef(
            name=spec.name,
            source="upload",
            upload_id=PydanticObjectId(raw["_id"]),
            content_type=meta.get("content_type"),
            size=int(raw.get("length", 0)),
            added_at=now,
        ), None
    assert document_id is not None
    document = await wallet_document(citizen_id, document_id)
    if document is None or document.type not in spec.wallet_types:
        return None, _problem(
            field,
            "Giấy tờ này không có trong ví của bạn hoặc không dùng được cho '{name}'. Loại được nhận: {types}.",
            "This document is not in your wallet or does not fit '{name}'. Accepted types: {types}.",
            name=spec.name,
            types=", ".join(spec.wallet_types) or "-",
        )
    if document.shown_status(date.today()) != "valid":
        return None, _problem(
            field,
            "Giấy tờ này không còn hiệu lực. Hãy dùng giấy tờ còn hiệu lực hoặc tải lên bản quét.",
            "This document is no longer valid. Use a valid one or upload a scan.",
        )
    return AttachmentRef(
        name=spec.name, source="wallet", document_id=document.id, document_type=document.type, added_at=now
    ), None


async def resolve(
    citizen_id: PydanticObjectId, service: Service, attached: list[AttachmentIn]
) -> tuple[list[AttachmentRef], list[FieldProblem]]:
    """The papers of a new dossier: each known to the procedure, owned by the citizen, and
    every required one present. Returns them and every problem at once."""
    specs = {spec.name: spec for spec in service.attachments}
    refs: list[AttachmentRef] = []
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for index, item in enumerate(attached):
        field = f"attachments[{index}]"
        spec = specs.get(item.name)
        if spec is None:
            problems.append(
                _problem(
                    f"{field}.name",
                    "Thủ tục này không cần giấy tờ '{name}'. Các giấy tờ: {known}.",
                    "This service takes no paper named '{name}'. Its papers are: {known}.",
                    name=item.name,
                    known=", ".join(specs) or "-",
                )
            )
            continue
        if item.name in seen:
            problems.append(
                _problem(f"{field}.name", "'{name}' đã có ở trên.", "'{name}' is listed twice.", name=item.name)
            )
            continue
        seen.add(item.name)
        ref, problem = await reference(citizen_id, spec, item.upload_id, item.document_id, field)
        if problem is not None:
            problems.append(problem)
        elif ref is not None:
            refs.append(ref)
    for spec in service.attachments:
        if spec.required and spec.name not in seen:
            problems.append(
                FieldProblem(
                    f"attachments.{spec.name}",
                    Text(
                        "Thiếu giấy tờ bắt buộc '{label}'. Hãy tải lên (PDF, JPEG, PNG) hoặc chọn từ ví.",
                        "The required paper '{label}' is missing. Upload it (PDF, JPEG, PNG) or pick it from your "
                        "wallet.",
                    ),
                    {"label": Text(spec.label.vi, spec.label.en)},
                )
            )
    return refs, problems


def attached_upload_ids(dossier: Dossier) -> set[ObjectId]:
    """Every upload the dossier refers to: its papers and the supplement answers."""
    ids = {ObjectId(a.upload_id) for a in dossier.attachments if a.upload_id}
    if dossier.supplement:
        ids |= {ObjectId(i.answer.upload_id) for i in dossier.supplement.items if i.answer and i.answer.upload_id}
    return ids


async def purge_unattached(before: datetime, citizen_ids: list[ObjectId] | None = None, batch: int = 500) -> int:
    """Delete uploads made before `before` that no dossier of their owner refers to (retention:
    models/retention.py). Each is first taken (`upload_store.take_for_purge`), which a filing that
    claimed it lately prevents and which stops any later claim; then the dossiers are read. So
    a file attached in the same moment is either kept or refused to the filing ("upload it
    again"), never deleted under a dossier. One found attached is marked, so each is checked
    once, not daily."""
    purged = 0
    async for raw in upload_store.old_unchecked_uploads(before, citizen_ids, batch):
        if not await upload_store.take_for_purge(raw["_id"]):
            continue
        owner = (raw.get("metadata") or {}).get("citizen_id")
        if await upload_store.upload_attached(owner, raw["_id"]):
            await upload_store.release_from_purge(raw["_id"])
            continue
        purged += await upload_store.delete_upload(raw["_id"])
    return purged
