"""The real API with one proposed change applied in memory, so that a change to a file
another area owns can be measured before it is made (`python -m bench --api-variant NAME`).

Each factory patches, then imports `app.main`: uvicorn imports this module in a fresh
worker process, where nothing of `app` is loaded yet, so the patch is what every module
that imports the patched names gets.
"""

from typing import Any

from litestar import Litestar

GUARDS = ("citizen_only", "agency_only", "staff_only", "admin_only", "postal_only")


def create_app_async_guards() -> Litestar:
    """Route guards as `async def`: Litestar runs a plain `def` guard in a worker thread
    (litestar.utils.sync.ensure_async_callable), one thread hop per request for a check that
    only reads the request's principal."""
    import app.security as security

    for name in GUARDS:
        sync_guard = getattr(security, name, None)
        if sync_guard is None:
            continue

        async def guard(connection: Any, handler: Any, _check: Any = sync_guard) -> None:
            _check(connection, handler)

        guard.__name__ = guard.__qualname__ = name
        setattr(security, name, guard)
    from app.main import create_app

    return create_app()


SESSION_CACHE_SECONDS = 60.0


def create_app_session_cache() -> Litestar:
    """An upper bound, not a design: each signed-in session read from the store at most once
    a minute per process, so most citizen requests make one store round trip instead of two.
    A real cache must still end a revoked session at once (decision 0004)."""
    import time

    import app.security as security

    real: Any = getattr(security, "AuthSession")  # noqa: B009 (patched below, by name)
    cache: dict[Any, tuple[float, Any]] = {}

    class CachedSessions:
        @staticmethod
        async def get(session_id: Any) -> Any:
            hit = cache.get(session_id)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            session = await real.get(session_id)
            cache[session_id] = (time.monotonic() + SESSION_CACHE_SECONDS, session)
            return session

    setattr(security, "AuthSession", CachedSessions)  # noqa: B010 (what retrieve_principal reads)
    from app.main import create_app

    return create_app()


def create_app_no_code_hint() -> Litestar:
    """An agency's dossier found by its unique code without `hint="code_1"`: SecantusDB
    0.7.0b3 answers a hinted query by decoding every document of the index
    (secantus/storage.py, _candidates_from_hint), so the hint makes this lookup O(dossiers)
    on the embedded store, where an unhinted equality on a unique index is one key."""
    import app.dossiers.events as events
    from app.errors import not_found
    from models.dossier import Dossier

    hinted = events.agency_dossier

    async def agency_dossier(principal: Any, code: str) -> Any:
        raw = await Dossier.get_pymongo_collection().find_one({"code": code})
        if (
            raw is None
            or raw.get("agency_code") != principal.agency_code
            or raw.get("service_code") not in principal.service_codes
        ):
            raise not_found(getattr(events, "DOSSIER"))  # noqa: B009 (a module constant of theirs)
        return Dossier.model_validate(raw)

    agency_dossier.__doc__ = hinted.__doc__
    events.agency_dossier = agency_dossier  # type: ignore[assignment]
    from app.main import create_app

    return create_app()


VARIANTS = {
    "no-code-hint": "bench.variants:create_app_no_code_hint",
    "default": "app.main:create_app",
    "async-guards": "bench.variants:create_app_async_guards",
    "session-cache": "bench.variants:create_app_session_cache",
}
