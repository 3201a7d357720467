"""The event outbox: the code path that makes a change writes its events, before it marks the
change done, under ids derived from what changed — so a retry that finishes a half-done change
writes the same events again and the duplicates are ignored. A committed change always has its
events; the webhook worker fans them out to endpoints.

Every event has a unique `id` (receivers de-duplicate on it) and a `sequence` per resource
(a ticket's events can be ordered even when deliveries arrive out of order).

`fanned_out: false` is the outbox's pending marker (indexed): the worker reads only events that
carry it, by equality, and marks each done once, by `_id`. Emitting wakes this process's worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from pymongo.errors import BulkWriteError

from boxoffice.core import metrics
from boxoffice.core.db import C, Database, Document
from boxoffice.core.repository import Scope, ScopedRepository

#: Events, deliveries, attempts and sync results are kept this long, then forgotten (retention).
KEEP = timedelta(days=30)

EventType = Literal[
    "sale.created",
    "ticket.issued",
    "ticket.redeemed.pass",
    "ticket.redeemed.fail",
    "reprint.created",
    "refund.created",
    "shift.closed",
    "shift.count_corrected",
    "device.suspended",
    "alert.raised",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)


class EventRepository(ScopedRepository):
    collection_name = C.EVENTS
    store_scoped = False
    keep_for = KEEP


def event(
    *,
    event_id: str,
    type: str,
    store_id: str | None,
    resource: str,
    resource_id: str,
    sequence: int,
    at: datetime,
    data: dict[str, Any],
) -> Document:
    assert type in EVENT_TYPES, type
    return {
        "event_id": event_id,
        "type": type,
        "store_id": store_id,
        "resource": resource,
        "resource_id": resource_id,
        "sequence": sequence,
        "created_at": at,
        "data": data,
        "fanned_out": False,
        "projected": False,  # not yet counted in the report summaries (reports/projection.py)
    }


async def emit(db: Database, tenant_id: str, events: list[Document]) -> None:
    """Write events; ones already written (a retry) are skipped."""
    if not events:
        return
    written = events
    try:
        await EventRepository(db, Scope(tenant_id)).insert_many(events)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details["writeErrors"]):
            raise
        skipped = {int(e["index"]) for e in exc.details["writeErrors"]}
        written = [e for n, e in enumerate(events) if n not in skipped]
    metrics.events_written(written)  # business counters: only what this call stored
    wake_workers()


async def emit_one(db: Database, tenant_id: str, **fields: Any) -> None:
    """One event (see `event` for the fields)."""
    await emit(db, tenant_id, [event(**fields)])


#: Who to wake when this process emits (its webhook worker); see `on_emit`.
_wakers: list[Callable[[], None]] = []


def on_emit(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` whenever this process writes events or makes a delivery due (a redelivery), so
    an idle worker need not poll. Answers the function that stops it."""
    _wakers.append(wake)

    def stop() -> None:
        if wake in _wakers:
            _wakers.remove(wake)

    return stop


def wake_workers() -> None:
    for wake in list(_wakers):
        wake()
