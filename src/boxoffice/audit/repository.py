"""Every query on `audits` and on the chain heads (`audit_heads`, one document per tenant)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

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


class AuditHeadRepository(ScopedRepository):
    """The last entry of a tenant's chain (`_id` is the tenant id): what lets verify notice entries
    cut from the end. It only moves forward."""

    collection_name = C.AUDIT_HEADS
    store_scoped = False

    async def head(self) -> Document | None:
        return await self.find_one({"_id": self.scope.tenant_id})

    async def advance(self, entry: Document) -> None:
        """One conditional write: move the head to `entry` unless it already stands at or past it.
        The upsert creates the head on a chain's first entry (or an older chain's next one); when the
        head exists but is further on, the upsert's insert meets its `_id` and nothing changes."""
        try:
            await self.update_one(
                {"_id": self.scope.tenant_id, "seq": {"$lt": int(entry["seq"])}},
                {"$set": {"seq": int(entry["seq"]), "hash": entry["hash"], "audit_id": entry["audit_id"]}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # a later entry's writer moved it first


async def iterate_chain(db: Database, tenant_id: str) -> AsyncIterator[Document]:
    """The whole chain of one tenant, oldest first (for verification), as stored."""
    repo = AuditRepository(db, Scope(tenant_id))
    cursor = repo.collection.find(repo.where(), {"_id": 0}).sort("seq", ASCENDING)
    async for doc in cursor:
        yield doc


async def tenants_with_audits(db: Database) -> list[str]:
    """Every tenant with a chain or a head (a chain emptied out still has its head): the unscoped
    reads, for `boxoffice audit verify`."""
    ids: set[str] = set(await db[C.AUDITS].distinct("tenant_id"))
    ids |= set(await db[C.AUDIT_HEADS].distinct("tenant_id"))
    return sorted(ids)
