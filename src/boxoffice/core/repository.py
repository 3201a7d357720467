"""The tenant-scoped repository base: every filter and every insert carries the caller's tenant
(and, for store-scoped callers, their stores), so isolation cannot be forgotten in a router.

It is also where timestamps are encoded for storage and decoded on the way back (see core/db.py).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from boxoffice.core.db import C, Database, Document, decode, decode_doc, encode
from boxoffice.core.errors import NotFound


@dataclass(frozen=True)
class Scope:
    """What a caller may see: one tenant, and either every store (None) or these stores."""

    tenant_id: str
    store_ids: frozenset[str] | None = None

    def allows_store(self, store_id: str | None) -> bool:
        return self.store_ids is None or (store_id is not None and store_id in self.store_ids)


class ScopedRepository:
    collection_name: ClassVar[str]
    #: Documents of this collection carry a store_id that limits store-scoped callers.
    store_scoped: ClassVar[bool] = True
    #: Collections that forget: documents are deleted this long after their `keep_from` time (by the
    #: retention job, core/retention.py, which reads the `purge_after` written on insert).
    keep_for: ClassVar[timedelta | None] = None
    keep_from: ClassVar[str] = "created_at"
    #: A change counter (in the tenant's `versions` document) every write here moves on, so a
    #: process that caches these documents knows, with one read by `_id`, whether its copy is
    #: current (see `versions_of`).
    bumps: ClassVar[str | None] = None

    def __init__(self, db: Database, scope: Scope) -> None:
        self.db = db
        self.scope = scope

    @property
    def collection(self) -> AsyncCollection[Document]:
        return self.db[self.collection_name]

    def where(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """The caller's filters with the scope added: flat when their keys do not overlap, else
        under `$and` with null equality spelled `$eq` (the embedded server mismatches a bare
        `field: None` next to `$and`; tests/conformance pins this). The tenant is matched with `$eq`:
        the embedded server uses an index for a bare `field: value` only when the field ends an
        index, and `tenant_id` starts them all; `$eq` uses any index on it (and upserts still copy
        it into the new document)."""
        by_id = filters is not None and "_id" in filters
        # By `_id`, the tenant is matched bare: next to `$eq` on it, an `_id $in` is planned with a
        # tenant-led index (reading the tenant's every document); bare, it cannot lead an index.
        tenant = self.scope.tenant_id
        base: dict[str, Any] = {"tenant_id": tenant if by_id else {"$eq": tenant}}
        if self.store_scoped and self.scope.store_ids is not None:
            base["store_id"] = {"$in": sorted(self.scope.store_ids)}
        if not filters:
            return base
        encoded: dict[str, Any] = encode(filters)
        if not (base.keys() & encoded.keys()) and "$and" not in encoded:
            return {**base, **encoded}
        null_safe = {k: {"$eq": None} if v is None else v for k, v in encoded.items()}
        return {"$and": [base, null_safe]}

    async def find_one(
        self,
        filters: dict[str, Any],
        projection: dict[str, Any] | None = None,
        *,
        sort: list[tuple[str, int]] | None = None,
        with_id: bool = False,
    ) -> Document | None:
        """`with_id`: keep `_id`, so a following compare-and-set can address the document by it
        (a conditional write on any other field scans the collection on the embedded server)."""
        shown = projection or (None if with_id else {"_id": 0})
        doc = await self.collection.find_one(self.where(filters), shown, sort=sort)
        return decode_doc(doc)

    async def get(self, filters: dict[str, Any], what: str) -> Document:
        """Load one document or answer 404: another tenant's record looks exactly like a missing one."""
        doc = await self.find_one(filters)
        if doc is None:
            raise NotFound(f"{what} not found.")
        return doc

    async def find_many(
        self,
        filters: dict[str, Any] | None = None,
        *,
        sort: list[tuple[str, int]] | None = None,
        limit: int = 0,
        projection: dict[str, Any] | None = None,
        with_id: bool = False,
    ) -> list[Document]:
        """`with_id`: keep `_id` (as `find_one`'s), for writes addressed by it afterwards."""
        shown = projection or (None if with_id else {"_id": 0})
        cursor = self.collection.find(self.where(filters), shown)
        if sort:
            cursor = cursor.sort(sort)
        if limit:
            cursor = cursor.limit(limit)
        docs: list[Document] = decode(await cursor.to_list())
        return docs

    async def batches(
        self, filters: dict[str, Any] | None = None, *, projection: dict[str, Any] | None = None, size: int
    ) -> AsyncGenerator[list[Document]]:
        """The matching documents `size` at a time, from one cursor: a job that reads all of a
        tenant's records (a rebuild) holds one batch, however many there are."""
        cursor = self.collection.find(self.where(filters), projection or {"_id": 0}, batch_size=size)
        try:
            while batch := await cursor.to_list(size):
                docs: list[Document] = decode(batch)
                yield docs
        finally:
            await cursor.close()

    async def count(self, filters: dict[str, Any] | None = None) -> int:
        return await self.collection.count_documents(self.where(filters))

    async def tally(self, filters: dict[str, Any] | None = None) -> int:
        """`count`, by the `count` command instead of an aggregation: for a job counting a
        tenant's whole collection (a rebuild). On the embedded server, 461,389 sales in 2.6 s
        where `count_documents` takes 160 s; exact on MongoDB outside a sharded cluster."""
        answer = await self.collection.database.command(
            "count", self.collection.name, query=self.where(filters)
        )
        return int(answer["n"])

    def _stored(self, doc: Document) -> Document:
        """The document as written: the caller's tenant, stamps for datetimes, and for collections
        that forget (`keep_for`) `purge_after`, when retention may delete it (UNIX seconds)."""
        if self.store_scoped and not self.scope.allows_store(doc.get("store_id")):
            raise NotFound("Store not found.")
        stored: Document = encode({**doc, "tenant_id": self.scope.tenant_id})
        if self.keep_for is not None:
            stored["purge_after"] = purge_after(doc[self.keep_from] + self.keep_for)
        return stored

    async def insert(self, doc: Document) -> Document:
        stamped = {**doc, "tenant_id": self.scope.tenant_id}
        await self.collection.insert_one(self._stored(doc))
        await self._changed()
        return stamped

    async def insert_many(self, docs: list[Document]) -> None:
        """Unordered: every document is tried; BulkWriteError names the ones that failed."""
        try:
            await self.collection.insert_many([self._stored(doc) for doc in docs], ordered=False)
        finally:
            await self._changed()

    async def update_one(
        self, filters: dict[str, Any], update: dict[str, Any], *, upsert: bool = False
    ) -> bool:
        """True when a document matched (or was inserted by the upsert)."""
        result = await self.collection.update_one(self.where(filters), encode(update), upsert=upsert)
        await self._changed()
        return result.matched_count == 1 or result.upserted_id is not None

    async def update_many(self, filters: dict[str, Any], update: dict[str, Any]) -> int:
        result = await self.collection.update_many(self.where(filters), encode(update))
        await self._changed()
        return result.modified_count

    async def find_one_and_update(
        self, filters: dict[str, Any], update: dict[str, Any], *, after: bool = True
    ) -> Document | None:
        """Atomic compare-and-change; no upsert (the embedded server drops `$setOnInsert` there)."""
        doc = await self.collection.find_one_and_update(
            self.where(filters),
            encode(update),
            projection={"_id": 0},
            return_document=ReturnDocument.AFTER if after else ReturnDocument.BEFORE,
        )
        await self._changed()
        return decode_doc(doc)

    async def delete_one(self, filters: dict[str, Any]) -> bool:
        result = await self.collection.delete_one(self.where(filters))
        await self._changed()
        return result.deleted_count == 1

    async def delete_many(self, filters: dict[str, Any]) -> int:
        result = await self.collection.delete_many(self.where(filters))
        await self._changed()
        return result.deleted_count

    async def update_many_by_id(
        self, changes: list[tuple[Any, dict[str, Any]]], *, upsert: bool = False
    ) -> None:
        """Many documents changed by `_id` (each `(id, update)`, in the caller's scope), unordered,
        in batches: bulk writers such as the demo history's summaries."""
        for start in range(0, len(changes), 1000):
            batch = changes[start : start + 1000]
            await self.collection.bulk_write(
                [UpdateOne(self.where({"_id": key}), encode(update), upsert=upsert) for key, update in batch],
                ordered=False,
            )
        if changes:
            await self._changed()

    async def _changed(self) -> None:
        """Move this collection's change counter on (after the write: a reader that saw the old
        counter reads again next time; one that read the new documents under the old counter
        only reads them once more)."""
        if self.bumps is None:
            return
        where = {"_id": self.scope.tenant_id, "tenant_id": {"$eq": self.scope.tenant_id}}
        change = {"$inc": {self.bumps: 1}}
        try:
            await self.db[C.VERSIONS].update_one(where, change, upsert=True)
        except DuplicateKeyError:  # two first writers: the other one made the document
            await self.db[C.VERSIONS].update_one(where, change)

    async def distinct(self, field: str, filters: dict[str, Any] | None = None) -> list[Any]:
        values: list[Any] = decode(await self.collection.distinct(field, self.where(filters)))
        return values


async def versions_of(db: Database, tenant_id: str) -> dict[str, int]:
    """A tenant's change counters (see `ScopedRepository.bumps`): one read by `_id`."""
    doc = await db[C.VERSIONS].find_one({"_id": tenant_id, "tenant_id": {"$eq": tenant_id}}, {"_id": 0})
    return {k: int(v) for k, v in (doc or {}).items() if k != "tenant_id"}


def purge_after(at: datetime) -> int:
    """The retention field: an int, so a range on it is served by its index (a range on a stamp is
    evaluated outside the index on the embedded server)."""
    return int(at.timestamp())


async def stale_pending_unscoped(db: Database, collection: str, now: datetime, limit: int) -> list[Document]:
    """Pending sales or refunds whose lease ran out, in every tenant: the sweeper's work list (its
    one cross-tenant read; each is then handled in its own tenant's scope). An equality on the
    indexed status (`$eq`: the embedded server reads a bare equality on a field that does not end an
    index as "or an array containing it", which no index serves) reads only the in-flight few,
    oldest lease first; the lease is compared here rather than in the filter (a range on a stamp is
    evaluated outside the index)."""
    cursor = (
        db[collection].find({"status": {"$eq": "pending"}}, {"_id": 0}).sort("lease_until", 1).limit(limit)
    )
    docs: list[Document] = decode(await cursor.to_list())
    return [doc for doc in docs if doc["lease_until"] < now]
