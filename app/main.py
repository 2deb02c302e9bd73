"""create_app(): routes, plugins, lifespan (store + queue pool), error mapping."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from arq import ArqRedis
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsPlugin
from litestar.plugins.prometheus import PrometheusConfig
from litestar.plugins.structlog import StructlogPlugin
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from pymongo import AsyncMongoClient

from app import agency_cache, db, session_cache
from app.announcements.controller import AnnouncementController
from app.audit.controller import AccessLogController
from app.audit.middleware import CitizenChangeAudit
from app.auth.controller import AuthController, SessionController
from app.auth.service import AuthService
from app.auth.throttle import sign_in_throttle
from app.body_policy import RequestBodyPolicy
from app.catalogue import cache as procedure_cache
from app.catalogue.controller import CatalogueController
from app.catalogue.routing import ROUTINGS
from app.citizens.controller import AgencyIdentityController, CitizenController
from app.client_address import client_address_middleware
from app.config import Settings, get_settings, require_production_secrets
from app.console.router import console_router, template_config
from app.dossiers.controller import (
    AgencyDossierController,
    CitizenAttachmentController,
    CitizenDossierController,
    TimelineController,
)
from app.dossiers.deadlines import check_calendar
from app.dossiers.public_tracking import PublicTrackingController, TrackingSecretController
from app.errors import EXCEPTION_HANDLERS
from app.guardians.controller import GuardianController
from app.health.controller import HealthController
from app.inbox.controller import InboxController, NotificationPreferencesController
from app.inbox.flushing import FlushOwedOutboxes
from app.logs import quiet_chatty_loggers, structlog_config
from app.metrics.controller import MetricsController, PushFiguresController
from app.openapi_errors import ErrorAnswersInOpenAPI
from app.payments.controller import CitizenPaymentController, PaymentCallbackController
from app.postal.controller import PostalController
from app.presentations.controller import JwksController, PresentationController, VerifyController
from app.privacy.controller import PrivacyController
from app.queue import open_pool
from app.rate_limits import caller_rate_limit
from app.request_log import RequestLog
from app.security import build_jwt_auth
from app.security_headers import security_headers
from app.staff.controller import AdminController, StaffController
from app.statistics.controller import statistics_router
from app.support.controller import ConsentCodeController, SupportController
from app.wallet import page_cache as wallet_pages
from app.wallet.controller import AgencyDocumentController, DocumentTypesController, WalletController
from app.webhooks import subscriptions_cache as webhook_subscriptions
from app.webhooks.controller import WebhookController


def redis_store_factory(redis_url: str) -> Callable[[str], RedisStore]:
    root = RedisStore.with_client(url=redis_url, namespace="cwallet")

    def store_named(name: str) -> RedisStore:
        return root.with_namespace(name)

    return store_named


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    require_production_secrets(settings)
    quiet_chatty_loggers()
    jwt_auth = build_jwt_auth(settings)
    auth_service = AuthService(settings, jwt_auth)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        client = await db.connect(settings)
        check_calendar()  # an error in the log when next year's holidays are missing
        pool = await open_pool(settings)
        app.state.mongo_client = client
        app.state.queue_pool = pool
        revocations = asyncio.create_task(
            session_cache.listen(pool, settings.queue_name, settings.session_cache_seconds)
        )
        catalogue_changes = asyncio.create_task(procedure_cache.listen(pool, settings.queue_name))
        wallet_changes = asyncio.create_task(
            wallet_pages.listen(pool, settings.queue_name, settings.wallet_cache_seconds, settings.wallet_cache_entries)
        )
        # Who receives a procedure's new dossiers is derived from agencies: forgotten with them.
        agency_changes = asyncio.create_task(agency_cache.listen(pool, settings.queue_name, dependents=(ROUTINGS,)))
        webhook_changes = asyncio.create_task(webhook_subscriptions.listen(pool, settings.queue_name))
        try:
            yield
        finally:
            for task in (revocations, catalogue_changes, wallet_changes, agency_changes, webhook_changes):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
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
            SessionController,
            CitizenController,
            AgencyIdentityController,
            GuardianController,
            StaffController,
            AdminController,
            CatalogueController,
            CitizenDossierController,
            TrackingSecretController,
            PublicTrackingController,
            AgencyDossierController,
            CitizenAttachmentController,
            TimelineController,
            PaymentCallbackController,
            CitizenPaymentController,
            PostalController,
            WalletController,
            AgencyDocumentController,
            DocumentTypesController,
            PresentationController,
            VerifyController,
            JwksController,
            InboxController,
            NotificationPreferencesController,
            AnnouncementController,
            PushFiguresController,
            SupportController,
            ConsentCodeController,
            AccessLogController,
            PrivacyController,
            MetricsController,
            WebhookController,
            statistics_router,
            # Pages for people at a desk, over the same services (decision 0027).
            console_router(settings, jwt_auth),
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
            StructlogPlugin(structlog_config(settings.log_file)),
            # Our handlers (app/errors.py) turn every error into problem+json in the caller's language.
            ProblemDetailsPlugin(ProblemDetailsConfig()),
            # Each operation's error answers in the OpenAPI, derived from its route (app/openapi_errors.py).
            ErrorAnswersInOpenAPI(public_paths=jwt_auth.exclude),
        ],
        middleware=[
            # The real client address first (TRUSTED_PROXIES), for everything that counts by it.
            *client_address_middleware(settings),
            PrometheusConfig(app_name="cwallet", prefix="cwallet", group_path=True).middleware,
            RequestLog(),
            # Requests a minute per caller (after the JWT middleware: it knows who calls).
            caller_rate_limit(settings).middleware,
            # Before anything parses a body: its type, size and JSON depth (app/body_policy.py).
            RequestBodyPolicy(),
            CitizenChangeAudit(),
            # The pushes a request's changes owe are queued once, here, before its answer leaves.
            FlushOwedOutboxes(),
            # Failed sign-ins per account and per address, counted in the Redis store.
            sign_in_throttle(settings).middleware,
        ],
        # Rate limits and other stores live in Redis, shared by every API process.
        stores=StoreRegistry(default_factory=redis_store_factory(settings.redis_url)),
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(),
        before_send=[security_headers(settings)],
        request_max_body_size=settings.request_max_body_bytes,
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
