"""Every query on `alerts`."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from boxoffice.core.db import C, Document, encode
from boxoffice.core.repository import ScopedRepository

#: `open_slot` of an alert that is not resolved yet; a resolved alert holds its own id there.
OPEN = "open"


class AlertRepository(ScopedRepository):
    """Store-scoped: a caller sees the alerts of the stores they may see; tenant-wide alerts
    (no store) only when they may see every store."""

    collection_name = C.ALERTS

    async def insert_once(self, kind: str, cause_key: str, fresh: Document, seen_at: datetime) -> bool:
        """Insert `fresh` unless the cause already has an unresolved alert (then count the sighting).
        One upsert on the unique (tenant, kind, cause, open_slot) index: concurrent raisers make one
        alert. True when this call inserted it."""
        filters = self.where({"kind": kind, "cause_key": cause_key, "open_slot": OPEN})
        update = encode(
            {"$setOnInsert": fresh, "$set": {"last_seen_at": seen_at}, "$inc": {"occurrences": 1}}
        )
        try:
            result = await self.collection.update_one(filters, update, upsert=True)
        except DuplicateKeyError:  # MongoDB may report the race instead of matching: count it again
            await self.collection.update_one(filters, update)
            return False
        return result.upserted_id is not None
