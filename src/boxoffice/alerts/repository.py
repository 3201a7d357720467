"""Every query on `alerts`."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from boxoffice.core.db import C, Database, Document, decode
from boxoffice.core.repository import ScopedRepository

#: `open_slot` of an alert that is not resolved yet; a resolved alert holds its own id there.
OPEN = "open"


class AlertRepository(ScopedRepository):
    """Store-scoped: a caller sees the alerts of the stores they may see; tenant-wide alerts
    (no store) only when they may see every store."""

    collection_name = C.ALERTS

    async def insert_once(self, kind: str, cause_key: str, fresh: Document, seen_at: datetime) -> bool:
        """Insert `fresh` unless the cause already has an unresolved alert; then count the sighting
        on that one, by `_id` (a conditional write on any other filter reads the whole collection on
        the embedded server). The unique (tenant, kind, cause, open_slot) index makes concurrent
        raisers one alert: a raiser whose insert loses counts its sighting on the winner's. True
        when this call inserted it."""
        cause = {"kind": {"$eq": kind}, "cause_key": {"$eq": cause_key}, "open_slot": {"$eq": OPEN}}
        for _ in range(3):
            found = await self.find_one(cause, {"_id": 1})
            if found is not None:
                sighting = {"$set": {"last_seen_at": seen_at}, "$inc": {"occurrences": 1}}
                if await self.update_one({"_id": found["_id"], "open_slot": OPEN}, sighting):
                    return False
                continue  # resolved meanwhile: this sighting starts a new episode
            alert = {**fresh, "kind": kind, "cause_key": cause_key, "open_slot": OPEN}
            try:
                await self.insert({**alert, "last_seen_at": seen_at, "occurrences": 1})
                return True
            except DuplicateKeyError:  # raised meanwhile by another raiser
                continue
        return False

    async def unresolved(self) -> list[Document]:
        """The tenant's alerts not resolved yet (an indexed equality on (tenant, open_slot)): few,
        however long the history of resolved ones."""
        return await self.find_many({"open_slot": {"$eq": OPEN}}, sort=[("alert_id", -1)])


async def unresolved_counts_unscoped(db: Database) -> dict[tuple[str, str], int]:
    """(kind, status) → how many alerts of every tenant are not resolved yet (`/metrics`): an
    equality on the indexed `open_slot` reads only those."""
    counts: dict[tuple[str, str], int] = {}
    cursor = db[C.ALERTS].find({"open_slot": {"$eq": OPEN}}, {"_id": 0, "kind": 1, "status": 1})
    async for doc in cursor:
        key = (str(doc.get("kind")), str(doc.get("status")))
        counts[key] = counts.get(key, 0) + 1
    return counts


async def devices_holding_ops_unscoped(db: Database) -> list[Document]:
    """Devices of every tenant whose last upload said ops were still waiting on them (the
    unsynced-ops check and `/metrics`): an equality on the indexed `holding_ops`."""
    cursor = db[C.DEVICES].find(
        {"holding_ops": {"$eq": True}},
        {
            "_id": 0,
            "tenant_id": 1,
            "store_id": 1,
            "device_id": 1,
            "name": 1,
            "status": 1,
            "holding_ops": 1,
            "outbox_remaining": 1,
            "last_sync_at": 1,
        },
    )
    docs: list[Document] = decode(await cursor.to_list())
    return docs
