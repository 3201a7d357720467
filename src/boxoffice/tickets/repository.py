"""Every query on signing secrets (platform-wide material, under tenant_id "platform"), refunds,
reprints and redemptions (tickets themselves live with sales)."""

from __future__ import annotations

from datetime import datetime

from boxoffice.core.db import C, Database, Document, decode, encode
from boxoffice.core.repository import ScopedRepository

PLATFORM = "platform"


class SecretRepository(ScopedRepository):
    collection_name = C.SECRETS
    store_scoped = False


class RefundRepository(ScopedRepository):
    collection_name = C.REFUNDS


class ReprintRepository(ScopedRepository):
    collection_name = C.REPRINTS


class RedemptionRepository(ScopedRepository):
    collection_name = C.REDEMPTIONS


class IncidentRepository(ScopedRepository):
    collection_name = C.INCIDENTS


async def stale_pending_unscoped(db: Database, collection: str, now: datetime, limit: int) -> list[Document]:
    """Pending refunds whose lease ran out, in every tenant: the sweeper's work list."""
    cursor = (
        db[collection]
        .find({"status": "pending", "lease_until": {"$lt": encode(now)}}, {"_id": 0})
        .limit(limit)
    )
    docs: list[Document] = decode(await cursor.to_list())
    return docs
