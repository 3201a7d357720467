"""Every query on tickets, signing secrets (platform-wide material, under tenant_id "platform"),
refunds, reprints, redemptions and offline incidents.

Tickets and redemptions are the collections that grow with a venue, so their hot queries are spelled
for the embedded server's index use (measured on nx-27017 0.8.1 at 20,000 documents): an equality
is served by a compound index only when it is written `{"$eq": value}`, or bare on a field that
ends an index (ScopedRepository.where writes the tenant so); a bare (tenant_id, short_code) lookup
scans every ticket (8 to 45 ms at 20,000 tickets, 0.5 ms with `$eq`). A scan's event and record go
to the database in one ordered write (`write_in_order`).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.errors import ClientBulkWriteException, DuplicateKeyError, InvalidOperation
from pymongo.results import UpdateResult

from boxoffice.core.db import C, Database, Document, encode
from boxoffice.core.repository import Scope, ScopedRepository
from boxoffice.events import outbox

PLATFORM = "platform"


class TicketRepository(ScopedRepository):
    collection_name = C.TICKETS


class SecretRepository(ScopedRepository):
    collection_name = C.SECRETS
    store_scoped = False


class RefundRepository(ScopedRepository):
    collection_name = C.REFUNDS


class ReprintRepository(ScopedRepository):
    collection_name = C.REPRINTS


class RedemptionRepository(ScopedRepository):
    collection_name = C.REDEMPTIONS

    async def record(
        self, redemption: Document, event: Document | None, note: Update | None = None
    ) -> tuple[bool, bool]:
        """Store a scan's event (`event`: an `outbox.event` document, None for a scan of no ticket),
        then `note` (a PASS's note in its store's change journal), then its record: one round trip
        where the server takes it (see `write_in_order`). Ordered, so a stored record means its event
        and note were written; a retry that finds no record writes them again (the event a duplicate,
        skipped; a note twice is harmless), then the record. Returns (whether the record was stored:
        False when its id is taken, whether `note` found its journal)."""
        writes: list[Insert | Update] = []
        if event is not None:
            writes.append(Insert(outbox.EventRepository(self.db, Scope(self.scope.tenant_id)), event))
        if note is not None:
            writes.append(note)
        writes.append(Insert(self, redemption))
        done = await write_in_order(self.db, writes)
        if event is not None:
            outbox.wake_workers()
        return done[-1], note is None or done[-2]


class IncidentRepository(ScopedRepository):
    collection_name = C.INCIDENTS


@dataclass(frozen=True)
class Insert:
    """A document to store, as its repository stores it (tenant, stamps, retention)."""

    repo: ScopedRepository
    doc: Document


@dataclass(frozen=True)
class Update:
    """One document to change, addressed by `_id` in `where` (the repository adds the scope)."""

    repo: ScopedRepository
    where: dict[str, Any]
    change: dict[str, Any]


#: Databases whose server refused the client-level bulkWrite (MongoDB before 8.0).
_ONE_BY_ONE: weakref.WeakSet[Database] = weakref.WeakSet()


async def write_in_order(db: Database, writes: Sequence[Insert | Update]) -> list[bool]:
    """Write to several collections, in this order.

    One round trip where the server takes MongoDB 8.0's client-level `bulkWrite` (the embedded
    server does), else one command each (MongoDB 7: PyMongo refuses before sending anything). Not
    atomic: the write is ordered, so it stops at its first failure and nothing is written without
    what comes before it; a duplicate insert (a retry's) is skipped and the rest are written.
    Returns, per write, whether this call stored the document (an insert: False when one with its
    unique key was there) or found the one to change (an update)."""
    stored = [
        w if isinstance(w, Update) else Insert(w.repo, w.repo._stored(w.doc))  # as its repository stores
        for w in writes
    ]
    if db not in _ONE_BY_ONE:
        try:
            result = await db.client.bulk_write(
                [_model(db, w) for w in stored], ordered=True, verbose_results=True
            )
            return _outcomes(stored, result.update_results, len(stored))
        except InvalidOperation as exc:
            if "8.0" not in str(exc):
                raise
            _ONE_BY_ONE.add(db)
        except ClientBulkWriteException as exc:
            if exc.error is not None or exc.write_concern_errors:
                raise
            errors: list[dict[str, Any]] = list(exc.details.get("writeErrors") or [])  # dicts, not WriteError
            failed = min(errors, key=lambda e: int(e["idx"]))
            if failed.get("code") != 11000:
                raise
            at = int(failed["idx"])
            partial = exc.partial_result.update_results if exc.partial_result else {}
            done = _outcomes(stored, partial, at)
            return [*done, False, *await _one_by_one(stored[at + 1 :])]
    return await _one_by_one(stored)


def _model(db: Database, write: Insert | Update) -> InsertOne[Document] | UpdateOne:
    namespace = f"{db.db.name}.{write.repo.collection_name}"
    if isinstance(write, Insert):
        return InsertOne(write.doc, namespace=namespace)
    return UpdateOne(write.repo.where(write.where), encode(write.change), namespace=namespace)


def _outcomes(
    writes: Sequence[Insert | Update], updates: Mapping[int, UpdateResult], count: int
) -> list[bool]:
    """The first `count` writes, all done: an update by whether it matched."""
    return [
        isinstance(w, Insert) or (i in updates and updates[i].matched_count > 0)
        for i, w in enumerate(writes[:count])
    ]


async def _one_by_one(writes: Sequence[Insert | Update]) -> list[bool]:
    done: list[bool] = []
    for write in writes:
        if isinstance(write, Update):
            done.append(await write.repo.update_one(write.where, write.change))
            continue
        try:
            await write.repo.collection.insert_one(write.doc)
            done.append(True)
        except DuplicateKeyError:
            done.append(False)
    return done
