"""Every query on shifts, cash movements, shift snapshots and sales (tickets: tickets/repository)."""

from __future__ import annotations

from datetime import datetime

from boxoffice.core.db import C, Database, Document, decode, encode
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
    """Shifts flipped to closed whose snapshot was never written, in every tenant (the sweeper's)."""
    cursor = (
        db[C.SHIFTS]
        .find(
            {"status": "closed", "finalized": False, "close_at": {"$lt": encode(closed_before)}},
            {"_id": 0},
        )
        .limit(limit)
    )
    docs: list[Document] = decode(await cursor.to_list())
    return docs
