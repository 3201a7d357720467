"""Fixed-window rate limits kept in Mongo, so every API replica shares the same counts.

A counter's `_id` is its key (`name:subject:window`), so every read and write addresses `_id`; it
carries `purge_after` (UNIX seconds, the end of its window) for the retention job, not a TTL index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError

from boxoffice.core.clock import Clock
from boxoffice.core.db import C, Database
from boxoffice.core.errors import RateLimited
from boxoffice.core.repository import purge_after


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window: timedelta


REGISTER = Limit("register", 10, timedelta(minutes=1))
DEVICE_LOGIN = Limit("device_login", 30, timedelta(minutes=1))
EMPLOYEE_LOGIN = Limit("employee_login", 20, timedelta(minutes=1))
VERIFY_PIN = Limit("verify_pin", 20, timedelta(minutes=1))
REFUND = Limit("refund", 10, timedelta(minutes=1))
REPRINT = Limit("reprint", 10, timedelta(minutes=1))
#: Per employee, whatever device they use: risky actions a dishonest member of staff might repeat.
REFUNDS_BY_EMPLOYEE = Limit("refunds_by_employee", 20, timedelta(hours=1))
REPRINTS_BY_EMPLOYEE = Limit("reprints_by_employee", 20, timedelta(hours=1))
DISCOUNTS_BY_EMPLOYEE = Limit("manual_discounts_by_employee", 20, timedelta(hours=1))
APPROVALS_GIVEN = Limit("approvals_given", 30, timedelta(hours=1))


async def hit(db: Database, clock: Clock, limit: Limit, subject: str) -> None:
    """Count one attempt by `subject` (an IP, a device); 429 with Retry-After past the limit."""
    now = clock.now()
    window_seconds = int(limit.window.total_seconds())
    window_index = int(now.timestamp()) // window_seconds
    window_end = datetime.fromtimestamp((window_index + 1) * window_seconds, UTC)
    key = f"{limit.name}:{subject}:{window_index}"
    if await bump(db, key, window_end) > limit.max_hits:
        retry_after = max(1, math.ceil((window_end - now).total_seconds()))
        raise RateLimited(
            f"Too many {limit.name.replace('_', ' ')} attempts; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


async def take_from_cap(db: Database, key: str, cap: int, expires_at: datetime) -> bool:
    """Use one unit of a capped counter (e.g. today's reprints of a device): a conditional `$inc`,
    so concurrent callers can never take it past `cap`. False when it is used up."""
    collection = db[C.RATE_LIMITS]
    try:
        await collection.update_one(
            {"_id": key}, {"$setOnInsert": _fresh(key, expires_at, count=0)}, upsert=True
        )
    except DuplicateKeyError:
        pass  # created by a concurrent first taker
    taken = await collection.find_one_and_update(
        {"_id": key, "count": {"$lt": cap}}, {"$inc": {"count": 1}}, projection={"count": 1}
    )
    return taken is not None


async def give_back_to_cap(db: Database, key: str) -> None:
    """Undo one `take_from_cap` whose action did not happen after all."""
    await db[C.RATE_LIMITS].update_one({"_id": key, "count": {"$gt": 0}}, {"$inc": {"count": -1}})


async def counts(db: Database, keys: list[str]) -> dict[str, int]:
    """The current counts of these counters (0 for one never taken), in one read."""
    found = {
        d["_id"]: int(d.get("count", 0))
        async for d in db[C.RATE_LIMITS].find({"_id": {"$in": keys}}, {"_id": 1, "count": 1})
    }
    return {key: found.get(key, 0) for key in keys}


async def bump(db: Database, key: str, expires_at: datetime) -> int:
    """Count one occurrence under `key` (until `expires_at`) and answer the new count.
    update_one + find_one rather than an upserting find_one_and_update: the embedded server drops
    $setOnInsert there."""
    collection = db[C.RATE_LIMITS]
    update = {"$inc": {"count": 1}, "$setOnInsert": _fresh(key, expires_at)}
    try:
        await collection.update_one({"_id": key}, update, upsert=True)
    except DuplicateKeyError:  # two first hits raced on the upsert; the second is now an update
        await collection.update_one({"_id": key}, update, upsert=True)
    doc = await collection.find_one({"_id": key}, {"count": 1})
    return int(doc["count"]) if doc is not None else 1


def _fresh(key: str, expires_at: datetime, **fields: int) -> dict[str, object]:
    """What a new counter starts with besides its `_id`: its key spelled out (for people reading the
    collection) and when retention may delete it."""
    return {"key": key, "purge_after": purge_after(expires_at), **fields}
