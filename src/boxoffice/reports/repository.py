"""Every query of the reports: summary documents, first-PASS marks, the projector's state, and the
one cross-tenant read that finds events not yet counted.

Reads that must be served by an index on the embedded server spell equality `$eq` (a bare
equality on a field that does not end an index is read there as "or an array containing it",
which no index serves) and use single-field keys: summaries are found by their `bucket`
(tenant|family|store|day) — per store, a range over its days on that one indexed key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import aclosing
from datetime import datetime
from itertools import islice
from typing import Any

from pymongo import DeleteOne, ReplaceOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from boxoffice.core.db import C, Database, Document, decode, encode
from boxoffice.core.repository import ScopedRepository
from boxoffice.reports.summaries import Change, bucket, in_period

#: The times a shift's summary holds (set by `shift.closed`): decoded alone, not the whole document.
SHIFT_TIMES = ("open_at", "close_at")

#: Documents one bulk write of a rebuild carries.
WRITE_BATCH = 1000
#: Summary ids one read of `replace_days` brings (only `_id` and `day`: small).
ID_BATCH = 5000
#: Awaited before each bulk write of `replace_days` with (written, deleted) so far.
BeforeBatch = Callable[[int, int], Awaitable[None]]


def _chunks(values: Iterable[str], size: int) -> Iterator[list[str]]:
    items = iter(values)
    while chunk := list(islice(items, size)):
        yield chunk


class SummaryRepository(ScopedRepository):
    collection_name = C.REPORT_SUMMARIES

    async def apply(self, change: Change, seq: int) -> bool:
        """Add one event's figures to one summary document, once: the write matches only while the
        document's `upto` is below the event's projection number; a document already past it makes
        the upsert collide with its own `_id` (DuplicateKeyError): already applied. Returns whether
        it was applied now."""
        tenant_id = self.scope.tenant_id
        update: dict[str, Any] = {"$set": {**change.document_fields(tenant_id), "upto": seq}}
        if change.inc:
            update["$inc"] = dict(change.inc)
        try:
            await self.collection.update_one(
                {"_id": change.summary_id(tenant_id), "upto": {"$lt": seq}}, encode(update), upsert=True
            )
        except DuplicateKeyError:
            return False
        return True

    async def in_periods(
        self, family: str, store_ids: Sequence[str], first: str, last: str, *, rollup: bool
    ) -> list[Document]:
        """The family's summaries (detail documents or rollups) of these stores for the periods
        `first`..`last` (days, or months: both the same kind): for each store, one range on the
        indexed bucket (periods sort as strings). Measured on the embedded server, a range there
        reads a month of one store in 2 ms where `$in` over its 30 day keys takes 50 ms."""
        tenant_id = self.scope.tenant_id
        found: list[Document] = []
        for store_id in store_ids:
            if not self.scope.allows_store(store_id):
                continue
            low = bucket(tenant_id, family, store_id, first, rollup=rollup)
            high = bucket(tenant_id, family, store_id, last, rollup=rollup)
            cursor = self.collection.find({"bucket": {"$gte": low, "$lte": high}}, {"upto": 0})
            found.extend(doc for doc in await cursor.to_list() if doc.get("tenant_id") == tenant_id)
        if family == "shifts":  # the only summaries holding times: a shift's own two
            for doc in found:
                doc.update({field: decode(doc[field]) for field in SHIFT_TIMES if field in doc})
        return found

    async def all_of_tenant(self) -> list[Document]:
        """Every summary of the tenant (the rebuild's comparison; a scan, never on a request)."""
        return await self.find_many(projection={"upto": 0})

    async def replace_days(
        self,
        docs: dict[str, Document],
        first_day: str | None,
        last_day: str | None,
        upto: int,
        *,
        batch: int = WRITE_BATCH,
        before_batch: BeforeBatch | None = None,
    ) -> tuple[int, int]:
        """Make the tenant's summaries of these days (and of the months they touch) exactly `docs`
        (by `_id`), each marked as holding every event numbered up to `upto`. Unordered bulk writes
        of `batch` documents, each addressed by `_id` and tenant: first the stale ones deleted, then
        every document replaced (or made). `before_batch(written, deleted)` is awaited before each
        write (a rebuild renews its lease there, and stops by raising). Returns (written, deleted)."""
        tenant_id = self.scope.tenant_id
        span: dict[str, Any] = {}
        if first_day:
            span["$gte"] = first_day[:7]
        if last_day:
            span["$lte"] = last_day[:7]
        stale: list[Any] = []
        async with aclosing(
            self.batches({"month": span} if span else None, projection={"_id": 1, "day": 1}, size=ID_BATCH)
        ) as found:
            async for existing in found:
                stale += [
                    doc["_id"]
                    for doc in existing
                    if doc["_id"] not in docs and in_period(str(doc.get("day", "")), first_day, last_day)
                ]
        deleted = written = 0
        for start in range(0, len(stale), batch):
            if before_batch is not None:
                await before_batch(written, deleted)
            chunk = stale[start : start + batch]
            await self.collection.bulk_write(
                [DeleteOne(self.where({"_id": summary_id})) for summary_id in chunk], ordered=False
            )
            deleted += len(chunk)
        replaces: list[ReplaceOne[Document]] = []
        for summary_id, doc in docs.items():
            # `_id` in the replacement too: the embedded server's upsert does not take it from the filter
            stored = encode({**doc, "_id": summary_id, "tenant_id": tenant_id, "upto": upto})
            replaces.append(ReplaceOne(self.where({"_id": summary_id}), stored, upsert=True))
            if len(replaces) == batch:
                written = await self._replace(replaces, written, deleted, before_batch)
        written = await self._replace(replaces, written, deleted, before_batch)
        return written, deleted

    async def _replace(
        self,
        replaces: list[ReplaceOne[Document]],
        written: int,
        deleted: int,
        before_batch: BeforeBatch | None,
    ) -> int:
        """One batch of `replace_days` (emptied once written); returns the documents written so far."""
        if not replaces:
            return written
        if before_batch is not None:
            await before_batch(written, deleted)
        await self.collection.bulk_write(replaces, ordered=False)
        written += len(replaces)
        replaces.clear()
        return written


class MarkRepository(ScopedRepository):
    """A ticket's first PASS: one document per ticket, `_id` derived from it, holding the projection
    number of the event that counted it (0: counted by a rebuild)."""

    collection_name = C.REPORT_MARKS
    store_scoped = False

    def _id(self, ticket_id: str) -> str:
        return f"{self.scope.tenant_id}|first_pass|{ticket_id}"

    async def first_pass_seq(self, ticket_id: str, seq: int) -> int:
        """Claim the ticket's first PASS for event `seq` unless another event holds it; returns the
        holder (the same answer however often it is asked)."""
        key = self._id(ticket_id)
        await self.collection.update_one(
            {"_id": key},
            {"$setOnInsert": {"tenant_id": self.scope.tenant_id, "ticket_id": ticket_id, "seq": seq}},
            upsert=True,
        )
        mark = await self.collection.find_one({"_id": key})
        return int(mark["seq"]) if mark else seq

    async def ensure(
        self,
        ticket_ids: Iterable[str],
        *,
        batch: int = WRITE_BATCH,
        before_batch: Callable[[int], Awaitable[None]] | None = None,
    ) -> int:
        """Tickets a rebuild counted as redeemed: their first PASS is taken (by no event); a mark
        already there stays as it is. Unordered bulk upserts by `_id`, `batch` at a time;
        `before_batch(marked)` is awaited before each. Returns how many tickets were marked."""
        tenant_id = self.scope.tenant_id
        marked = 0
        for chunk in _chunks(ticket_ids, batch):
            if before_batch is not None:
                await before_batch(marked)
            await self.collection.bulk_write(
                [
                    UpdateOne(
                        self.where({"_id": self._id(ticket_id)}),
                        {"$setOnInsert": {"tenant_id": tenant_id, "ticket_id": ticket_id, "seq": 0}},
                        upsert=True,
                    )
                    for ticket_id in chunk
                ],
                ordered=False,
            )
            marked += len(chunk)
        return marked


class StateRepository(ScopedRepository):
    """The tenant's projector: its lease (owner, until), its projection counter (`seq`) and the
    event it is applying (`inflight`, with that event's number) — one document, `_id` the tenant."""

    collection_name = C.REPORT_STATE
    store_scoped = False

    async def load(self, now: datetime) -> Document:
        tenant_id = self.scope.tenant_id
        await self.collection.update_one(
            {"_id": tenant_id},
            encode(
                {
                    "$setOnInsert": {
                        "tenant_id": tenant_id,
                        "seq": 0,
                        "owner": "",
                        "lease_until": now,
                        "inflight": "",
                    }
                }
            ),
            upsert=True,
        )
        state = await self.collection.find_one({"_id": tenant_id})
        assert state is not None
        loaded: Document = decode(state)
        return loaded

    async def exists(self) -> bool:
        return await self.collection.find_one({"_id": self.scope.tenant_id}, {"_id": 1}) is not None

    async def take_lease(self, owner: str, now: datetime, until: datetime) -> Document | None:
        """The lease if it is free, run out, or already this owner's (a compare-and-set on `_id`)."""
        state = await self.load(now)
        if state["owner"] != owner and state["lease_until"] > now:
            return None
        taken = await self.collection.find_one_and_update(
            {
                "_id": self.scope.tenant_id,
                "owner": state["owner"],
                "lease_until": encode(state["lease_until"]),
            },
            {"$set": {"owner": owner, "lease_until": encode(until)}},
            return_document=True,
        )
        return decode(taken) if taken else None

    async def renew(self, owner: str, until: datetime) -> bool:
        renewed = await self.collection.update_one(
            {"_id": self.scope.tenant_id, "owner": owner}, {"$set": {"lease_until": encode(until)}}
        )
        return renewed.matched_count == 1

    async def release(self, owner: str, now: datetime) -> None:
        await self.collection.update_one(
            {"_id": self.scope.tenant_id, "owner": owner}, {"$set": {"lease_until": encode(now)}}
        )

    async def next_seq(self, owner: str, event_id: str) -> int | None:
        """The next projection number, noted together with the event it is for (`inflight`: the
        event the latest number went to), while `owner` holds the lease; None when it does not."""
        state = await self.collection.find_one_and_update(
            {"_id": self.scope.tenant_id, "owner": owner},
            {"$inc": {"seq": 1}, "$set": {"inflight": event_id}},
            return_document=True,
        )
        return int(state["seq"]) if state is not None else None


async def pending_events_unscoped(db: Database, limit: int) -> list[Document]:
    """The tenants of events the projector has not counted yet (its one cross-tenant read; each
    tenant's events are then read in its own scope): equality on the indexed `projected`."""
    cursor = db[C.EVENTS].find({"projected": {"$eq": False}}, {"_id": 0, "tenant_id": 1}).limit(limit)
    docs: list[Document] = decode(await cursor.to_list())
    return docs


class ProjectedEventRepository(ScopedRepository):
    """The outbox as the projector sees it (events/outbox.py writes them)."""

    collection_name = C.EVENTS
    store_scoped = False

    async def by_event_id(self, event_id: str) -> Document | None:
        return await self.find_one({"event_id": event_id}, with_id=True)

    async def pending(self, limit: int) -> list[Document]:
        """Not yet counted, with `_id` (they are marked by it)."""
        cursor = self.collection.find(self.where({"projected": {"$eq": False}})).limit(limit)
        docs: list[Document] = decode(await cursor.to_list())
        return docs

    async def mark_projected(self, event_key: Any) -> None:
        await self.update_one({"_id": event_key}, {"$set": {"projected": True}})

    async def pending_ids(self) -> set[str]:
        docs = await self.find_many({"projected": {"$eq": False}}, projection={"_id": 0, "event_id": 1})
        return {str(doc["event_id"]) for doc in docs}

    async def existing(self, event_ids: Sequence[str]) -> dict[str, Document]:
        """Events by id (each an equality on the unique `event_id`)."""
        found: dict[str, Document] = {}
        for event_id in event_ids:
            doc = await self.find_one({"event_id": event_id})
            if doc is not None:
                found[event_id] = doc
        return found


async def tenant_ids_unscoped(db: Database) -> list[str]:
    """Every tenant (a rebuild of all of them)."""
    docs = await db[C.TENANTS].find({}, {"_id": 0, "tenant_id": 1}).to_list()
    return sorted(str(doc["tenant_id"]) for doc in docs)
