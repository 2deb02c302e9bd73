"""`cwallet keys ...`: list, rotate the platform's signing keys, and sign older documents."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from app.wallet import keys, signing, store


async def list_keys() -> list[dict[str, Any]]:
    """Every key with its state and how many documents it signed; never any private part."""
    return [
        {
            "kid": key.kid,
            "alg": key.alg,
            "state": key.state,
            "created_at": key.created_at.isoformat(),
            "retired_at": key.retired_at.isoformat() if key.retired_at else None,
            "documents_signed": await store.count_signed_with(key.kid),
        }
        for key in await keys.published_keys()
    ]


async def rotate_keys() -> dict[str, Any]:
    new, retired = await keys.rotate()
    return {"kid": new.kid, "retired": retired, "note": "retired keys stay published and keep verifying"}


async def sign_unsigned_documents() -> dict[str, int]:
    return {"signed": await signing.sign_unsigned()}


KEY_ACTIONS: dict[str, Callable[[], Awaitable[Any]]] = {
    "list": list_keys,
    "rotate": rotate_keys,
    "sign-unsigned": sign_unsigned_documents,
}


def add_key_commands(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("keys", help="the platform's document signing keys")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every key, its state and how many documents it signed")
    actions.add_parser("rotate", help="a new signing key; the old ones stay published for verifying")
    actions.add_parser("sign-unsigned", help="sign documents issued before signing existed")
