"""Writes to several collections in one ordered round trip (a scan's event and record, a sale with
its tickets and events, an audit entry with the change it records).

MongoDB 8.0's client-level `bulkWrite` (the embedded server has it) takes writes to any collections
in one command; MongoDB 7 refuses it before sending anything, and then each write is sent on its
own, in the same order. Neither is atomic: the write is ordered, so it stops at its first failure
and nothing is written without what comes before it.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.errors import ClientBulkWriteException, DuplicateKeyError, InvalidOperation
from pymongo.results import UpdateResult

from boxoffice.core import metrics
from boxoffice.core.db import C, Database, Document, encode
from boxoffice.core.repository import ScopedRepository


@dataclass(frozen=True)
class Insert:
    """A document to store, as its repository stores it (tenant, stamps, retention). `required`:
    when one with its unique key is already there, write nothing after it (the writes that follow
    belong to this document, e.g. a sale's tickets); otherwise that duplicate is a retry's, skipped."""

    repo: ScopedRepository
    doc: Document
    required: bool = False


@dataclass(frozen=True)
class Update:
    """One document to change, addressed by `_id` in `where` (the repository adds the scope)."""

    repo: ScopedRepository
    where: dict[str, Any]
    change: dict[str, Any]


#: Databases whose server refused the client-level bulkWrite (MongoDB before 8.0).
_ONE_BY_ONE: weakref.WeakSet[Database] = weakref.WeakSet()


async def write_in_order(db: Database, writes: Sequence[Insert | Update]) -> list[bool]:
    """Write in this order; one round trip where the server allows. Returns, per write, whether
    this call stored the document (an insert: False when one with its unique key was there) or
    found the one to change (an update). After a `required` insert found its key taken, it and
    every later write answer False: none of them was written."""
    done = await _write(db, writes)
    metrics.events_written(  # business counters: outbox events this call stored, not a retry's
        w.doc
        for w, ok in zip(writes, done, strict=False)
        if ok and isinstance(w, Insert) and w.repo.collection_name == C.EVENTS
    )
    return done


async def _write(db: Database, writes: Sequence[Insert | Update]) -> list[bool]:
    stored = [
        w if isinstance(w, Update) else Insert(w.repo, w.repo._stored(w.doc), w.required)  # as stored
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
            failed_write = stored[at]
            if isinstance(failed_write, Insert) and failed_write.required:
                return [*done, *([False] * (len(stored) - at))]
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
    for at, write in enumerate(writes):
        if isinstance(write, Update):
            done.append(await write.repo.update_one(write.where, write.change))
            continue
        try:
            await write.repo.collection.insert_one(write.doc)
            done.append(True)
        except DuplicateKeyError:
            if write.required:
                return [*done, *([False] * (len(writes) - at))]
            done.append(False)
    return done
