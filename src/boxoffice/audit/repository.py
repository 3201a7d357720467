"""Every query on `audits`, on the chain counters and heads (`audit_heads`, one document per tenant)
and on the daily anchors retention prunes up to (`audit_anchors`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError

from boxoffice.core.db import C, Database, Document, stamp
from boxoffice.core.repository import Scope, ScopedRepository


def entry_key(tenant_id: str, seq: int) -> str:
    """An entry's `_id`: its place in its tenant's chain, so every later write (linking it) and read
    (by the linker) addresses it by `_id` — anything else scans the collection on the embedded
    server — and a second document for the same seq is refused (DuplicateKeyError)."""
    return f"{tenant_id}:{seq}"


class AuditRepository(ScopedRepository):
    collection_name = C.AUDITS

    async def insert_entry(self, entry: Document) -> None:
        await self.insert({**entry, "_id": entry_key(self.scope.tenant_id, int(entry["seq"]))})

    async def stored(self, seqs: Iterable[int]) -> dict[int, Document]:
        """Entries by seq, as stored (timestamps as stamps: what their hashes cover), by `_id`."""
        keys = [entry_key(self.scope.tenant_id, seq) for seq in seqs]
        cursor = self.collection.find(self.where({"_id": {"$in": keys}}))
        return {int(doc["seq"]): doc async for doc in cursor}

    async def stored_at(self, seq: int) -> Document | None:
        """One entry by seq whatever its `_id`: by `entry_key`, else (an entry written before keys,
        with an ObjectId) by an equality find that scans on the embedded server — a rare case."""
        found = await self.stored([seq])
        if seq in found:
            return found[seq]
        return await self.collection.find_one(self.where({"seq": seq}))

    async def set_links(self, links: list[tuple[Any, str, str]]) -> None:
        """(`_id`, prev_hash, hash) for entries written unlinked: one round trip, each write on
        `_id` and only where no hash is set yet (linkers racing over one entry compute the same)."""
        await self.collection.bulk_write(
            [
                UpdateOne(
                    self.where({"_id": key, "hash": {"$exists": False}}),
                    {"$set": {"prev_hash": prev_hash, "hash": hash_}},
                )
                for key, prev_hash, hash_ in links
            ],
            ordered=False,
        )

    async def delete_seqs(self, seqs: Iterable[int]) -> int:
        """Retention: delete entries by seq, by `_id` (entries written before keys keep theirs and
        are left; verify passes over everything before the chain's start anyway)."""
        keys = [entry_key(self.scope.tenant_id, seq) for seq in seqs]
        if not keys:
            return 0
        result = await self.collection.delete_many(self.where({"_id": {"$in": keys}}))
        return result.deleted_count

    async def redact(self, keys: list[Any], at: datetime) -> None:
        """Drop the content of access-log entries, by `_id`, keeping `seq`, `ts`, `event_type` and
        the links (`prev_hash`, `hash`), so the chain still links through them."""
        dropped: dict[str, Any] = {
            "payload": {},
            "ip": None,
            "actor_id": None,
            "device_id": None,
            "subjects": [],
        }
        await self.collection.bulk_write(
            [
                UpdateOne(
                    self.where({"_id": key}),
                    {"$set": {**dropped, "redacted": True, "redacted_at": stamp(at)}},
                )
                for key in keys
            ],
            ordered=False,
        )

    async def last(self, *, linked: bool = False) -> Document | None:
        """The highest-numbered entry (linked: the highest linked one). A sorted read over the
        tenant's entries: only when a tenant's counter is first set up."""
        return await self.find_one({"hash": {"$exists": True}} if linked else {}, sort=[("seq", DESCENDING)])

    async def search(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        store_id: str | None,
        actor_id: str | None,
        device_id: str | None,
        event_types: list[str] | None,
        event_prefix: str | None,
        subject_id: str | None = None,
        before_seq: int | None,
        limit: int,
    ) -> list[Document]:
        filters: dict[str, Any] = {}
        ts: dict[str, datetime] = {}
        if since:
            ts["$gte"] = since
        if until:
            ts["$lt"] = until
        if ts:
            filters["ts"] = ts
        # `$eq`: the embedded server serves a bare equality from an index only when the field ends
        # one; spelled so, (tenant_id, store_id | actor_id | device_id | event_type, ts) serve these.
        if store_id:
            filters["store_id"] = {"$eq": store_id}
        if actor_id:
            filters["actor_id"] = {"$eq": actor_id}
        if device_id:
            filters["device_id"] = {"$eq": device_id}
        if event_types and len(event_types) == 1:
            filters["event_type"] = {"$eq": event_types[0]}
        elif event_types:
            filters["event_type"] = {"$in": event_types}
        elif event_prefix:
            filters["event_type"] = {"$gte": event_prefix, "$lt": event_prefix + "\uffff"}
        if subject_id:
            filters["subjects"] = subject_id  # array membership
        if before_seq is not None:
            filters["seq"] = {"$lt": before_seq}
        return await self.find_many(filters, sort=[("seq", DESCENDING)], limit=limit)


class AuditHeadRepository(ScopedRepository):
    """One document per tenant (`_id` is the tenant id): the counter that hands out sequence
    numbers (`taken`, the last one handed out; `taken_at`) and the chain's head, the last linked
    entry (`seq`, `hash`, `audit_id`; `linked_at`), which is what lets verify notice entries cut
    from the end. Every write is on `_id`; both only move forward."""

    collection_name = C.AUDIT_HEADS
    store_scoped = False

    async def head(self) -> Document | None:
        return await self.find_one({"_id": self.scope.tenant_id})

    async def take(self, now: datetime) -> Document | None:
        """The next sequence number: one atomic `$inc`; the document after it (the number is its
        `taken`, next to the head as it then stood). None while the tenant has no counter yet."""
        return await self.find_one_and_update(
            {"_id": self.scope.tenant_id, "taken": {"$exists": True}},
            {"$inc": {"taken": 1}, "$set": {"taken_at": now}},
        )

    async def start(self, *, taken: int, head: Document, now: datetime) -> None:
        """Set up the counter: a new chain (head at seq 0, the genesis hash), a chain written before
        heads existed (it adopts its last entry), or a head from before counters existed (it gets
        one, once). The first to get here wins; the others change nothing."""
        fields = {
            "taken": taken,
            "taken_at": now,
            "seq": int(head["seq"]),
            "hash": head["hash"],
            "audit_id": head.get("audit_id"),
            "linked_at": now,
        }
        try:
            await self.update_one({"_id": self.scope.tenant_id}, {"$setOnInsert": fields}, upsert=True)
        except DuplicateKeyError:
            return  # started by a concurrent writer
        await self.update_one({"_id": self.scope.tenant_id, "taken": {"$exists": False}}, {"$set": fields})

    async def advance(
        self, from_seq: int, *, seq: int, hash_: str, audit_id: str, now: datetime
    ) -> Document | None:
        """Move the head to `seq`, a linked entry whose predecessors from `from_seq` on are linked
        too: a compare-and-set on `_id` that applies wherever in between the head now stands (other
        linkers may have moved it part of the way: they linked the same), so it never moves back.
        The document after it, or None when the head was already at `seq` or past it."""
        return await self.find_one_and_update(
            {"_id": self.scope.tenant_id, "seq": {"$gte": from_seq, "$lt": seq}},
            {"$set": {"seq": seq, "hash": hash_, "audit_id": audit_id, "linked_at": now}},
        )

    async def set_retention(self, fields: dict[str, Any]) -> None:
        """Retention's own fields on the head: `pruned_seq`, `pruned_hash`, `pruned_day` (the anchor
        the chain now starts at, set before anything is deleted), and how far deletion and redaction
        got (`cleared_seq`, `access_cleared_seq`, `redacted_seq`). Only the retention job, one
        replica under a lease, writes them; nothing else touches them."""
        await self.update_one({"_id": self.scope.tenant_id}, {"$set": fields})


class AnchorRepository(ScopedRepository):
    """One document per tenant and UTC day (`_id` = `tenant:day`): the last linked entry stamped
    before the day ended (`seq`, `hash`, `audit_id`), written once; `purge_after` as other
    collections that forget (core/retention.py), pushed out of reach while it is the anchor the
    chain starts at."""

    collection_name = C.AUDIT_ANCHORS
    store_scoped = False

    def _key(self, day: str) -> str:
        return f"{self.scope.tenant_id}:{day}"

    async def put(self, *, day: str, seq: int, hash_: str, audit_id: str | None, purge_after: int) -> None:
        fields = {
            "tenant_id": self.scope.tenant_id,
            "day": day,
            "seq": seq,
            "hash": hash_,
            "audit_id": audit_id,
        }
        await self.collection.update_one(
            {"_id": self._key(day)}, {"$setOnInsert": {**fields, "purge_after": purge_after}}, upsert=True
        )

    async def of_day(self, day: str) -> Document | None:
        return await self.find_one({"_id": self._key(day)})

    async def all(self) -> list[Document]:
        """The tenant's anchors, oldest first (a few hundred at most: one a day, kept a year)."""
        return await self.find_many(sort=[("day", ASCENDING)])

    async def keep_until(self, day: str, purge_after: int) -> None:
        await self.collection.update_one({"_id": self._key(day)}, {"$set": {"purge_after": purge_after}})


async def iterate_chain(db: Database, tenant_id: str) -> AsyncIterator[Document]:
    """The whole chain of one tenant, oldest first (for verification), as stored."""
    repo = AuditRepository(db, Scope(tenant_id))
    cursor = repo.collection.find(repo.where(), {"_id": 0}).sort("seq", ASCENDING)
    async for doc in cursor:
        yield doc


async def tenants_with_audits(db: Database) -> list[str]:
    """Every tenant with a chain or a head (a chain emptied out still has its head): the unscoped
    reads, for `boxoffice audit verify`."""
    ids: set[str] = set(await db[C.AUDITS].distinct("tenant_id"))
    ids |= set(await db[C.AUDIT_HEADS].distinct("tenant_id"))
    return sorted(ids)
