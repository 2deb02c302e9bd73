"""The `cwallet` command: agencies, staff and demo data, through the same services as the API."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import DuplicateKeyError

from app import db
from app.catalogue.service import load_catalogue
from app.config import get_settings
from app.security import hash_password
from models.agency import Agency, Staff
from models.catalogue import Service
from models.citizen import Citizen
from models.common import utcnow

# Demo credentials are fixed so that `make run` can print them on every start; they exist
# only in data loaded by `seed-demo`, never in a real deployment.
DEMO_CITIZEN = {
    "national_id": "001099012345",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1999-05-12",
    "phone": "+84912345678",
    "password": "demo-password-2026",
}
DEMO_STAFF = {"username": "demo.support", "password": "demo-support-pass-2026", "role": "support"}
DEMO_AGENCY_SECRET = "demo-agency-secret-2026"


def _emit(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _document_types_for(service_codes: list[str]) -> list[str]:
    services = await Service.find({"code": {"$in": service_codes}}).to_list()
    return sorted({s.result_document_type for s in services if s.result_document_type})


async def create_agency(code: str, name: str, service_codes: list[str], document_types: list[str]) -> dict[str, str]:
    known = {s.code for s in await Service.find({"code": {"$in": service_codes}}).to_list()}
    unknown = sorted(set(service_codes) - known)
    if unknown:
        raise SystemExit(f"unknown service code(s): {', '.join(unknown)} (load the catalogue with `cwallet seed-demo`)")
    client_id = f"{code.lower()}-{secrets.token_hex(4)}"
    client_secret = secrets.token_urlsafe(32)
    agency = Agency(
        code=code,
        name=name,
        client_id=client_id,
        client_secret_hash=hash_password(client_secret),
        service_codes=service_codes,
        document_types=document_types or await _document_types_for(service_codes),
    )
    try:
        await agency.insert()
    except DuplicateKeyError:
        raise SystemExit(f"an agency with code {code} already exists") from None
    return {"client_id": client_id, "client_secret": client_secret, "code": code}


async def create_staff(username: str, role: str) -> dict[str, str]:
    password = secrets.token_urlsafe(18)
    try:
        await Staff(username=username, password_hash=hash_password(password), role=role).insert()  # type: ignore[arg-type]
    except DuplicateKeyError:
        raise SystemExit(f"a staff member named {username} already exists") from None
    return {"username": username, "password": password, "role": role}


async def seed_demo() -> dict[str, Any]:
    """Load the catalogue and the demo accounts. Safe to run on every start."""
    _progress("loading the service catalogue…")
    count = await load_catalogue()
    _progress(f"  {count} services")
    services = await Service.find_all().to_list()
    agencies: list[dict[str, Any]] = []
    by_agency: dict[str, list[Service]] = {}
    for service in services:
        by_agency.setdefault(service.agency_code, []).append(service)
    _progress("demo agencies, citizen and staff…")
    for code, owned in sorted(by_agency.items()):
        client_id = f"demo-{code.lower().replace('_', '-')}"
        service_codes = sorted(s.code for s in owned)
        await Agency.get_pymongo_collection().update_one(
            {"code": code},
            {
                "$set": {
                    "name": f"Demo agency {code}",
                    "client_id": client_id,
                    "client_secret_hash": hash_password(DEMO_AGENCY_SECRET),
                    "service_codes": service_codes,
                    "document_types": sorted({s.result_document_type for s in owned if s.result_document_type}),
                },
                "$setOnInsert": {"code": code},
            },
            upsert=True,
        )
        agencies.append(
            {"code": code, "client_id": client_id, "client_secret": DEMO_AGENCY_SECRET, "services": service_codes}
        )
    citizen = DEMO_CITIZEN
    await Citizen.get_pymongo_collection().update_one(
        {"national_id": citizen["national_id"]},
        {
            "$set": {"password_hash": hash_password(citizen["password"]), "eid_level": 2},
            "$setOnInsert": {
                "national_id": citizen["national_id"],
                "full_name": citizen["full_name"],
                "date_of_birth": citizen["date_of_birth"],
                "phone": citizen["phone"],
                "created_at": utcnow(),
            },
        },
        upsert=True,
    )
    await Staff.get_pymongo_collection().update_one(
        {"username": DEMO_STAFF["username"]},
        {"$set": {"password_hash": hash_password(DEMO_STAFF["password"]), "role": DEMO_STAFF["role"]}},
        upsert=True,
    )
    return {
        "citizen": {"username": citizen["national_id"], "password": citizen["password"], "phone": citizen["phone"]},
        "agencies": agencies,
        "staff": {"username": DEMO_STAFF["username"], "password": DEMO_STAFF["password"], "role": DEMO_STAFF["role"]},
    }


async def _with_store(action: Callable[[], Awaitable[Any]]) -> Any:
    client = await db.connect(get_settings())
    try:
        return await action()
    finally:
        await client.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cwallet", description="Citizen Wallet administration")
    sub = parser.add_subparsers(dest="command", required=True)

    agency = sub.add_parser("agency", help="agency clients").add_subparsers(dest="action", required=True)
    create = agency.add_parser("create", help="create an agency client; prints its credentials once")
    create.add_argument("--code", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--service", action="append", required=True, dest="services", help="repeatable")
    create.add_argument(
        "--document-type",
        action="append",
        default=[],
        dest="document_types",
        help="document types it may issue (default: its services' result types)",
    )

    staff = sub.add_parser("staff", help="support staff").add_subparsers(dest="action", required=True)
    staff_create = staff.add_parser("create", help="create a staff account; prints its password once")
    staff_create.add_argument("--username", required=True)
    staff_create.add_argument("--role", choices=["support", "admin"], required=True)

    sub.add_parser("seed-demo", help="load the service catalogue and demo accounts")
    sub.add_parser("load-catalogue", help="load or update the service catalogue from its data file")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    action: Callable[[], Awaitable[Any]]
    if args.command == "agency":
        action = lambda: create_agency(args.code, args.name, args.services, args.document_types)  # noqa: E731
    elif args.command == "staff":
        action = lambda: create_staff(args.username, args.role)  # noqa: E731
    elif args.command == "seed-demo":
        action = seed_demo
    else:

        async def action() -> dict[str, int]:
            return {"services": await load_catalogue()}

    _emit(asyncio.run(_with_store(action)))


if __name__ == "__main__":
    main()
