"""What gates must hear about: each store's change journal.

Every write that changes whether a ticket may pass — a sale issuing it, a use, a refund — notes the
ticket's id in its store's journal, after the write: one update on the journal's `_id` that counts
the ids (`seq`) and appends them to the last `KEEP` ids noted, atomically (one document). A reader
holding the journal at `seq` s knows exactly which tickets changed since any earlier `seq` still in
reach, with no query on the tickets at all (a range on their change stamps scans them on the
embedded server). Expiry needs no note: it follows from `valid_to` alone.

Note after the write, where a retry rolls forward (sales and refunds are finished again by their
sweepers; a scan's retry answers again): a note is never of a write that did not happen, and a
note lost to a crash is made by the retry. A note twice is harmless (readers re-read the ticket).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pymongo.errors import DuplicateKeyError

from boxoffice.core.db import C, Database, Document
from boxoffice.core.repository import Scope, ScopedRepository

#: Ticket ids kept in the journal: a reader further behind catches up from the tickets' change
#: stamps (offline/allowlist.py), and a gate's delta from further back is the full list. A note
#: rewrites the journal document: ~0.8 µs an id kept on the embedded server (~1.2 ms at 1,024,
#: 0.3 ms for a document of nothing).
KEEP = 1024


class GateListRepository(ScopedRepository):
    """One document per store: `{_id: "<tenant>.<store>", seq, changes: [ticket_id, ...]}`."""

    collection_name = C.GATE_LISTS


@dataclass(frozen=True)
class Journal:
    """A store's journal as read: `changes[i]` is the id noted as `seq - len(changes) + i + 1`."""

    seq: int
    changes: tuple[str, ...] = ()

    def since(self, seq: int) -> set[str] | None:
        """The ids noted after `seq`; None when the journal no longer reaches back that far (or
        `seq` is not one of this journal's)."""
        behind = self.seq - seq
        if behind < 0 or behind > len(self.changes):
            return None
        return set(self.changes[len(self.changes) - behind :])


def _key(tenant_id: str, store_id: str) -> str:
    return f"{tenant_id}.{store_id}"


def note_write(tenant_id: str, store_id: str, ticket_ids: Sequence[str]) -> tuple[Document, Document]:
    """The filter and the update a note is (for a caller that sends it with other writes)."""
    change = {
        "$inc": {"seq": len(ticket_ids)},
        "$push": {"changes": {"$each": list(ticket_ids), "$slice": -KEEP}},
    }
    return {"_id": _key(tenant_id, store_id)}, change


async def note(db: Database, tenant_id: str, store_id: str, ticket_ids: Iterable[str]) -> None:
    """Note that these tickets of one store changed (after writing them)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return
    repo = GateListRepository(db, Scope(tenant_id))
    key, change = note_write(tenant_id, store_id, ids)
    if await repo.update_one(key, change):
        return
    try:  # the store's first note
        await repo.update_one(
            key, {"$setOnInsert": {"store_id": store_id, "seq": 0, "changes": []}}, upsert=True
        )
    except DuplicateKeyError:  # made meanwhile by another writer
        pass
    await repo.update_one(key, change)


async def journal(db: Database, tenant_id: str, store_id: str) -> Journal:
    found = await GateListRepository(db, Scope(tenant_id)).find_one({"_id": _key(tenant_id, store_id)})
    if found is None:
        return Journal(0)
    return Journal(int(found["seq"]), tuple(found.get("changes") or ()))
