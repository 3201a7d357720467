"""Every query on shifts, cash movements, shift snapshots, sales and tickets."""

from __future__ import annotations

from boxoffice.core.db import C, Document
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


class TicketRepository(ScopedRepository):
    collection_name = C.TICKETS
