"""HTTP for webhook endpoints, their deliveries and attempts, tests and redeliveries."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from boxoffice.access.dependencies import auth_responses, staff_with
from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.core.clock import isoformat_z
from boxoffice.core.deps import AppDeps
from boxoffice.core.envelope import Envelope, ok
from boxoffice.core.errors import Conflict
from boxoffice.core.ids import new_id
from boxoffice.core.pagination import Cursor, Limit, page_filter, page_of
from boxoffice.core.schemas import Page
from boxoffice.events.outbox import EventType, wake_workers
from boxoffice.webhooks import service
from boxoffice.webhooks.repository import AttemptRepository, DeliveryRepository, WebhookRepository
from boxoffice.webhooks.schemas import (
    DeliveryDetail,
    DeliveryRead,
    DeliveryStatus,
    SecretRotate,
    TestResult,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)
from boxoffice.webhooks.worker import Worker

router = APIRouter(tags=["webhooks"])
Manager = Annotated[Principal, staff_with("settings_write")]
E = dict[str, Any]


def _read(webhook: dict[str, Any]) -> E:
    return WebhookRead.model_validate(service.view(webhook)).model_dump(mode="json")


def _with_secret(webhook: dict[str, Any], secret: str) -> E:
    return WebhookWithSecret.model_validate({**service.view(webhook), "secret": secret}).model_dump(
        mode="json"
    )


@router.get(
    "/webhooks",
    response_model=Envelope[Page[WebhookRead]],
    summary="Webhook endpoints",
    responses=auth_responses(),
)
async def list_webhooks(request: Request, deps: AppDeps, principal: Manager) -> E:
    hooks = await WebhookRepository(deps.db, service.tenant_scope(principal)).find_many(
        {"status": "live"}, sort=[("webhook_id", 1)]
    )
    items = [WebhookRead.model_validate(service.view(h)) for h in hooks]
    return ok(request, Page[WebhookRead](items=items).model_dump(mode="json"))


@router.post(
    "/webhooks",
    response_model=Envelope[WebhookWithSecret],
    status_code=201,
    summary="Add an endpoint: its signing secret is in this answer only",
    responses=auth_responses(),
)
async def create_webhook(request: Request, deps: AppDeps, body: WebhookCreate, principal: Manager) -> E:
    webhook, secret = await service.create(deps, principal, body)
    return ok(request, _with_secret(webhook, secret))


@router.get(
    "/webhooks/{webhook_id}",
    response_model=Envelope[WebhookRead],
    summary="One endpoint",
    responses=auth_responses(404),
)
async def get_webhook(request: Request, deps: AppDeps, webhook_id: str, principal: Manager) -> E:
    return ok(request, _read(await service.get(deps, principal, webhook_id)))


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=Envelope[WebhookRead],
    summary="Change an endpoint, or pause (active=false) and resume it",
    responses=auth_responses(404),
)
async def update_webhook(
    request: Request, deps: AppDeps, webhook_id: str, body: WebhookUpdate, principal: Manager
) -> E:
    return ok(request, _read(await service.update(deps, principal, webhook_id, body)))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    summary="Remove an endpoint; its pending deliveries are cancelled",
    responses=auth_responses(404),
)
async def delete_webhook(deps: AppDeps, webhook_id: str, principal: Manager) -> Response:
    await service.delete(deps, principal, webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{webhook_id}/rotate_secret",
    response_model=Envelope[WebhookWithSecret],
    summary="A new signing secret (shown once); the old one also signs during the grace period",
    responses=auth_responses(404),
)
async def rotate_secret(
    request: Request, deps: AppDeps, webhook_id: str, body: SecretRotate, principal: Manager
) -> E:
    webhook, secret = await service.rotate_secret(deps, principal, webhook_id, body.grace_hours)
    return ok(request, _with_secret(webhook, secret))


@router.post(
    "/webhooks/{webhook_id}/test",
    response_model=Envelope[TestResult],
    summary="Send a signed test event now and report the answer and latency",
    responses=auth_responses(404),
)
async def test_webhook(request: Request, deps: AppDeps, webhook_id: str, principal: Manager) -> E:
    webhook = await service.get(deps, principal, webhook_id)
    worker: Worker = request.app.state.webhook_worker
    event_id = f"test_{new_id()}"
    body = json.dumps(
        {
            "id": event_id,
            "type": "webhook.test",
            "created_at": isoformat_z(deps.clock.now()),
            "tenant_id": principal.tenant_id,
            "store_id": None,
            "data": {"message": "It works."},
        },
        separators=(",", ":"),
    )
    outcome = await worker.post(webhook, body, event_id, "webhook.test")
    code = outcome["status_code"]
    success = code is not None and 200 <= code < 300
    await audit.record(
        deps, principal, "webhook.tested", {"webhook_id": webhook_id, "status_code": code, "success": success}
    )
    return ok(request, TestResult.model_validate({"success": success, **outcome}).model_dump(mode="json"))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=Envelope[Page[DeliveryRead]],
    summary="An endpoint's deliveries, newest first, with their status and next retry",
    responses=auth_responses(404),
)
async def list_deliveries(
    request: Request,
    deps: AppDeps,
    webhook_id: str,
    principal: Manager,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: DeliveryStatus | None = None,
    event_type: Annotated[EventType | None, Query()] = None,
) -> E:
    await service.get(deps, principal, webhook_id)
    filters: dict[str, Any] = {"webhook_id": webhook_id, **page_filter("delivery_id", cursor)}
    if status:
        filters["status"] = status
    if event_type:
        filters["event_type"] = event_type
    docs = await DeliveryRepository(deps.db, service.tenant_scope(principal)).find_many(
        filters, sort=[("delivery_id", -1)], limit=limit + 1, projection={"_id": 0, "body": 0}
    )
    items, next_cursor = page_of(docs, "delivery_id", limit)
    page = Page[DeliveryRead](items=[DeliveryRead.model_validate(d) for d in items], next_cursor=next_cursor)
    return ok(request, page.model_dump(mode="json"))


async def _detail(deps: AppDeps, principal: Principal, delivery_id: str) -> E:
    scope = service.tenant_scope(principal)
    delivery = await DeliveryRepository(deps.db, scope).get({"delivery_id": delivery_id}, "Delivery")
    attempts = await AttemptRepository(deps.db, scope).find_many(
        {"delivery_id": delivery_id}, sort=[("n", 1)]
    )
    return DeliveryDetail.model_validate({**delivery, "attempts_log": attempts}).model_dump(mode="json")


@router.get(
    "/webhook-deliveries/{delivery_id}",
    response_model=Envelope[DeliveryDetail],
    summary="One delivery with every attempt: status code, latency, answer, error, next retry",
    responses=auth_responses(404),
)
async def get_delivery(request: Request, deps: AppDeps, delivery_id: str, principal: Manager) -> E:
    return ok(request, await _detail(deps, principal, delivery_id))


@router.post(
    "/webhook-deliveries/{delivery_id}/redeliver",
    response_model=Envelope[DeliveryDetail],
    summary="Send a dead or failing delivery again now (a fresh retry schedule)",
    responses=auth_responses(404, 409),
)
async def redeliver(request: Request, deps: AppDeps, delivery_id: str, principal: Manager) -> E:
    repo = DeliveryRepository(deps.db, service.tenant_scope(principal))
    delivery = await repo.get({"delivery_id": delivery_id}, "Delivery")
    if delivery["status"] in ("delivered", "cancelled"):
        raise Conflict(f"This delivery is {delivery['status']}; there is nothing to send again.")
    now = deps.clock.now()
    await repo.update_one(
        {"delivery_id": delivery_id, "status": delivery["status"]},
        {"$set": {"status": "pending", "round_failures": 0, "next_attempt_at": now}},
    )
    wake_workers()  # this process's worker, if it holds the lease, sends it now
    await audit.record(deps, principal, "webhook.redelivered", {"delivery_id": delivery_id})
    return ok(request, await _detail(deps, principal, delivery_id))
