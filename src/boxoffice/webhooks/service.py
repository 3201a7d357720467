"""Webhook endpoints: create (the secret is shown once and stored sealed), change, pause and
resume, rotate the secret (the old one keeps signing for a grace period), delete."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from boxoffice.access.principal import Principal
from boxoffice.alerts import service as alerts
from boxoffice.audit import service as audit
from boxoffice.config import Settings
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import PermissionDenied
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.core.sealing import Unsealable, seal, unseal
from boxoffice.webhooks.repository import DeliveryRepository, WebhookRepository
from boxoffice.webhooks.schemas import WebhookCreate, WebhookUpdate

FIELDS = (
    "webhook_id",
    "url",
    "events",
    "description",
    "active",
    "healthy",
    "paused_reason",
    "created_at",
    "rotating_until",
)


def view(webhook: Document) -> Document:
    return {k: webhook.get(k) for k in FIELDS}


def tenant_scope(principal: Principal) -> Scope:
    """Webhooks carry every store's events, so only someone with settings_write everywhere manages them."""
    if principal.stores_with("settings_write") is not None:
        raise PermissionDenied("Webhooks are tenant-wide: this needs settings_write for every store.")
    return Scope(principal.tenant_id)


def _new_secret(settings: Settings, webhook_id: str) -> tuple[str, dict[str, str]]:
    secret = "whsec_" + secrets.token_urlsafe(32)
    return secret, seal(settings, secret.encode(), webhook_id)


def signing_secrets(settings: Settings, webhook: Document, now: Any) -> list[bytes]:
    """The current secret, and the previous one while a rotation's grace period runs. Raises
    Unsealable when the current one cannot be decrypted (another master key); a previous one
    that cannot is left out (rotating is how a person repairs a secret sealed under an old key)."""
    keys = [unseal(settings, webhook["secret_sealed"], webhook["webhook_id"])]
    if webhook.get("previous_sealed") and webhook.get("rotating_until") and now < webhook["rotating_until"]:
        try:
            keys.insert(0, unseal(settings, webhook["previous_sealed"], webhook["webhook_id"]))
        except Unsealable:
            pass
    return keys


async def create(deps: Deps, principal: Principal, body: WebhookCreate) -> tuple[Document, str]:
    scope = tenant_scope(principal)
    webhook_id = new_id()
    secret, sealed = _new_secret(deps.settings, webhook_id)
    webhook = {
        "webhook_id": webhook_id,
        "url": body.url,
        "events": list(body.events),
        "description": body.description,
        "active": True,
        "healthy": True,
        "paused_reason": None,
        "status": "live",
        "secret_sealed": sealed,
        "previous_sealed": None,
        "rotating_until": None,
        "created_at": deps.clock.now(),
        "created_by": principal.actor_id,
    }
    await WebhookRepository(deps.db, scope).insert(webhook)
    await audit.record(
        deps,
        principal,
        "webhook.created",
        {"webhook_id": webhook_id, "url": body.url, "events": webhook["events"]},
    )
    return webhook, secret


async def get(deps: Deps, principal: Principal, webhook_id: str) -> Document:
    return await WebhookRepository(deps.db, tenant_scope(principal)).get(
        {"webhook_id": webhook_id, "status": "live"}, "Webhook"
    )


async def update(deps: Deps, principal: Principal, webhook_id: str, body: WebhookUpdate) -> Document:
    repo = WebhookRepository(deps.db, tenant_scope(principal))
    await repo.get({"webhook_id": webhook_id, "status": "live"}, "Webhook")
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    if changes.get("active") is True:
        changes["paused_reason"] = None
    elif changes.get("active") is False:
        changes["paused_reason"] = "Paused by a person"
    if not changes:
        return await repo.get({"webhook_id": webhook_id}, "Webhook")
    updated = await repo.find_one_and_update({"webhook_id": webhook_id, "status": "live"}, {"$set": changes})
    assert updated is not None
    await audit.record(deps, principal, "webhook.updated", {"webhook_id": webhook_id, "changes": changes})
    return updated


async def rotate_secret(
    deps: Deps, principal: Principal, webhook_id: str, grace_hours: int
) -> tuple[Document, str]:
    repo = WebhookRepository(deps.db, tenant_scope(principal))
    current = await repo.get({"webhook_id": webhook_id, "status": "live"}, "Webhook")
    secret, sealed = _new_secret(deps.settings, webhook_id)
    now = deps.clock.now()
    updated = await repo.find_one_and_update(
        {"webhook_id": webhook_id, "status": "live"},
        {
            "$set": {
                "secret_sealed": sealed,
                "previous_sealed": current["secret_sealed"] if grace_hours else None,
                "rotating_until": now + timedelta(hours=grace_hours) if grace_hours else None,
            }
        },
    )
    assert updated is not None
    await audit.record(
        deps, principal, "webhook.secret_rotated", {"webhook_id": webhook_id, "grace_hours": grace_hours}
    )
    return updated, secret


async def delete(deps: Deps, principal: Principal, webhook_id: str) -> None:
    scope = tenant_scope(principal)
    repo = WebhookRepository(deps.db, scope)
    await repo.get({"webhook_id": webhook_id, "status": "live"}, "Webhook")
    await repo.update_one({"webhook_id": webhook_id}, {"$set": {"status": "deleted", "active": False}})
    await DeliveryRepository(deps.db, scope).update_many(
        {"webhook_id": webhook_id, "status": "pending"}, {"$set": {"status": "cancelled"}}
    )
    await audit.record(deps, principal, "webhook.deleted", {"webhook_id": webhook_id})
    # A removed endpoint fails no more: its alert (if any) is over.
    await alerts.resolve_alert(deps, principal.tenant_id, kind="webhook_failing", cause_key=webhook_id)
