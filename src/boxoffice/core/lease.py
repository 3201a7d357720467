"""Leases: one replica at a time does a piece of background work (the webhook worker, the sweeper,
retention); the others stand by and take over when the holder stops renewing.

A lease is one document in `leases`, `_id` = the work's name, holding `holder`, `until` and a
version `n`. It is claimed and renewed by compare-and-set on `_id` and the version last seen, so two
replicas can never both think they took it from the same state. Time is the injected clock.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from boxoffice.core.clock import Clock
from boxoffice.core.db import C, Database, decode, stamp
from boxoffice.core.ids import new_id

#: How long a claim lasts unless renewed. Longer than a worker's longest idle sleep, so an idle
#: holder keeps it by renewing on each pass; a holder that died is replaced after at most this long.
LEASE_TTL = timedelta(seconds=60)


def holder_id() -> str:
    """Who this process is, in leases and logs: host, pid and a random part (pids repeat)."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()}"


class Lease:
    def __init__(
        self, db: Database, clock: Clock, name: str, holder: str, ttl: timedelta = LEASE_TTL
    ) -> None:
        self.db = db
        self.clock = clock
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self._version: int | None = None  # what we last wrote, while we hold it
        #: When the lease as last seen runs out (ours or another holder's).
        self.until: datetime | None = None

    @property
    def held(self) -> bool:
        return self._version is not None

    async def hold(self) -> bool:
        """Renew the lease if we hold it, else take it if it is free or lapsed. True when we hold it
        now. One write on `_id` for a holder; one read (and a write when it lapsed) for the others."""
        now = self.clock.now()
        leases = self.db[C.LEASES]
        fresh = {"holder": self.holder, "until": stamp(now + self.ttl)}
        if self._version is not None:
            renewed = await leases.find_one_and_update(
                {"_id": self.name, "holder": self.holder, "n": self._version},
                {"$set": fresh, "$inc": {"n": 1}},
                projection={"n": 1},
                return_document=ReturnDocument.AFTER,
            )
            if renewed is not None:
                return self._took(int(renewed["n"]), now)
            self._version = None  # it lapsed and another replica took it
        current = await leases.find_one({"_id": self.name})
        if current is None:
            try:
                await leases.insert_one({"_id": self.name, **fresh, "n": 1})
            except DuplicateKeyError:  # another replica created it first
                self.until = now + self.ttl
                return False
            return self._took(1, now)
        until: datetime = decode(current["until"])
        if until > now and current["holder"] != self.holder:
            self.until = until
            return False
        taken = await leases.find_one_and_update(
            {"_id": self.name, "n": current["n"]},
            {"$set": fresh, "$inc": {"n": 1}},
            projection={"n": 1},
            return_document=ReturnDocument.AFTER,
        )
        if taken is None:  # another replica took it between our read and our write
            self.until = now + self.ttl
            return False
        return self._took(int(taken["n"]), now)

    def _took(self, version: int, now: datetime) -> bool:
        self._version = version
        self.until = now + self.ttl
        return True

    async def release(self) -> None:
        """Give the lease up now (a clean shutdown), so another replica need not wait it out."""
        if self._version is None:
            return
        version, self._version = self._version, None
        await self.db[C.LEASES].update_one(
            {"_id": self.name, "holder": self.holder, "n": version},
            {"$set": {"until": stamp(self.clock.now())}, "$inc": {"n": 1}},
        )

    def seconds_left(self) -> float:
        """Until the lease as last seen runs out (0 when unknown or past)."""
        if self.until is None:
            return 0.0
        return max(0.0, (self.until - self.clock.now()).total_seconds())
