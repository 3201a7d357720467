"""Every query on webhooks, deliveries and attempts (and the worker's cross-tenant work lists)."""

from __future__ import annotations

from datetime import datetime

from boxoffice.core.db import C, Database, Document, decode, encode
from boxoffice.core.repository import ScopedRepository
from boxoffice.events.outbox import KEEP


class WebhookRepository(ScopedRepository):
    collection_name = C.WEBHOOKS
    store_scoped = False


class DeliveryRepository(ScopedRepository):
    collection_name = C.WEBHOOK_DELIVERIES
    store_scoped = False
    keep_for = KEEP


class AttemptRepository(ScopedRepository):
    collection_name = C.WEBHOOK_ATTEMPTS
    store_scoped = False
    keep_for = KEEP
    keep_from = "at"


async def events_to_fan_out_unscoped(db: Database, now: datetime, limit: int) -> list[Document]:
    cursor = (
        db[C.EVENTS]
        .find({"fanned_out": False, "lease_until": {"$lte": encode(now)}}, {"_id": 0})
        .sort("event_id", 1)
        .limit(limit)
    )
    docs: list[Document] = decode(await cursor.to_list())
    return docs


async def due_deliveries_unscoped(db: Database, now: datetime, limit: int) -> list[Document]:
    cursor = (
        db[C.WEBHOOK_DELIVERIES]
        .find({"status": "pending", "next_attempt_at": {"$lte": encode(now)}}, {"_id": 0})
        .sort("next_attempt_at", 1)
        .limit(limit)
    )
    docs: list[Document] = decode(await cursor.to_list())
    return docs


async def queue_depth_unscoped(db: Database) -> int:
    return await db[C.WEBHOOK_DELIVERIES].count_documents({"status": "pending"})
