"""The `cwallet` command: agencies, staff and demo data, through the same services as the API."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import structlog

from app import db
from app.audit.service import VerifyResult, seal, verify
from app.auth import agencies, clerks
from app.auth import store as auth_store
from app.auth.totp import provisioning_uri, seal_totp_secret
from app.catalogue import store as catalogue_store
from app.catalogue.service import load_catalogue, loaded_version
from app.config import get_settings
from app.postal.service import create_operator as create_postal_operator
from app.postal.service import seed_demo_operator
from app.security import hash_password
from app.staff import service as staff_service
from app.wallet.admin import KEY_ACTIONS, add_key_commands
from models.agency import AGENCY_SCOPES, AgencyScope
from models.catalogue import CATALOGUE_FILE, Service
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
# Fixed so `make run` can print it; add it to an authenticator app (or `pyotp`) to sign in.
DEMO_STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPDEMOSTAFFSECRETQ"
# The demo agency that may verify identity (e-ID level 2, unlock, takeover codes).
DEMO_IDENTITY_AGENCY = "CA_XA"
DEMO_AGENCY_SECRET = "demo-agency-secret-2026"
# The demo clerk (the console, decision 0027): a head of the agency handling driving licences.
DEMO_CLERK = {"username": "demo.clerk", "password": "demo-clerk-pass-2026", "role": "head"}
DEMO_CLERK_TOTP_SECRET = "JBSWY3DPEHPK3PXPDEMOCLERKSECRETQ"
DEMO_CLERK_SERVICE = "DL_RENEWAL"


def _emit(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def create_agency(
    code: str,
    name: str,
    service_codes: list[str],
    document_types: list[str],
    scopes: Sequence[AgencyScope] = (),
    provinces: Sequence[str] = (),
) -> dict[str, Any]:
    """Register an agency for procedures (app/auth/agencies.register); says whom it takes over from."""
    try:
        created = await agencies.register(code, name, service_codes, document_types, scopes, provinces)
    except agencies.RegistrationRefused as refused:
        raise SystemExit(f"cwallet agency create: {refused}") from None
    for serves in created["serves"]:
        before = ", ".join(serves["takes_over_from"]) or "no agency"
        places = "every province without an agency of its own" if not provinces else ", ".join(serves["provinces"])
        _progress(f"{serves['service_code']}: new dossiers from {places} now go to {code} (before: {before})")
    return created


async def create_staff(username: str, role: str) -> dict[str, str]:
    """Prints the password and the TOTP secret (and its otpauth:// URI for a QR code) once."""
    try:
        return await staff_service.create(username, role)  # type: ignore[arg-type]
    except staff_service.StaffRefused as refused:
        raise SystemExit(str(refused)) from None


async def create_clerk(agency_code: str, username: str, role: str) -> dict[str, str]:
    try:
        return await clerks.create(agency_code, username, role)  # type: ignore[arg-type]
    except clerks.ClerkRefused as refused:
        raise SystemExit(str(refused)) from None


async def rotate_agency_secret(code: str, overlap_hours: int | None) -> dict[str, str]:
    hours = get_settings().agency_secret_overlap_hours if overlap_hours is None else overlap_hours
    rotated = await agencies.rotate_secret(code, hours)
    return {
        "client_id": rotated.client_id,
        "client_secret": rotated.client_secret,
        "previous_secret_valid_until": rotated.previous_secret_valid_until.isoformat(),
    }


async def seed_demo() -> dict[str, Any]:
    """Load the catalogue and the demo accounts. Safe to run on every start."""
    _progress("loading the service catalogue…")
    count = await load_catalogue()
    _progress(f"  {count} services")
    services = await catalogue_store.all_services()
    agencies: list[dict[str, Any]] = []
    by_agency: dict[str, list[Service]] = {}
    for service in services:
        by_agency.setdefault(service.agency_code, []).append(service)
    _progress("demo agencies, citizen and staff…")
    for code, owned in sorted(by_agency.items()):
        client_id = f"demo-{code.lower().replace('_', '-')}"
        service_codes = sorted(s.code for s in owned)
        await auth_store.upsert_agency(
            code,
            {
                "name": owned[0].agency_name.vi if owned[0].agency_name else f"Demo agency {code}",
                "client_id": client_id,
                "client_secret_hash": hash_password(DEMO_AGENCY_SECRET),
                "service_codes": service_codes,
                "document_types": sorted({s.result_document_type for s in owned if s.result_document_type}),
                "scopes": ["verify_identity"] if code == DEMO_IDENTITY_AGENCY else [],
            },
            # Registered before any agency an operator adds: theirs take over (routing.py).
            {"code": code, "provinces": [], "created_at": datetime(2000, 1, 1, tzinfo=UTC)},
        )
        agencies.append(
            {"code": code, "client_id": client_id, "client_secret": DEMO_AGENCY_SECRET, "services": service_codes}
        )
    citizen = DEMO_CITIZEN
    await auth_store.upsert_citizen(
        citizen["national_id"],
        {"password_hash": hash_password(citizen["password"]), "eid_level": 2, "locked_at": None},
        {
            "national_id": citizen["national_id"],
            "full_name": citizen["full_name"],
            "date_of_birth": citizen["date_of_birth"],
            "phone": citizen["phone"],
            "created_at": utcnow(),
        },
    )
    await auth_store.upsert_staff(
        DEMO_STAFF["username"],
        {
            "$set": {
                "password_hash": hash_password(DEMO_STAFF["password"]),
                "role": DEMO_STAFF["role"],
                "totp_secret_sealed": seal_totp_secret(DEMO_STAFF["username"], DEMO_STAFF_TOTP_SECRET),
                "totp_last_step": 0,
            },
            "$unset": {"totp_secret": ""},
        },
    )
    postal = await seed_demo_operator()
    clerk_agency = next((a["code"] for a in agencies if DEMO_CLERK_SERVICE in a["services"]), agencies[0]["code"])
    await clerks.reset_demo(
        clerk_agency, DEMO_CLERK["username"], "head", DEMO_CLERK["password"], DEMO_CLERK_TOTP_SECRET
    )
    return {
        "citizen": {"username": citizen["national_id"], "password": citizen["password"], "phone": citizen["phone"]},
        "agencies": agencies,
        "postal_operator": postal,
        "staff": {
            "username": DEMO_STAFF["username"],
            "password": DEMO_STAFF["password"],
            "role": DEMO_STAFF["role"],
            "totp_secret": DEMO_STAFF_TOTP_SECRET,
            "totp_uri": provisioning_uri(DEMO_STAFF_TOTP_SECRET, DEMO_STAFF["username"]),
        },
        "clerk": {
            "agency_code": clerk_agency,
            "username": DEMO_CLERK["username"],
            "password": DEMO_CLERK["password"],
            "role": DEMO_CLERK["role"],
            "totp_secret": DEMO_CLERK_TOTP_SECRET,
            "totp_uri": provisioning_uri(DEMO_CLERK_TOTP_SECRET, DEMO_CLERK["username"]),
        },
        "console": "/console (sign in as the staff member or the clerk, with a code from the TOTP secret)",
    }


async def verify_audit_trail() -> VerifyResult:
    _progress("sealing pending audit records…")
    while sealed := await seal():
        _progress(f"  sealed {sealed}")
    _progress("verifying the chain…")
    return await verify()


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
        "--province",
        action="append",
        default=[],
        dest="provinces",
        help="two-digit province code it takes dossiers from, repeatable (01 Hà Nội … 96 Cà Mau); "
        "none: every province without an agency of its own",
    )
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        dest="scopes",
        choices=AGENCY_SCOPES,
        help="extra powers, repeatable: verify_identity (e-ID level 2, unlock, takeover codes)",
    )
    create.add_argument(
        "--document-type",
        action="append",
        default=[],
        dest="document_types",
        help="document types it may issue (default: its services' result types)",
    )

    rotate = agency.add_parser(
        "rotate-secret", help="a new client secret; the old one keeps working for an overlap window"
    )
    rotate.add_argument("--code", required=True)
    rotate.add_argument("--overlap-hours", type=int, default=None, help="default: AGENCY_SECRET_OVERLAP_HOURS (24)")

    staff = sub.add_parser("staff", help="support staff").add_subparsers(dest="action", required=True)
    staff_create = staff.add_parser("create", help="create a staff account; prints its password once")
    staff_create.add_argument("--username", required=True)
    staff_create.add_argument("--role", choices=["support", "admin"], required=True)

    clerk = sub.add_parser("clerk", help="an agency's clerks (the console)").add_subparsers(
        dest="action", required=True
    )
    clerk_create = clerk.add_parser("create", help="create a clerk account; prints its password and TOTP secret once")
    clerk_create.add_argument("--agency", required=True, help="the agency's code")
    clerk_create.add_argument("--username", required=True)
    clerk_create.add_argument("--role", choices=["clerk", "head"], default="clerk", help="head: also the performance")

    sub.add_parser("seed-demo", help="load the service catalogue and demo accounts")
    sub.add_parser("load-catalogue", help="load or update the service catalogue from its data file")
    catalogue = sub.add_parser("catalogue", help="the service catalogue").add_subparsers(dest="action", required=True)
    catalogue_load = catalogue.add_parser("load", help="load or update the catalogue from its (versioned) data file")
    catalogue_load.add_argument("--file", type=Path, default=CATALOGUE_FILE)
    postal = sub.add_parser("postal", help="postal operator clients").add_subparsers(dest="action", required=True)
    postal_create = postal.add_parser("create", help="create a postal operator client; prints its credentials once")
    postal_create.add_argument("--code", required=True)
    postal_create.add_argument("--name", required=True)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="action", required=True)
    audit.add_parser(
        "verify", help="seal pending records, then prove the hash chain intact or name the first broken record"
    )
    indexes = sub.add_parser("indexes", help="the store's indexes").add_subparsers(dest="action", required=True)
    indexes.add_parser(
        "retire", help="drop the indexes no model declares any more (once every process runs this version)"
    )
    add_key_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # Stdout carries only the command's JSON answer; what services log goes to stderr.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    action: Callable[[], Awaitable[Any]]
    if args.command == "agency":
        if args.action == "rotate-secret":
            action = lambda: rotate_agency_secret(args.code, args.overlap_hours)  # noqa: E731
        else:
            action = lambda: create_agency(  # noqa: E731
                args.code, args.name, args.services, args.document_types, args.scopes, args.provinces
            )
    elif args.command == "staff":
        action = lambda: create_staff(args.username, args.role)  # noqa: E731
    elif args.command == "clerk":
        action = lambda: create_clerk(args.agency, args.username, args.role)  # noqa: E731
    elif args.command == "seed-demo":
        action = seed_demo
    elif args.command == "catalogue":

        async def action() -> dict[str, Any]:
            count = await load_catalogue(args.file)
            return {"version": await loaded_version(), "services": count}

    elif args.command == "postal":
        action = lambda: create_postal_operator(args.code, args.name)  # noqa: E731
    elif args.command == "keys":
        action = KEY_ACTIONS[args.action]
    elif args.command == "indexes":
        _progress("dropping the indexes no model declares…")

        async def action() -> dict[str, Any]:
            return {"dropped": await db.retire_indexes(lambda name: _progress(f"  {name}"))}

    elif args.command == "audit":
        result = asyncio.run(_with_store(verify_audit_trail))
        _emit(msgspec.to_builtins(result))
        raise SystemExit(0 if result.ok else 1)
    else:

        async def action() -> dict[str, int]:
            return {"services": await load_catalogue()}

    _emit(asyncio.run(_with_store(action)))


if __name__ == "__main__":
    main()
