"""Retention: collections that forget (events, webhook deliveries and attempts, sync results, rate
limit counters) are emptied of old rows by this job, hourly, on one replica (a lease), in small
batches — not by TTL indexes, which on the embedded server make every find on their collection run
a full-scan purge first (and the sync results and rate limits are read on hot paths).

Each row carries `purge_after` (UNIX seconds; core/repository.py `keep_for`, core/ratelimit.py). A
batch is a find on that indexed int (a range the index serves), sorted, limited, then a delete by
`_id`. Rows written before retention existed (a TTL-era `expires_at`, no `purge_after`) are given
one first, found by `purge_after: {$exists: false}`, which the same index serves.

The daily job (ops/retention.py) uses the same shapes for records kept by a setting rather than a
fixed time: `stamp_seconds` gives each row its time as an indexed int (`ts_s` beside a stamp),
`delete_before` deletes by a range over it, `delete_periods_before` deletes report summaries by
their period (day or month) — so a change of the setting applies to every row at once.
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


async def delete_expired(db: Database, name: str, now: datetime, *, pause: float = PAUSE_SECONDS) -> int:
    """Rows of one more collection that carries `purge_after` (the daily job's audit anchors)."""
    return await _delete_expired(db, name, purge_after(now), BATCH, MOST_BATCHES, pause)


async def stamp_seconds(
    db: Database,
    name: str,
    *,
    stamp_field: str,
    seconds_field: str,
    now: datetime,
    batch: int = BATCH,
    most_batches: int = MOST_BATCHES,
    pause: float = PAUSE_SECONDS,
) -> int:
    """Give rows without `seconds_field` their `stamp_field` as UNIX seconds (found by
    `$exists: false` on the indexed int, set by `_id`); one without a usable stamp counts from
    `now`. Returns how many were stamped."""
    collection = db[name]
    total = 0
    for n in range(most_batches):
        if n:
            await asyncio.sleep(pause)
        docs = (
            await collection.find({seconds_field: {"$exists": False}}, {"_id": 1, stamp_field: 1})
            .limit(batch)
            .to_list()
        )
        if not docs:
            break
        updates = []
        for doc in docs:
            at = decode(doc.get(stamp_field))
            seconds = int((at if isinstance(at, datetime) and at.tzinfo else now).timestamp())
            updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": {seconds_field: seconds}}))
        await collection.bulk_write(updates, ordered=False)
        total += len(docs)
        if len(docs) < batch:
            break
    return total


async def delete_before(
    db: Database,
    name: str,
    *,
    seconds_field: str,
    cutoff: datetime,
    batch: int = BATCH,
    most_batches: int = MOST_BATCHES,
    pause: float = PAUSE_SECONDS,
) -> int:
    """Delete rows whose `seconds_field` is before `cutoff` (a range on the indexed int, then by `_id`)."""
    collection = db[name]
    limit = int(cutoff.timestamp())
    total = 0
    for n in range(most_batches):
        if n:
            await asyncio.sleep(pause)
        found = collection.find({seconds_field: {"$lt": limit}}, {"_id": 1}).limit(batch)
        ids = [doc["_id"] async for doc in found]
        if not ids:
            break
        total += (await collection.delete_many({"_id": {"$in": ids}})).deleted_count
        if len(ids) < batch:
            break
    return total


async def delete_periods_before(
    db: Database,
    name: str,
    *,
    first_kept_day: str,
    batch: int = BATCH,
    most_batches: int = MOST_BATCHES,
    pause: float = PAUSE_SECONDS,
) -> int:
    """Delete rows whose `day` (a day, YYYY-MM-DD, or a month, YYYY-MM) ended before
    `first_kept_day`: every period before its month (months sort before their days), then the days
    of its month before it. Two ranges on the indexed `day`."""
    collection = db[name]
    month = first_kept_day[:7]
    total = 0
    for period in ({"$lt": month}, {"$gte": month + "-", "$lt": first_kept_day}):
        for n in range(most_batches):
            if n:
                await asyncio.sleep(pause)
            ids = [doc["_id"] async for doc in collection.find({"day": period}, {"_id": 1}).limit(batch)]
            if not ids:
                break
            total += (await collection.delete_many({"_id": {"$in": ids}})).deleted_count
            if len(ids) < batch:
                break
    return total
