"""Every query on tickets, signing secrets (platform-wide material, under tenant_id "platform"),
refunds, reprints, redemptions and offline incidents.

Tickets and redemptions are the collections that grow with a venue, so their hot queries are spelled
for the embedded server's index use (measured on nx-27017 0.8.1 at 20,000 documents): an equality
is served by a compound index only when it is written `{"$eq": value}`, or bare on a field that
ends an index (ScopedRepository.where writes the tenant so); a bare (tenant_id, short_code) lookup
scans every ticket (8 to 45 ms at 20,000 tickets, 0.5 ms with `$eq`). A scan's event and record go
to the database in one ordered write (`core/writes.write_in_order`).
"""

from __future__ import annotations

from typing import Any

from boxoffice.core.db import C, Document
from boxoffice.core.repository import Scope, ScopedRepository
from boxoffice.core.writes import Insert, Update, write_in_order
from boxoffice.events import outbox

PLATFORM = "platform"


class TicketRepository(ScopedRepository):
    collection_name = C.TICKETS

    async def by_ticket_id(self, ticket_id: str, projection: dict[str, Any] | None = None) -> Document | None:
        """One ticket, with `_id` unless a projection is given: by `_id` (a ticket's `_id` is its
        ticket_id). Not by `ticket_id` next to the tenant: the embedded server plans that with a
        tenant-led index and reads the tenant's every ticket (15 ms at 30,000, 0.3 ms by `_id`).
        A ticket issued before tickets took their id as `_id` is found by that read, once missed."""
        found = await self.find_one({"_id": ticket_id}, projection, with_id=projection is None)
        if found is None:
            found = await self.find_one({"ticket_id": ticket_id}, projection, with_id=projection is None)
        return found


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
