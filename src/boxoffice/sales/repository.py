"""Every query on shifts, cash movements, shift snapshots and sales (tickets: tickets/repository)."""

from __future__ import annotations

from datetime import datetime

from boxoffice.core.db import C, Database, Document, decode
from boxoffice.core.repository import ScopedRepository


class ShiftRepository(ScopedRepository):
    collection_name = C.SHIFTS

    async def open_for(self, device_id: str) -> Document | None:
        return await self.find_one({"open_slot": device_id, "status": "open"})


class MovementRepository(ScopedRepository):
    collection_name = C.CASH_MOVEMENTS


class SnapshotRepository(ScopedRepository):
    collection_name = C.SHIFT_SNAPSHOTS


class SaleRepository(ScopedRepository):
    collection_name = C.SALES


async def unfinished_closes_unscoped(db: Database, closed_before: datetime, limit: int) -> list[Document]:
    """Shifts flipped to closed whose snapshot was never written, in every tenant (the sweeper's).
    An equality on the indexed `finalized` (set false at the flip, true once the snapshot is written),
    spelled `$eq` so the embedded server's index serves it; the times are compared here (a range on
    a stamp is evaluated outside the index)."""
    cursor = db[C.SHIFTS].find({"finalized": {"$eq": False}}, {"_id": 0}).sort("close_at", 1).limit(limit)
    docs: list[Document] = decode(await cursor.to_list())
    return [d for d in docs if d.get("status") == "closed" and d["close_at"] < closed_before]
