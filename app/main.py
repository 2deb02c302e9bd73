"""create_app(): routes, plugins, lifespan (store + queue pool), error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq import ArqRedis
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.plugins.structlog import StructlogPlugin
from pymongo import AsyncMongoClient

from app import db
from app.auth.controller import AuthController
from app.auth.service import AuthService
from app.catalogue.controller import CatalogueController
from app.citizens.controller import CitizenController
from app.config import Settings, get_settings
from app.dossiers.controller import AgencyDossierController, CitizenDossierController
from app.errors import EXCEPTION_HANDLERS
from app.health.controller import HealthController
from app.inbox.controller import InboxController
from app.logs import quiet_chatty_loggers, structlog_config
from app.queue import open_pool
from app.security import build_jwt_auth
from app.wallet.controller import AgencyDocumentController, WalletController


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    quiet_chatty_loggers()
    jwt_auth = build_jwt_auth(settings)
    auth_service = AuthService(settings, jwt_auth)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        client = await db.connect(settings)
        pool = await open_pool(settings)
        app.state.mongo_client = client
        app.state.queue_pool = pool
        try:
            yield
        finally:
            await pool.aclose()
            await client.close()

    def provide_pool(state: State) -> ArqRedis:
        pool: ArqRedis = state.queue_pool
        return pool

    def provide_mongo(state: State) -> AsyncMongoClient[dict[str, object]]:
        client: AsyncMongoClient[dict[str, object]] = state.mongo_client
        return client

    return Litestar(
        route_handlers=[
            HealthController,
            AuthController,
            CitizenController,
            CatalogueController,
            CitizenDossierController,
            AgencyDossierController,
            WalletController,
            AgencyDocumentController,
            InboxController,
            PrometheusController,
        ],
        lifespan=[lifespan],
        dependencies={
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "auth_service": Provide(lambda: auth_service, use_cache=True, sync_to_thread=False),
            "queue_pool": Provide(provide_pool, sync_to_thread=False),
            "mongo_client": Provide(provide_mongo, sync_to_thread=False),
        },
        on_app_init=[jwt_auth.on_app_init],
        plugins=[
            StructlogPlugin(structlog_config()),
            # Our handlers (app/errors.py) turn every error into problem+json in the caller's language.
            ProblemDetailsPlugin(ProblemDetailsConfig()),
        ],
        middleware=[PrometheusConfig(app_name="cwallet", prefix="cwallet", group_path=True).middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=CORSConfig(allow_origins=[]),
        openapi_config=OpenAPIConfig(
            title="Citizen Wallet API",
            version="1.0.0",
            description="Official documents in a wallet, public-service dossiers and push notifications.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
    )
