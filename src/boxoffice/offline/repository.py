"""Every query of offline work: sync op records, and tickets read many at a time by id (a sync
batch's, an allow-list's changed ones)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import UpdateOne

from boxoffice.core.db import C, Document, encode
from boxoffice.core.repository import ScopedRepository
from boxoffice.events.outbox import KEEP
from boxoffice.tickets.repository import TicketRepository

#: Ids per `$in` read: one query per this many tickets.
CHUNK = 500


class OpRepository(ScopedRepository):
    """Sync results, kept well past any device's offline window for retried uploads."""

    collection_name = C.OPS
    keep_for = KEEP
    keep_from = "received_at"

    async def update_each(self, updates: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        """`(_id, update)` pairs, in one unordered bulk write (each addressed by its `_id`)."""
        if updates:
            await self.collection.bulk_write(
                [UpdateOne(self.where({"_id": key}), encode(update)) for key, update in updates],
                ordered=False,
            )


async def tickets_by_id(
    repo: TicketRepository, ticket_ids: Iterable[str], projection: dict[str, Any] | None = None
) -> dict[str, Document]:
    """The tickets with these ids (with `_id` unless a projection is given), by ticket id: one `$in`
    on `_id` per CHUNK (a ticket's `_id` is its ticket_id); one issued before that is looked up by
    its ticket_id, one at a time (an `$in` on any other field scans the collection on the embedded
    server)."""
    wanted = sorted(set(ticket_ids))
    found: dict[str, Document] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for doc in await repo.find_many(
            {"_id": {"$in": chunk}}, projection=projection, with_id=projection is None
        ):
            found[doc["ticket_id"]] = doc
    for ticket_id in wanted:
        if ticket_id not in found:
            legacy = await repo.find_one({"ticket_id": ticket_id}, projection, with_id=projection is None)
            if legacy is not None:
                found[ticket_id] = legacy
    return found
