"""The real API with one change applied in memory (`python -m bench --api-variant NAME`), so
a proposal can be measured before it is made, or a tuning already made measured without it.

Each factory runs in a fresh uvicorn worker process, where nothing of `app` is loaded yet:
what it patches before importing `app.main` is what every module then sees.

The proposals of decision 16 (async guards, the session memory, no hint on the dossier
code) were measured this way and are now the code itself.
"""

from litestar import Litestar


def create_app_without_session_memory() -> Litestar:
    """Every citizen request reads its session from the store (SESSION_CACHE_SECONDS=0), as
    before decision 17: the wallet read's "before"."""
    import msgspec

    from app.config import get_settings
    from app.main import create_app

    return create_app(msgspec.structs.replace(get_settings(), session_cache_seconds=0.0))


VARIANTS = {
    "default": "app.main:create_app",
    "no-session-memory": "bench.variants:create_app_without_session_memory",
}
