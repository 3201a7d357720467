"""Retention: collections that forget (events, webhook deliveries and attempts, sync results, rate
limit counters) are emptied of old rows by this job, hourly, on one replica (a lease), in small
batches — not by TTL indexes, which on the embedded server make every find on their collection run
a full-scan purge first (and the sync results and rate limits are read on hot paths).

Each row carries `purge_after` (UNIX seconds; core/repository.py `keep_for`, core/ratelimit.py). A
batch is a find on that indexed int (a range the index serves), sorted, limited, then a delete by
`_id`. Rows written before retention existed (a TTL-era `expires_at`, no `purge_after`) are given
one first, found by `purge_after: {$exists: false}`, which the same index serves.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pymongo import UpdateOne

from boxoffice.core.background import Pass
from boxoffice.core.clock import Clock
from boxoffice.core.db import C, Database, decode
from boxoffice.core.logging import get_logger
from boxoffice.core.repository import purge_after

log = get_logger(__name__)

#: The collections retention empties.
RETAINED: tuple[str, ...] = (C.EVENTS, C.WEBHOOK_DELIVERIES, C.WEBHOOK_ATTEMPTS, C.OPS, C.RATE_LIMITS)
EVERY_SECONDS = 3600.0
BATCH = 500
#: Per collection per run: a backlog is worked off over several runs rather than in one long stall.
MOST_BATCHES = 100
#: Between batches, so requests waiting on the embedded server's one lock get through.
PAUSE_SECONDS = 0.05
#: A legacy row without a usable `expires_at` is kept this long from now.
LEGACY_KEEP = timedelta(days=30)


async def purge(
    db: Database,
    clock: Clock,
    *,
    batch: int = BATCH,
    most_batches: int = MOST_BATCHES,
    pause: float = PAUSE_SECONDS,
) -> dict[str, int]:
    """One run: rows deleted per collection."""
    now = clock.now()
    deleted: dict[str, int] = {}
    for name in RETAINED:
        await _adopt_legacy(db, name, now, batch, most_batches, pause)
        deleted[name] = await _delete_expired(db, name, purge_after(now), batch, most_batches, pause)
    return deleted


async def run(db: Database, clock: Clock) -> Pass:
    """The loop's pass (core/background.py)."""
    deleted = await purge(db, clock)
    if any(deleted.values()):
        log.info("retention_purged", **deleted)
    return Pass(busy=False)


async def _delete_expired(
    db: Database, name: str, now: int, batch: int, most_batches: int, pause: float
) -> int:
    collection = db[name]
    total = 0
    for n in range(most_batches):
        if n:
            await asyncio.sleep(pause)
        expired = collection.find({"purge_after": {"$lte": now}}, {"_id": 1})
        ids = [doc["_id"] async for doc in expired.sort("purge_after", 1).limit(batch)]
        if not ids:
            break
        total += (await collection.delete_many({"_id": {"$in": ids}})).deleted_count
        if len(ids) < batch:
            break
    return total


async def _adopt_legacy(
    db: Database, name: str, now: datetime, batch: int, most_batches: int, pause: float
) -> None:
    """Rows from before retention: `purge_after` from their TTL-era `expires_at`."""
    collection = db[name]
    for n in range(most_batches):
        if n:
            await asyncio.sleep(pause)
        legacy = collection.find({"purge_after": {"$exists": False}}, {"_id": 1, "expires_at": 1})
        docs = await legacy.limit(batch).to_list()
        if not docs:
            return
        updates = []
        for doc in docs:
            expires = decode(doc.get("expires_at"))
            when = expires if isinstance(expires, datetime) and expires.tzinfo else now + LEGACY_KEEP
            updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"purge_after": purge_after(when)}}))
        await collection.bulk_write(updates, ordered=False)
        if len(docs) < batch:
            return
