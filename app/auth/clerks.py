"""Clerk accounts: people who handle an agency's dossiers in the console (decision 0027).

Created by the CLI like staff accounts: the password and TOTP secret are shown once, the
secret is kept sealed (the server must compute the codes)."""

from __future__ import annotations

import secrets

from pymongo.errors import DuplicateKeyError

from app.auth import store
from app.auth.service import clerk_totp_context
from app.auth.totp import new_secret, provisioning_uri, seal_totp_secret
from app.security import hash_password
from models.agency import Clerk, ClerkRole


class ClerkRefused(Exception):
    """The account could not be created as asked; nothing was stored."""


async def create(agency_code: str, username: str, role: ClerkRole) -> dict[str, str]:
    if not await store.agency_exists(agency_code):
        raise ClerkRefused(f"no agency with code {agency_code} (`cwallet agency create` registers one)")
    password = secrets.token_urlsafe(18)
    totp_secret = new_secret()
    try:
        await store.insert_clerk(
            Clerk(
                agency_code=agency_code,
                username=username,
                password_hash=hash_password(password),
                role=role,
                totp_secret_sealed=seal_totp_secret(clerk_totp_context(username), totp_secret),
            )
        )
    except DuplicateKeyError:
        raise ClerkRefused(f"a clerk named {username} already exists") from None
    return {
        "agency_code": agency_code,
        "username": username,
        "password": password,
        "role": role,
        "totp_secret": totp_secret,
        "totp_uri": provisioning_uri(totp_secret, username),
    }


async def reset_demo(agency_code: str, username: str, role: ClerkRole, password: str, totp_secret: str) -> None:
    """The demo clerk, made again with its fixed credentials (`cwallet seed-demo` only)."""
    await store.upsert_clerk(
        username,
        {
            "agency_code": agency_code,
            "password_hash": hash_password(password),
            "role": role,
            "totp_secret_sealed": seal_totp_secret(clerk_totp_context(username), totp_secret),
            "totp_last_step": 0,
            "disabled_at": None,
        },
    )


async def list_clerks() -> list[Clerk]:
    return await store.clerks()


async def disable(username: str) -> bool:
    """The clerk signs in no more; a console session of theirs ends at its next request
    (app/security.py checks the clerk on every request). False when there is no such clerk."""
    return await store.disable_clerk(username)
