"""Seeding the store for a benchmark: citizens with documents, dossiers and phones.

Each kind of document is validated once by its Beanie model (every default filled in), then
copied per seeded document with the fields that differ, and written with `insert_many` in batches, which is
orders of magnitude faster than going through the API. The indexes exist before the first
insert (`init_beanie` creates them), so every insert pays for them as in production.
Citizen tokens are minted with the API's own JWT settings for sessions created here: the
API checks them exactly like tokens it issued.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie.odm.utils.encoder import Encoder
from bson import ObjectId
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app import db
from app.catalogue.service import load_catalogue
from app.config import Settings
from app.security import AUDIENCES, ISSUER, build_jwt_auth, hash_password
from bench.stats import progress_marks
from models.agency import Agency, Staff
from models.citizen import AuthSession, Citizen, Device
from models.dossier import Dossier
from models.wallet import WalletDocument

Doc = dict[str, Any]
PASSWORD = "bench-password-2026"
AGENCY_SECRET = "bench-agency-secret-2026"
DOCUMENT_TYPES = ("citizen_id_card", "health_insurance_card", "driver_licence")
# Dossier statuses of a seeded population, in proportions an agency's worklist might show.
SEEDED_STATUSES = ("submitted", "received", "processing", "approved", "completed", "completed")
FORMS: dict[str, dict[str, Any]] = {
    "DL_RENEWAL": {
        "current_licence_number": "790123456789",
        "licence_class": "B2",
        "health_certificate_date": "2026-11-01",
    },
    "CRIMINAL_RECORD": {"certificate_type": "1", "purpose": "Xin việc", "copies": 1},
    "RESIDENCE_REGISTRATION": {"new_address": "5 Trần Phú, Nha Trang, Khánh Hòa"},
    "PASSPORT": {"reason": "Du lịch"},
    "BIRTH_REGISTRATION": {
        "child_full_name": "Nguyễn Minh Khang",
        "child_date_of_birth": "2026-10-01",
        "place_of_birth": "Hà Nội",
    },
}
ProgressFn = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def national_id(index: int) -> str:
    return f"079{index:09d}"


def phone(index: int) -> str:
    # 03x numbers: the test suite makes 09x ones, so the two never collide in one store.
    return f"+843{index:08d}"


def device_token(index: int) -> str:
    return f"bench-fcm-{index:09d}"


def template(model: type[BaseModel], **values: Any) -> Doc:
    """`values` validated by the model, with every default filled in, as Beanie stores it.

    Documents are copied from these templates, so a field the models gain later is seeded
    too; Beanie must be initialised (its Documents refuse to validate before).
    """
    validated = model.model_validate(values)
    encoded: Doc = Encoder(to_db=True, exclude={"id", "revision_id"}).encode(validated)
    encoded.pop("_id", None)
    return encoded


@dataclass
class Templates:
    """One stored shape per kind of seeded document, made once per seeding call."""

    now: datetime
    password_hash: str
    services: Sequence[Doc]

    def __post_init__(self) -> None:
        now, owner = self.now, ObjectId()
        self.citizen = template(
            Citizen,
            national_id=national_id(0),
            full_name="Nguyễn Thị Bench",
            date_of_birth="1990-03-04",
            phone=phone(0),
            password_hash=self.password_hash,
            eid_level=2,
            created_at=now,
        )
        self.documents = [
            template(
                WalletDocument,
                citizen_id=owner,
                type=kind,
                number="0",
                issuer="BCA",
                issued_at=now,
                valid_from="2024-01-15",
                valid_until="2034-01-15",
                fields={"full_name": "Nguyễn Thị Bench", "place_of_origin": "Hà Nội", "class": "B2"},
                issue_event_id="0",
            )
            for kind in DOCUMENT_TYPES
        ]
        placeholder = "replaced-per-document"
        self.device = template(
            Device, citizen_id=owner, token=placeholder, platform="android", created_at=now, updated_at=now
        )
        self.session = template(
            AuthSession,
            citizen_id=owner,
            refresh_token_hash=placeholder,
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(days=30),
            user_agent="bench",
        )
        # One per (service, status): the history differs, the rest is copied per dossier.
        self.dossiers = {
            (service["code"], status): self._dossier(service, status)
            for service in self.services
            for status in (*SEEDED_STATUSES, "submitted")
        }

    def _dossier(self, service: Doc, status: str) -> Doc:
        submitted = self.now - timedelta(days=3)
        history: list[Doc] = [{"status": "submitted", "at": submitted, "actor": "citizen"}]
        event_ids: list[str] = []
        if status != "submitted":
            event_ids.append(f"seed-{status}")
            actor = f"agency:{service['agency_code']}"
            history.append({"status": status, "at": self.now, "event_id": event_ids[0], "actor": actor})
        postal = service["code"] == "PASSPORT"
        delivery = {"method": "postal", "address": "5 Trần Phú, Nha Trang"} if postal else {"method": "online"}
        return template(
            Dossier,
            code="0",
            citizen_id=ObjectId(),
            # The seeded citizens are adults, as submission would record it.
            had_guardians=False,
            service_code=service["code"],
            agency_code=service["agency_code"],
            status=status,
            form=FORMS.get(service["code"], {}),
            delivery=delivery,
            submitted_at=submitted,
            due_at=submitted + timedelta(days=10),
            history=history,
            event_ids=event_ids,
            changed_at=self.now,
        )

    def citizen_doc(self, index: int) -> Doc:
        return {**self.citizen, "_id": ObjectId(), "national_id": national_id(index), "phone": phone(index)}

    def wallet_docs(self, citizen_id: ObjectId, index: int, count: int) -> list[Doc]:
        return [
            {
                **self.documents[n],
                "_id": ObjectId(),
                "citizen_id": citizen_id,
                "number": f"{n}{index:011d}",
                "issue_event_id": f"bench-{index}-{n}",
            }
            for n in range(count)
        ]

    def dossier_doc(self, citizen_id: ObjectId, code: str, service: Doc, status: str) -> Doc:
        base = self.dossiers[(service["code"], status)]
        return {**base, "_id": ObjectId(), "code": code, "citizen_id": citizen_id}

    def device_doc(self, citizen_id: ObjectId, token: str, locale: str = "vi") -> Doc:
        return {**self.device, "_id": ObjectId(), "citizen_id": citizen_id, "token": token, "locale": locale}

    def session_doc(self, citizen_id: ObjectId) -> Doc:
        refresh_hash = hashlib.sha256(ObjectId().binary + citizen_id.binary).hexdigest()
        return {**self.session, "_id": ObjectId(), "citizen_id": citizen_id, "refresh_token_hash": refresh_hash}


def dossier_code(index: int, n: int) -> str:
    return f"HS-BENCH-{index:09d}-{n}"


@dataclass(frozen=True)
class Shape:
    """What each seeded citizen has."""

    documents: int = 3
    dossiers: int = 2
    devices: int = 1


async def connect(url: str, db_name: str) -> tuple[AsyncMongoClient[Doc], AsyncDatabase[Doc]]:
    """The app's own connection (app/db.py): Beanie initialised, so its indexes exist."""
    client = await db.connect(Settings(mongodb_url=url, mongodb_db=db_name))
    return client, client[db_name]


async def prepare(database: AsyncDatabase[Doc]) -> list[Doc]:
    """The catalogue and one agency client per agency in it; returns the services."""
    await load_catalogue()
    services = await database["services"].find({}, {"code": 1, "agency_code": 1, "result_document_type": 1}).to_list()
    secret_hash = hash_password(AGENCY_SECRET)
    for code in sorted({s["agency_code"] for s in services}):
        owned = [s for s in services if s["agency_code"] == code]
        agency = template(
            Agency,
            code=code,
            name=f"Bench agency {code}",
            client_id=f"bench-{code.lower()}",
            client_secret_hash=secret_hash,
            service_codes=sorted(s["code"] for s in owned),
            document_types=sorted({s["result_document_type"] for s in owned if s.get("result_document_type")}),
        )
        await database["agencies"].replace_one({"code": code}, agency, upsert=True)
    return sorted(services, key=lambda s: s["code"])


async def seed_citizens(
    database: AsyncDatabase[Doc],
    start: int,
    stop: int,
    services: Sequence[Doc],
    shape: Shape = Shape(),
    *,
    batch: int = 2_000,
    progress: ProgressFn = stderr_progress,
    label: str = "citizens",
) -> None:
    """Citizens start..stop-1 (by index), each with `shape`'s documents, dossiers and phones."""
    total = stop - start
    if total <= 0:
        return
    # One hash for all: nobody signs in with a password here, and argon2 takes ~50 ms.
    templates = Templates(datetime.now(UTC), hash_password(PASSWORD), services)
    marks, done, t0 = progress_marks(total), 0, time.monotonic()
    each = f"{shape.documents} documents, {shape.dossiers} dossiers, {shape.devices} phones each"
    progress(f"  seeding {total:,} {label} ({each}) ...")
    for first in range(start, stop, batch):
        indexes = range(first, min(first + batch, stop))
        citizens = [templates.citizen_doc(i) for i in indexes]
        documents: list[Doc] = []
        dossiers: list[Doc] = []
        devices: list[Doc] = []
        for i, citizen in zip(indexes, citizens, strict=True):
            owner = citizen["_id"]
            documents += templates.wallet_docs(owner, i, shape.documents)
            for n in range(shape.dossiers):
                service = services[(i + n) % len(services)]
                status = SEEDED_STATUSES[(i * 7 + n) % len(SEEDED_STATUSES)]
                dossiers.append(templates.dossier_doc(owner, dossier_code(i, n), service, status))
            for n in range(shape.devices):
                token = device_token(i) + (f"-{n}" if n else "")
                devices.append(templates.device_doc(owner, token, "vi" if i % 4 else "en"))
        await database["citizens"].insert_many(citizens, ordered=False)
        for name, docs in (("documents", documents), ("dossiers", dossiers), ("devices", devices)):
            if docs:
                await database[name].insert_many(docs, ordered=False)
        before, done = done, done + len(citizens)
        if any(before < m <= done for m in marks):
            rate = done / max(time.monotonic() - t0, 1e-9)
            progress(f"    {done:>10,} / {total:,} {label} ({done / total:.0%}, {rate:,.0f} citizens/s)")


async def citizen_ids(database: AsyncDatabase[Doc], indexes: Iterable[int]) -> list[ObjectId]:
    """The ids of the citizens seeded under these indexes, in the same order."""
    wanted = [national_id(i) for i in indexes]
    found: dict[str, ObjectId] = {}
    for first in range(0, len(wanted), 1_000):
        chunk = wanted[first : first + 1_000]
        async for raw in database["citizens"].find({"national_id": {"$in": chunk}}, {"national_id": 1}):
            found[raw["national_id"]] = raw["_id"]
    return [found[n] for n in wanted]


async def citizen_tokens(database: AsyncDatabase[Doc], ids: Sequence[ObjectId], jwt_secret: str) -> list[str]:
    """One signed-in session per citizen, and an access token for it, as the API issues them."""
    templates = Templates(datetime.now(UTC), "-", [])
    sessions = [templates.session_doc(cid) for cid in ids]
    for first in range(0, len(sessions), 5_000):
        await database["auth_sessions"].insert_many(sessions[first : first + 5_000], ordered=False)
    jwt_auth = build_jwt_auth(Settings(jwt_secret=jwt_secret))
    return [
        jwt_auth.create_token(
            identifier=f"citizen:{s['citizen_id']}",
            token_expiration=timedelta(hours=6),
            token_issuer=ISSUER,
            token_audience=AUDIENCES["citizen"],
            token_unique_jwt_id=str(ObjectId()),
            token_extras={"sid": str(s["_id"])},
        )
        for s in sessions
    ]


def agency_token(agency_code: str, jwt_secret: str) -> str:
    jwt_auth = build_jwt_auth(Settings(jwt_secret=jwt_secret))
    return jwt_auth.create_token(
        identifier=f"agency:{agency_code}",
        token_expiration=timedelta(hours=6),
        token_issuer=ISSUER,
        token_audience=AUDIENCES["agency"],
        token_unique_jwt_id=str(ObjectId()),
    )


async def staff_token(database: AsyncDatabase[Doc], jwt_secret: str, role: str = "admin") -> str:
    """A staff member of `role`, and an access token for them."""
    no_password = "!"  # not an argon2 hash: nobody signs in as this member of staff
    staff = template(Staff, username=f"bench.{role}.{ObjectId()}", password_hash=no_password, role=role)
    staff["_id"] = ObjectId()
    await database["staff"].insert_one(staff)
    jwt_auth = build_jwt_auth(Settings(jwt_secret=jwt_secret))
    return jwt_auth.create_token(
        identifier=f"staff:{staff['_id']}",
        token_expiration=timedelta(hours=6),
        token_issuer=ISSUER,
        token_audience=AUDIENCES["staff"],
        token_unique_jwt_id=str(ObjectId()),
    )


async def submitted_dossiers(
    database: AsyncDatabase[Doc], ids: Sequence[ObjectId], service: Doc, tag: str
) -> list[str]:
    """A fresh `submitted` dossier for each citizen; returns their codes."""
    templates = Templates(datetime.now(UTC), "-", [service])
    docs = [templates.dossier_doc(cid, f"HS-{tag}-{n:07d}", service, "submitted") for n, cid in enumerate(ids)]
    for first in range(0, len(docs), 5_000):
        await database["dossiers"].insert_many(docs[first : first + 5_000], ordered=False)
    return [d["code"] for d in docs]


def _owner_id(index: int, count: int, now: datetime) -> ObjectId:
    """The id of the owner of audience phone `index` of `count`: owners made evenly over the
    year before `now`, as citizens sign up over time. Made in one loop (ObjectId()), every
    owner's id would fall in the same second or two, which an announcement's planning reads
    as one window of citizens (app/citizens/store.py), where a real audience spreads."""
    moment = int((now - timedelta(days=365) * (count - index) / count).timestamp())
    return ObjectId(moment.to_bytes(4, "big") + os.urandom(8))


async def devices_without_citizens(database: AsyncDatabase[Doc], count: int, progress: ProgressFn) -> None:
    """`count` phones registered to owners the store does not know: an announcement's audience."""
    now = datetime.now(UTC)
    templates = Templates(now, "-", [])
    marks, t0 = progress_marks(count), time.monotonic()
    progress(f"  seeding {count:,} devices for the fan-out ...")
    for first in range(0, count, 5_000):
        indexes = range(first, min(first + 5_000, count))
        docs = [
            templates.device_doc(_owner_id(i, count, now), f"bench-fanout-{i:09d}", "vi" if i % 4 else "en")
            for i in indexes
        ]
        await database["devices"].insert_many(docs, ordered=False)
        done = first + len(docs)
        if any(first < m <= done for m in marks):
            rate = done / max(time.monotonic() - t0, 1e-9)
            progress(f"    {done:>10,} / {count:,} devices ({done / count:.0%}, {rate:,.0f}/s)")
