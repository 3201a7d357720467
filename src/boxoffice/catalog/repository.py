"""Every query on packages and pricing rules. A store_id of "" means every store of the tenant
(stored as a string, never null: see core/db.py on null filters)."""

from __future__ import annotations

from boxoffice.core.db import C, Document
from boxoffice.core.repository import ScopedRepository

EVERY_STORE = ""


class PackageRepository(ScopedRepository):
    collection_name = C.PACKAGES
    bumps = "pricing"  # catalog/context.py caches a store's packages
    store_scoped = False  # tenant-wide packages ("") are visible to every store

    async def for_store(self, store_id: str | None, *, active_only: bool) -> list[Document]:
        filters: dict[str, object] = {}
        if store_id is not None:
            filters["store_id"] = {"$in": [EVERY_STORE, store_id]}
        if active_only:
            filters["active"] = True
        return await self.find_many(filters, sort=[("name", 1), ("package_id", 1)])


class RuleRepository(ScopedRepository):
    collection_name = C.PRICING_RULES
    bumps = "pricing"
    store_scoped = False

    async def for_store(self, store_id: str | None, *, active_only: bool) -> list[Document]:
        filters: dict[str, object] = {}
        if store_id is not None:
            filters["store_id"] = {"$in": [EVERY_STORE, store_id]}
        if active_only:
            filters["active"] = True
        return await self.find_many(filters, sort=[("priority", -1), ("rule_id", 1)])
