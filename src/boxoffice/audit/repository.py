"""Every query on `audits`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

from boxoffice.core.db import C, Database, Document
from boxoffice.core.repository import Scope, ScopedRepository


class AuditRepository(ScopedRepository):
    collection_name = C.AUDITS

    async def last(self) -> Document | None:
        """The chain's head (callers use a tenant-wide scope: the chain spans every store)."""
        return await self.find_one({}, sort=[("seq", DESCENDING)])

    async def search(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        store_id: str | None,
        actor_id: str | None,
        device_id: str | None,
        event_types: list[str] | None,
        event_prefix: str | None,
        subject_id: str | None = None,
        before_seq: int | None,
        limit: int,
    ) -> list[Document]:
        filters: dict[str, Any] = {}
        ts: dict[str, datetime] = {}
        if since:
            ts["$gte"] = since
        if until:
            ts["$lt"] = until
        if ts:
            filters["ts"] = ts
        if store_id:
            filters["store_id"] = store_id
        if actor_id:
            filters["actor_id"] = actor_id
        if device_id:
            filters["device_id"] = device_id
        if event_types:
            filters["event_type"] = {"$in": event_types}
        elif event_prefix:
            filters["event_type"] = {"$gte": event_prefix, "$lt": event_prefix + "\uffff"}
        if subject_id:
            filters["subjects"] = subject_id  # array membership
        if before_seq is not None:
            filters["seq"] = {"$lt": before_seq}
        return await self.find_many(filters, sort=[("seq", DESCENDING)], limit=limit)


async def iterate_chain(db: Database, tenant_id: str) -> AsyncIterator[Document]:
    """The whole chain of one tenant, oldest first (for verification), as stored."""
    repo = AuditRepository(db, Scope(tenant_id))
    cursor = repo.collection.find(repo.where(), {"_id": 0}).sort("seq", ASCENDING)
    async for doc in cursor:
        yield doc


async def tenants_with_audits(db: Database) -> list[str]:
    """Every tenant with a chain: the one unscoped read, for `boxoffice audit verify`."""
    ids: list[str] = await db[C.AUDITS].distinct("tenant_id")
    return sorted(ids)
