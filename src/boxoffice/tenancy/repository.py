"""Every query on tenants, stores, site keys and devices.

The few unscoped lookups (a site key by its hash, a device by id at login) run before a caller
is known; they are named `*_unscoped` so a reader sees where the tenant comes from.
"""

from __future__ import annotations

from pymongo import DESCENDING

from boxoffice.core.db import C, Database, Document, decode_doc
from boxoffice.core.repository import ScopedRepository


class TenantRepository(ScopedRepository):
    collection_name = C.TENANTS
    store_scoped = False


class StoreRepository(ScopedRepository):
    collection_name = C.STORES
    bumps = "pricing"  # catalog/context.py caches the store (zone, open or closed)

    async def reported(self, projection: dict[str, int] | None = None) -> list[Document]:
        """The stores whose figures count: a synthetic-check store (`synthetic: true`) never does.
        Filtered here rather than in the query: older stores have no `synthetic` field at all."""
        fields = {**projection, "synthetic": 1} if projection else None
        return [s for s in await self.find_many(projection=fields) if not s.get("synthetic")]


class SiteKeyRepository(ScopedRepository):
    collection_name = C.SITE_KEYS

    async def list_for_store(self, store_id: str) -> list[Document]:
        return await self.find_many(
            {"store_id": store_id}, sort=[("created_at", DESCENDING)], projection={"_id": 0, "key_hash": 0}
        )


class DeviceRepository(ScopedRepository):
    collection_name = C.DEVICES


async def site_key_by_hash_unscoped(db: Database, key_hash: str) -> Document | None:
    return decode_doc(await db[C.SITE_KEYS].find_one({"key_hash": key_hash}, {"_id": 0}))


async def count_site_key_use_unscoped(db: Database, tenant_id: str, site_key_id: str) -> None:
    await db[C.SITE_KEYS].update_one(
        {"tenant_id": tenant_id, "site_key_id": site_key_id}, {"$inc": {"uses": 1}}
    )


async def device_by_id_unscoped(db: Database, device_id: str) -> Document | None:
    return decode_doc(await db[C.DEVICES].find_one({"device_id": device_id}, {"_id": 0}))
