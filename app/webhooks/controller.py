from __future__ import annotations

from typing import Annotated, Literal

from arq import ArqRedis
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from app.config import Settings
from app.pagination import Page, clamp_limit
from app.security import PrincipalRequest, agency_only
from app.webhooks import service
from app.webhooks.schemas import (
    CreatedSubscriptionOut,
    DeliveryOut,
    RotatedWebhookSecretOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)


def _agency(request: PrincipalRequest) -> str:
    assert request.user.agency_code is not None
    return request.user.agency_code


class WebhookController(Controller):
    path = "/api/v1/agency/webhooks"
    tags = ["webhooks"]
    guards = [agency_only]

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self, request: PrincipalRequest, settings: NamedDependency[Settings], data: JSONBody[SubscriptionIn]
    ) -> CreatedSubscriptionOut:
        """Subscribe an endpoint to event types. The answer holds the signing secret, shown this once."""
        return await service.create(_agency(request), data, settings)

    @get("/")
    async def list_subscriptions(self, request: PrincipalRequest) -> list[SubscriptionOut]:
        """The agency's subscriptions (never another agency's)."""
        return await service.list_for(_agency(request))

    @get("/{subscription_id:str}")
    async def get_subscription(self, request: PrincipalRequest, subscription_id: FromPath[str]) -> SubscriptionOut:
        return await service.get(_agency(request), subscription_id)

    @patch("/{subscription_id:str}")
    async def update(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        subscription_id: FromPath[str],
        data: JSONBody[SubscriptionPatch],
    ) -> SubscriptionOut:
        """Change the URL, the event types or the description; disable or enable it again."""
        return await service.update(_agency(request), subscription_id, data, settings)

    @delete("/{subscription_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def remove(self, request: PrincipalRequest, subscription_id: FromPath[str]) -> None:
        await service.delete(_agency(request), subscription_id)

    @post("/{subscription_id:str}/secret/rotate", status_code=200)
    async def rotate_secret(
        self, request: PrincipalRequest, settings: NamedDependency[Settings], subscription_id: FromPath[str]
    ) -> RotatedWebhookSecretOut:
        """A new secret, shown once; deliveries carry a signature by the old one too until
        `previous_secret_valid_until`."""
        return await service.rotate_secret(_agency(request), subscription_id, settings)

    @post("/{subscription_id:str}/ping", status_code=HTTP_202_ACCEPTED)
    async def ping(
        self, request: PrincipalRequest, queue_pool: NamedDependency[ArqRedis], subscription_id: FromPath[str]
    ) -> DeliveryOut:
        """Send a `webhook.ping` event now; follow it in the delivery log."""
        return await service.ping(_agency(request), subscription_id, queue_pool)

    @get("/{subscription_id:str}/deliveries")
    async def deliveries(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        subscription_id: FromPath[str],
        delivery_state: Annotated[
            Literal["pending", "delivered", "parked"] | None, QueryParameter(name="state", description="Only these.")
        ] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DeliveryOut]:
        """The delivery log, newest first, each with its last attempts."""
        return await service.deliveries(
            _agency(request), subscription_id, delivery_state, cursor, clamp_limit(limit, settings.page_limit_max)
        )

    @post("/{subscription_id:str}/deliveries/{delivery_id:str}/replay", status_code=HTTP_202_ACCEPTED)
    async def replay(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        queue_pool: NamedDependency[ArqRedis],
        subscription_id: FromPath[str],
        delivery_id: FromPath[str],
    ) -> DeliveryOut:
        """Send a delivered or parked delivery again, with a new day of retries. Replaying one
        that is pending changes nothing."""
        return await service.replay(_agency(request), subscription_id, delivery_id, queue_pool, settings)
