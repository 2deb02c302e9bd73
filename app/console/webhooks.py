"""An agency's webhooks in the console, for the head of the unit: whether the agency's system
is hearing of its dossiers, and what to do when it is not. Each subscription's delivery log
(newest first, by state), a delivery sent again, a subscription turned back on after its
address answered 410, a test event. Through the webhooks area's own services with the head's
agency, as `/api/v1/agency/webhooks` does; making a subscription and its secret stays with
the API, where the agency's system is (decision 0028)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
from arq import ArqRedis
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.config import Settings
from app.console.charts import outcome_bar
from app.console.clerk import clerks_only, heads_only
from app.console.pages import local_time, page, problem, see_other
from app.console.texts import Words, language
from app.errors import AppError
from app.security import PrincipalRequest
from app.webhooks import service
from app.webhooks.schemas import DeliveryOut, SubscriptionPatch

LOG_PAGE = 50
STATES = ("pending", "delivered", "parked")
# What a message after a form's POST says (`?done=`).
DONE = ("replayed", "pinged", "enabled")


def _agency(request: PrincipalRequest) -> str:
    assert request.user.agency_code is not None
    return request.user.agency_code


def _about(delivery: DeliveryOut) -> str:
    """The dossier an event is about (its body names codes only), or "" for a ping."""
    try:
        data = msgspec.json.decode(delivery.body).get("data") or {}
    except (msgspec.DecodeError, AttributeError):
        return ""
    return str(data.get("dossier_code") or "") if isinstance(data, dict) else ""


def _row(delivery: DeliveryOut) -> dict[str, Any]:
    last = delivery.attempts[-1] if delivery.attempts else None
    return {
        "d": delivery,
        "about": _about(delivery),
        "created": local_time(delivery.created_at),
        "last": last,
        "last_at": local_time(last.at) if last else "",
        "next_at": local_time(delivery.next_attempt_at) if delivery.next_attempt_at else "",
    }


def _drawn(deliveries: list[DeliveryOut], words: Words, sentence: str) -> dict[str, str]:
    """The deliveries' outcomes counted in a sentence, and drawn as a bar named by it."""
    counts = Counter(d.state for d in deliveries)
    summary = words(sentence, n=len(deliveries), **{state: counts[state] for state in STATES})
    return {"summary": summary, "bar": outcome_bar(counts, summary, words)}


class AgencyWebhooksController(Controller):
    path = "/console/agency/webhooks"
    guards = [clerks_only, heads_only]
    include_in_schema = False

    @get("/")
    async def subscriptions(self, request: PrincipalRequest) -> Template:
        """Each subscription with its latest deliveries' outcomes drawn: where to look first."""
        words = Words(language(request))
        listed = await service.each_with_latest(_agency(request), LOG_PAGE)
        rows = [{"s": s, **_drawn(latest, words, "webhook_latest")} for s, latest in listed]
        return page(request, "webhooks.html", rows=rows)

    @get("/{subscription_id:str}")
    async def log(self, request: PrincipalRequest, subscription_id: FromPath[str]) -> Template:
        return await self._log(request, subscription_id)

    async def _log(
        self, request: PrincipalRequest, subscription_id: str, status: int = 200, **context: Any
    ) -> Template:
        query = request.query_params
        state = query.get("state") if query.get("state") in STATES else None
        subscription, found = await service.with_deliveries(
            _agency(request), subscription_id, state, query.get("cursor") or None, LOG_PAGE
        )
        words = Words(language(request))
        done = query.get("done")
        if done in DONE and "problem" not in context:
            context["message"] = words(f"webhook_{done}")
        return page(
            request,
            "webhook.html",
            status,
            s=subscription,
            rows=[_row(d) for d in found.items],
            **_drawn(found.items, words, "webhook_summary"),
            state=state,
            states=STATES,
            next_cursor=found.next_cursor,
            **context,
        )

    @post("/{subscription_id:str}/deliveries/{delivery_id:str}/replay", status_code=303)
    async def replay(
        self,
        request: PrincipalRequest,
        settings: NamedDependency[Settings],
        queue_pool: NamedDependency[ArqRedis],
        subscription_id: FromPath[str],
        delivery_id: FromPath[str],
    ) -> Response[Any]:
        """Send a delivered or stopped delivery again, with a new day of retries (as the API's replay)."""
        try:
            await service.replay(_agency(request), subscription_id, delivery_id, queue_pool, settings)
        except AppError as exc:
            return await self._log(request, subscription_id, exc.status, problem=problem(exc, language(request)))
        return see_other(f"{self.path}/{subscription_id}?done=replayed")

    @post("/{subscription_id:str}/enable", status_code=303)
    async def enable(
        self, request: PrincipalRequest, settings: NamedDependency[Settings], subscription_id: FromPath[str]
    ) -> Response[Any]:
        """On again, after its address answered 410 or the agency turned it off."""
        await service.update(_agency(request), subscription_id, SubscriptionPatch(enabled=True), settings)
        return see_other(f"{self.path}/{subscription_id}?done=enabled")

    @post("/{subscription_id:str}/ping", status_code=303)
    async def ping(
        self, request: PrincipalRequest, queue_pool: NamedDependency[ArqRedis], subscription_id: FromPath[str]
    ) -> Response[Any]:
        """A `webhook.ping` event to this subscription alone; its outcome shows in the log."""
        try:
            await service.ping(_agency(request), subscription_id, queue_pool)
        except AppError as exc:
            return await self._log(request, subscription_id, exc.status, problem=problem(exc, language(request)))
        return see_other(f"{self.path}/{subscription_id}?done=pinged")
