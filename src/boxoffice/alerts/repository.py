"""Every query on `alerts`."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from boxoffice.core.db import C, Document
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
