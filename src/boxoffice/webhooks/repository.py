"""Every query on webhooks, deliveries and attempts (and the worker's cross-tenant work lists).

The work lists are equalities on indexed markers, spelled `$eq`: the embedded server reads a bare
equality on a field that does not end an index as "equal, or an array containing it", which no
index serves (a full scan). Timestamps are compared by the worker, not in the filter (a range on a
stamp is evaluated outside the index there too).
"""

from __future__ import annotations

from typing import Any

from boxoffice.core.db import C, Database, Document, decode
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


async def pending_events_unscoped(db: Database, limit: int) -> list[Document]:
    """Events not yet fanned out (the outbox's pending marker), oldest first, with their `_id`."""
    cursor = db[C.EVENTS].find({"fanned_out": {"$eq": False}}).sort("event_id", 1).limit(limit)
    docs: list[Document] = decode(await cursor.to_list())
    return docs


async def mark_fanned_out_unscoped(db: Database, ids: list[Any]) -> None:
    """Done with these events (read by `pending_events_unscoped`): one write, by `_id`."""
    if ids:
        await db[C.EVENTS].update_many({"_id": {"$in": ids}}, {"$set": {"fanned_out": True}})


async def pending_deliveries_unscoped(db: Database, limit: int) -> list[Document]:
    """Deliveries still to send (due now or later), earliest first, with their `_id`, without the
    body (read again for the ones that are claimed)."""
    cursor = (
        db[C.WEBHOOK_DELIVERIES]
        .find({"status": {"$eq": "pending"}}, {"body": 0})
        .sort("next_attempt_at", 1)
        .limit(limit)
    )
    docs: list[Document] = decode(await cursor.to_list())
    return docs


async def pending_delivery_count_unscoped(db: Database) -> int:
    """The queue's depth: an indexed read of the pending ids (a count scans on the embedded server)."""
    return len(await db[C.WEBHOOK_DELIVERIES].find({"status": {"$eq": "pending"}}, {"_id": 1}).to_list())
