"""`boxoffice reports rebuild`: recompute summaries from the raw records, for repairs and migrations.

It takes the tenant's projector lease (the projection waits), first applies every pending event,
then reads the records (completed sales and their tickets, refunds, reprints, redemptions, closed
shifts), turns each into the event it wrote, and folds those through the same rules as the
projection (`summaries.py`). Records whose events are still pending — written while it read — are
left to the projection. The summaries of the chosen days are then replaced by the result, marked
as holding every event numbered so far. Running it again gives the same documents.

Sales, tickets and scans (millions in a big tenant) are streamed a batch at a time and folded as
they come; what later records need of them is kept (a few facts per ticket, the lines of refunded
sales, the ids of counted sales), not the records. After each batch the lease is renewed; a rebuild
that lost it stops before writing anything more (`LeaseLost`). The summaries go out in bulk.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TextIO

from boxoffice.aftersale.refunds import refund_view
from boxoffice.aftersale.reprints import reprint_view
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope, ScopedRepository
from boxoffice.fraud.rules import OPEN_ALL_WEEK, week_hours
from boxoffice.reports import summaries as rules
from boxoffice.reports.projection import TENANT_LEASE, TenantPass
from boxoffice.reports.repository import (
    WRITE_BATCH,
    MarkRepository,
    ProjectedEventRepository,
    StateRepository,
    SummaryRepository,
)
from boxoffice.sales.repository import SaleRepository, ShiftRepository
from boxoffice.sales.service import sale_view
from boxoffice.settings import service as settings
from boxoffice.staff.repository import ApprovalRepository
from boxoffice.tenancy.repository import StoreRepository
from boxoffice.tickets.issuance import TICKET_FIELDS, ticket_view
from boxoffice.tickets.repository import (
    RedemptionRepository,
    RefundRepository,
    ReprintRepository,
    TicketRepository,
)

#: Records one read of a streamed collection brings (the lease is renewed after each). Large: the
#: embedded server hands out a cursor's remainder by copying it at every read.
READ_BATCH = 5000
#: What a rebuild reads of a sale, a ticket (what its event shows) and a scan.
SALE_FIELDS = {"_id": 0, "ticket_plan": 0, "response": 0}
TICKET_SHOWN = {"_id": 0, **dict.fromkeys((name for name in TICKET_FIELDS if name != "qr_token"), 1)}
SCANNED = ("redemption_id", "ticket_id", "store_id", "device_id", "ts", "result", "reason", "metadata")
SCAN_FIELDS = {"_id": 0, **dict.fromkeys(SCANNED, 1)}


@dataclass(frozen=True)
class Rebuilt:
    tenant_id: str
    events: int  # records folded
    written: int  # summary documents written
    deleted: int  # summary documents no record supports any more


@dataclass(frozen=True)
class Progress:
    """How far a rebuild has got, for an operator watching a long one."""

    tenant_id: str
    stage: str  # the records being read ("sales", "tickets", "scans"…), then "summaries", "marks"
    folded: int  # records folded so far
    written: int  # summary documents written so far
    deleted: int  # stale summary documents deleted so far


#: Awaited after each batch read and before each batch written.
OnProgress = Callable[[Progress], Awaitable[None]]


def progress_printer(
    out: TextIO, *, every: float = 10.0, now: Callable[[], float] = time.monotonic
) -> OnProgress:
    """Progress written to `out` at most once in `every` seconds: a rebuild of a million tickets
    takes minutes, and an operator watching it sees it move."""
    began = last = now()

    async def tell(progress: Progress) -> None:
        nonlocal last
        at = now()
        if at - last < every:
            return
        last = at
        out.write(
            f"tenant {progress.tenant_id}: {progress.stage}: {progress.folded:,} records folded, "
            f"{progress.written:,} summaries written, {progress.deleted:,} removed ({at - began:.0f} s)\n"
        )
        out.flush()

    return tell


class LeaseLost(RuntimeError):
    """The tenant's report lease went to another owner: the rebuild stopped, writing nothing more."""


class StreamCut(RuntimeError):
    """A collection's stream ended before it had brought every record the collection held when it
    began (on the embedded server, a cursor dropped with its connection ends without an error):
    the rebuild stopped before writing, and another run starts over."""


@dataclass(frozen=True)
class Replayed:
    """A record as the event it wrote: what the rules need, and the event's id."""

    event_id: str
    type: str
    store_id: str
    data: dict[str, Any]
    facts: rules.Facts


def unfinished(
    sales: Iterable[Document] = (),
    refunds: Iterable[Document] = (),
    reprints: Iterable[Document] = (),
    shifts: Iterable[Document] = (),
) -> list[str]:
    """The events of records left half done (still pending, a close not finalized): if one was
    written, it says what the record counted."""
    return [
        *(f"{s['sale_id']}.sale.created" for s in sales if s["status"] == "pending"),
        *(f"{r['refund_id']}.refund.created" for r in refunds if r["status"] == "pending"),
        *(f"{r['reprint_id']}.reprint.created" for r in reprints if r["status"] == "pending"),
        *(
            f"{s['shift_id']}.shift.closed"
            for s in shifts
            if s["status"] == "closed" and not s.get("finalized", True)
        ),
    ]


class Records:
    """One tenant's raw records and each record as the event it wrote. `load` reads them all (a
    rebuild is never on a request path); the reconciliation and the demo history fill them their
    own way, and all of them `replay`. A rebuild streams the big ones instead (`Rebuild`), with the
    same conversions (`sale_event`, `ticket_event`…)."""

    def __init__(self, deps: Deps, tenant_id: str) -> None:
        self.deps = deps
        self.scope = Scope(tenant_id)

    async def load_small(self) -> None:
        """Everything but sales, tickets and scans: the stores' zones and opening hours, who approved
        what, and the refunds, reprints and shifts (thousands where tickets are millions)."""
        db, scope = self.deps.db, self.scope
        self.zones = {
            str(s["store_id"]): str(s.get("tz") or self.deps.settings.tz)
            for s in await StoreRepository(db, scope).find_many()
        }
        #: Opening hours as the settings say now (the projection judged by them as they were then).
        self.hours = {
            store_id: week_hours(
                (await settings.effective(self.deps, scope.tenant_id, store_id))["values"]["hours"]
            )
            for store_id in self.zones
        }
        self.approvers = {
            str(a["approval_id"]): str(a.get("approver_id") or "")
            for a in await ApprovalRepository(db, scope).find_many(
                projection={"_id": 0, "approval_id": 1, "approver_id": 1}
            )
        }
        self.refunds = await RefundRepository(db, scope).find_many(projection={"_id": 0, "response": 0})
        self.reprints = await ReprintRepository(db, scope).find_many(projection={"_id": 0, "response": 0})
        self.shifts = await ShiftRepository(db, scope).find_many()

    async def load(self) -> None:
        db, scope = self.deps.db, self.scope
        await self.load_small()
        self.sales = await SaleRepository(db, scope).find_many(projection=SALE_FIELDS)
        self.tickets = {str(t["ticket_id"]): t for t in await TicketRepository(db, scope).find_many()}
        self.redemptions = await RedemptionRepository(db, scope).find_many()
        #: Changes written but not yet marked done: counted when their event was written.
        self.written = await ProjectedEventRepository(db, scope).existing(
            unfinished(self.sales, self.refunds, self.reprints, self.shifts)
        )

    def tz(self, store_id: str) -> str:
        return self.zones.get(store_id, self.deps.settings.tz)

    def sale_facts(self, sale: Document) -> rules.Facts:
        store = str(sale["store_id"])
        approver = self.approvers.get(str(sale.get("discount_approval_id") or ""), "")
        return rules.Facts(self.tz(store), hours=self.hours.get(store, OPEN_ALL_WEEK), approver=approver)

    # -- one record as its event (None: it never counted) ------------------------------------------

    def _data(
        self, record: Document, event_id: str, done: Callable[[], dict[str, Any]]
    ) -> dict[str, Any] | None:
        """A completed record's event data; a pending one's as its event said, if it was written."""
        if record["status"] == "completed":
            return done()
        if event_id in self.written:
            data: dict[str, Any] = self.written[event_id]["data"]
            return data
        return None

    def sale_event(self, sale: Document) -> Replayed | None:
        event_id = f"{sale['sale_id']}.sale.created"
        data = self._data(sale, event_id, lambda: {"sale": sale_view(sale)})
        if data is None:
            return None
        return Replayed(event_id, "sale.created", str(sale["store_id"]), data, self.sale_facts(sale))

    def ticket_event(self, ticket: Document) -> Replayed:
        """A ticket of a counted sale."""
        shown = {k: v for k, v in ticket_view(ticket).items() if k != "qr_token"}
        store = str(ticket["store_id"])
        return Replayed(
            f"{ticket['ticket_id']}.ticket.issued",
            "ticket.issued",
            store,
            {"ticket": shown},
            rules.Facts(self.tz(store)),
        )

    def refund_event(
        self,
        refund: Document,
        tickets: Mapping[str, Mapping[str, Any]],
        sale_lines: Sequence[Mapping[str, Any]],
    ) -> Replayed | None:
        """`tickets`: at least those of its lines; `sale_lines`: its sale's, if that sale counted."""
        event_id = f"{refund['refund_id']}.refund.created"
        data = self._data(refund, event_id, lambda: {"refund": refund_view(refund)})
        if data is None:
            return None
        store = str(refund["store_id"])
        lines = rules.refund_line_facts(
            data["refund"]["lines"], tickets, sale_lines, refund.get("planned") or []
        )
        return Replayed(
            event_id, "refund.created", store, data, rules.Facts(self.tz(store), refund_lines=lines)
        )

    def reprint_event(self, reprint: Document) -> Replayed | None:
        event_id = f"{reprint['reprint_id']}.reprint.created"
        data = self._data(
            reprint, event_id, lambda: {"reprint": reprint_view({**reprint, "status": "completed"})}
        )
        if data is None:
            return None
        store = str(reprint["store_id"])
        covering = rules.shift_covering(self.shifts, str(reprint["device_id"]), reprint["created_at"])
        return Replayed(event_id, "reprint.created", store, data, rules.Facts(self.tz(store), shift=covering))

    def scan_event(self, record: Document, ticket: rules.TicketFacts) -> Replayed:
        """A scan of a known ticket (a forged or unknown code wrote no event)."""
        result, reason = rules.original_verdict(record)
        store = str(record["store_id"])
        meta = record.get("metadata") or {}
        data = {
            "ticket_id": ticket.ticket_id,
            "redemption": {
                "redemption_id": record["redemption_id"],
                "device_id": record["device_id"],
                "ts": record["ts"],
                "result": result,
                "reason": reason,
            },
            "offline": bool(meta.get("offline")),
            # as the event said: a displaced PASS became a conflict later, without an event
            "offline_conflict": bool(meta.get("offline_conflict")) and not meta.get("displaced_by"),
        }
        zone = str(meta.get("zone") or "")
        facts = rules.Facts(self.tz(store), zone=zone, ticket=ticket)
        return Replayed(
            f"{record['redemption_id']}.redeemed", f"ticket.redeemed.{result}", store, data, facts
        )

    def shift_event(self, shift: Document) -> Replayed | None:
        event_id = f"{shift['shift_id']}.shift.closed"
        if shift["status"] != "closed" or not (shift.get("finalized", True) or event_id in self.written):
            return None
        store = str(shift["store_id"])
        facts = rules.Facts(self.tz(store), shift=rules.shift_facts(shift))
        return Replayed(event_id, "shift.closed", store, rules.shift_closed_data(shift), facts)

    # -- all of them, in memory --------------------------------------------------------------------

    def replay(self) -> Iterator[Replayed]:
        """Every counted record as its event, in the order the projection would meet them."""
        counted_sales: set[str] = set()
        sale_lines: dict[str, list[Document]] = {}
        for sale in self.sales:
            item = self.sale_event(sale)
            if item is None:
                continue
            counted_sales.add(str(sale["sale_id"]))
            sale_lines[str(sale["sale_id"])] = list(sale.get("lines") or [])
            yield item
        for ticket in self.tickets.values():
            if ticket["sale_id"] in counted_sales:
                yield self.ticket_event(ticket)
        for refund in self.refunds:
            lines = sale_lines.get(str(refund["sale_id"]), [])
            yield from _counted([self.refund_event(refund, self.tickets, lines)])
        yield from _counted(self.reprint_event(reprint) for reprint in self.reprints)
        yield from self._scans()
        yield from _counted(self.shift_event(shift) for shift in self.shifts)

    def _scans(self) -> Iterator[Replayed]:
        for record in sorted(self.redemptions, key=lambda r: (r["ts"], str(r["redemption_id"]))):
            ticket = self.tickets.get(str(record.get("ticket_id") or ""))
            if ticket is not None:
                yield self.scan_event(record, rules.ticket_facts(ticket))


def _counted(items: Iterable[Replayed | None]) -> Iterator[Replayed]:
    return (item for item in items if item is not None)


class Fold:
    """Summaries made from replayed records, one record at a time, in memory: the documents by
    `_id`, the tickets given their first PASS (in the order met) and the records folded. Events
    in `pending` are left to the projection.

    A ticket's first PASS need not be met first: its `redeemed` figure goes on the ticket's cohort
    document (its store, its sale's day, package and expiry, in the scan's store's time zone), and
    a PASS is only given at the ticket's own store (tickets/redemption.py), so whichever PASS comes
    first, the figure lands on the same documents."""

    def __init__(self, tenant_id: str, pending: set[str]) -> None:
        self.tenant_id = tenant_id
        self.pending = pending
        self.docs: dict[str, Document] = {}
        self.passed: dict[str, None] = {}
        self.count = 0

    def add(self, item: Replayed) -> None:
        if item.event_id in self.pending:
            return
        self.count += 1
        facts = item.facts
        if item.type == "ticket.redeemed.pass" and facts.ticket is not None:
            ticket_id = facts.ticket.ticket_id
            first = ticket_id not in self.passed
            facts = replace(facts, first_pass=first)
            if first:
                self.passed[ticket_id] = None
        tenant_id = self.tenant_id
        for change in rules.changes_for(item.type, item.store_id, item.data, facts):
            doc = self.docs.setdefault(change.summary_id(tenant_id), {})
            doc.update(change.document_fields(tenant_id))
            for name, amount in change.inc.items():
                doc[name] = int(doc.get(name, 0)) + amount


def fold(
    tenant_id: str, replayed: Iterable[Replayed], pending: set[str]
) -> tuple[dict[str, Document], list[str], int]:
    """The summaries the records make, in memory: (documents by `_id`, tickets with a PASS, events
    folded). Events in `pending` are left to the projection."""
    folding = Fold(tenant_id, pending)
    for item in replayed:
        folding.add(item)
    return folding.docs, list(folding.passed), folding.count


#: What a rebuild keeps of each ticket, for the scans and refunds met later (`ROW_FIELDS`).
TicketRow = tuple[str, str, str, datetime, datetime]
ROW_FIELDS = ("ticket_id", "store_id", "package_id", "created_at", "valid_to")


def _row_facts(row: TicketRow) -> rules.TicketFacts:
    return rules.TicketFacts(*row)


class TicketDocs(Mapping[str, Mapping[str, Any]]):
    """The kept tickets as the documents `rules.refund_line_facts` reads (made when asked)."""

    def __init__(self, rows: Mapping[str, TicketRow]) -> None:
        self.rows = rows

    def __getitem__(self, ticket_id: str) -> Mapping[str, Any]:
        return dict(zip(ROW_FIELDS, self.rows[ticket_id], strict=True))

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


class Rebuild:
    """One tenant's rebuild under its report lease (`turn`, taken and drained by the caller): the
    small collections loaded, the big ones streamed `batch` at a time and folded as they come, then
    the summaries and first-PASS marks written in bulk. The lease is renewed after every batch read
    and before every batch written; when another owner has it, `LeaseLost` stops the rebuild."""

    def __init__(
        self,
        deps: Deps,
        turn: TenantPass,
        *,
        batch: int = READ_BATCH,
        write_batch: int = WRITE_BATCH,
        on_progress: OnProgress | None = None,
        renew_every: float = TENANT_LEASE.total_seconds() / 3,
    ) -> None:
        self.deps = deps
        self.turn = turn
        self.tenant_id = turn.tenant_id
        self.scope = Scope(turn.tenant_id)
        self.batch = batch
        self.write_batch = write_batch
        self.on_progress = on_progress
        self.renew_every = renew_every
        self.records = Records(deps, turn.tenant_id)
        self.events = ProjectedEventRepository(deps.db, self.scope)
        self.folding = Fold(turn.tenant_id, set())
        self.tickets: dict[str, TicketRow] = {}
        self.stage = "records"
        self.written = self.deleted = 0

    async def run(self, first_day: str | None, last_day: str | None) -> Rebuilt:
        alive = asyncio.create_task(self._keep_alive())
        try:
            return await self._run(first_day, last_day)
        finally:
            alive.cancel()
            await asyncio.gather(alive, return_exceptions=True)

    async def _run(self, first_day: str | None, last_day: str | None) -> Rebuilt:
        records = self.records
        await records.load_small()
        records.written = await self.events.existing(
            unfinished(refunds=records.refunds, reprints=records.reprints, shifts=records.shifts)
        )
        self.folding.pending |= await self.events.pending_ids()  # read after the records
        refunded = {str(r["sale_id"]) for r in records.refunds}
        sale_lines = await self._sales(refunded)
        self.stage = "refunds"
        tickets = TicketDocs(self.tickets)
        for refund in records.refunds:
            self._add(records.refund_event(refund, tickets, sale_lines.get(str(refund["sale_id"]), [])))
        del sale_lines
        self.stage = "reprints"
        for reprint in records.reprints:
            self._add(records.reprint_event(reprint))
        await self._scans()
        self.tickets.clear()
        self.stage = "shifts"
        for shift in records.shifts:
            self._add(records.shift_event(shift))
        return await self._write(first_day, last_day)

    def _add(self, item: Replayed | None) -> None:
        if item is not None:
            self.folding.add(item)

    async def _sales(self, refunded: set[str]) -> dict[str, list[Document]]:
        """Sales, then their tickets; returns the lines of the counted sales that have a refund."""
        counted: set[str] = set()
        sale_lines: dict[str, list[Document]] = {}

        async def fold_sales(sales: list[Document]) -> None:
            self.records.written.update(await self.events.existing(unfinished(sales)))
            await self._pending()
            for sale in sales:
                sale_id = str(sale["sale_id"])
                item = self.records.sale_event(sale)
                if item is None or sale_id in counted:
                    continue
                counted.add(sale_id)
                if sale_id in refunded:
                    sale_lines[sale_id] = list(sale.get("lines") or [])
                self.folding.add(item)

        async def fold_tickets(tickets: list[Document]) -> None:
            await self._pending()
            for ticket in tickets:
                ticket_id = str(ticket["ticket_id"])
                if ticket_id in self.tickets:
                    continue
                self.tickets[ticket_id] = (
                    ticket_id,
                    sys.intern(str(ticket["store_id"])),
                    sys.intern(str(ticket["package_id"])),
                    ticket["created_at"],
                    ticket["valid_to"],
                )
                if ticket["sale_id"] in counted:
                    self.folding.add(self.records.ticket_event(ticket))

        await self._stream(SaleRepository, SALE_FIELDS, "sales", fold_sales)
        await self._stream(TicketRepository, TICKET_SHOWN, "tickets", fold_tickets)
        return sale_lines

    async def _scans(self) -> None:
        """Scans in the order they come (see `Fold`: the first PASS needs no sorting)."""

        async def fold_scans(scans: list[Document]) -> None:
            await self._pending()
            for record in scans:
                row = self.tickets.get(str(record.get("ticket_id") or ""))
                if row is not None:
                    self.folding.add(self.records.scan_event(record, _row_facts(row)))

        await self._stream(RedemptionRepository, SCAN_FIELDS, "scans", fold_scans)

    async def _stream(
        self,
        repository: type[ScopedRepository],
        projection: dict[str, Any],
        stage: str,
        fold_batch: Callable[[list[Document]], Awaitable[None]],
    ) -> None:
        """A collection of the tenant, a batch at a time: each folded, then the lease renewed and
        the progress told."""
        self.stage = stage
        records = repository(self.deps.db, self.scope)
        held = await records.tally()  # records are only added while it streams (retention aside)
        brought = 0
        async with aclosing(records.batches(projection=projection, size=self.batch)) as batches:
            async for docs in batches:
                brought += len(docs)
                await fold_batch(docs)
                await self.hold()
                await self._tell()
        if brought < held:
            raise StreamCut(
                f"tenant {self.tenant_id}: the {stage} stream ended after {brought} of the {held} records "
                "there were; nothing was written, run the rebuild again"
            )

    async def _pending(self) -> None:
        """Events written since the records were read are the projection's: read the pending ones
        again after each batch (the lease is held, so none is marked done meanwhile; a record's
        event is written before the record shows it done, so a record read as done whose event is
        pending is found here)."""
        self.folding.pending |= await self.events.pending_ids()

    async def _write(self, first_day: str | None, last_day: str | None) -> Rebuilt:
        docs = self.folding.docs
        if first_day or last_day:
            docs = {key: doc for key, doc in docs.items() if rules.in_period(doc["day"], first_day, last_day)}
        upto = int((await StateRepository(self.deps.db, self.scope).load(self.deps.clock.now()))["seq"])
        self.stage = "summaries"
        await self.hold()
        written, deleted = await SummaryRepository(self.deps.db, self.scope).replace_days(
            docs, first_day, last_day, upto, batch=self.write_batch, before_batch=self._before_summaries
        )
        self.written, self.deleted = written, deleted
        self.stage = "marks"
        await MarkRepository(self.deps.db, self.scope).ensure(
            self.folding.passed, batch=self.write_batch, before_batch=self._before_marks
        )
        await self._tell()
        return Rebuilt(self.tenant_id, self.folding.count, written, deleted)

    async def _before_summaries(self, written: int, deleted: int) -> None:
        self.written, self.deleted = written, deleted
        await self._tell()
        await self.hold()  # last: nothing is written unless the lease was still ours just now

    async def _before_marks(self, _: int) -> None:
        await self._tell()
        await self.hold()

    async def hold(self) -> None:
        """Renew the lease now, by a write that names this owner (not only when a third of it is
        gone, as `TenantPass.keep`: another owner that took it is seen at once), or stop."""
        now = self.deps.clock.now()
        if not await self.turn.state.renew(self.turn.owner, now + TENANT_LEASE):
            raise LeaseLost(
                f"tenant {self.tenant_id}: the report lease went to another owner while rebuilding "
                f"({self.stage}); stopped, {self.written} summaries written"
            )
        self.turn.lease_until = now + TENANT_LEASE

    async def _keep_alive(self) -> None:
        """Renew the lease every `renew_every` seconds meanwhile (real time): one read can take
        longer than the lease (the embedded server gathers a whole collection's answer before the
        first batch). Once renewing fails the lease is lost, and the next `hold` says so."""
        while True:
            await asyncio.sleep(self.renew_every)
            now = self.deps.clock.now()
            if not await self.turn.state.renew(self.turn.owner, now + TENANT_LEASE):
                return
            self.turn.lease_until = now + TENANT_LEASE

    async def _tell(self) -> None:
        if self.on_progress is not None:
            await self.on_progress(
                Progress(self.tenant_id, self.stage, self.folding.count, self.written, self.deleted)
            )


async def _take_lease(turn: TenantPass, wait_seconds: float) -> Document:
    waited = 0.0
    while True:
        state = await turn.take()
        if state is not None:
            return state
        if waited >= wait_seconds:
            raise TimeoutError(f"tenant {turn.tenant_id}: the report projector's lease stays taken")
        await asyncio.sleep(0.5)
        waited += 0.5


async def rebuild_tenant(
    deps: Deps,
    tenant_id: str,
    *,
    first_day: str | None = None,
    last_day: str | None = None,
    owner: str = "rebuild",
    wait_seconds: float = TENANT_LEASE.total_seconds() * 2,
    batch: int = READ_BATCH,
    write_batch: int = WRITE_BATCH,
    on_progress: OnProgress | None = None,
) -> Rebuilt:
    """`batch`: records one read brings; `write_batch`: documents one bulk write carries;
    `on_progress`: told after each batch read and before each batch written. Raises `LeaseLost`
    when another owner took the lease meanwhile (batches written before that stay written)."""
    turn = TenantPass(deps, tenant_id, owner)
    state = await _take_lease(turn, wait_seconds)
    try:
        await turn.recover(state)
        while (await turn.run())[0]:  # drain: every event written so far is counted first
            pass
        rebuild = Rebuild(deps, turn, batch=batch, write_batch=write_batch, on_progress=on_progress)
        return await rebuild.run(first_day, last_day)
    finally:
        await turn.release()


async def rebuild_if_never_projected(deps: Deps, tenant_id: str) -> Rebuilt | None:
    """A tenant whose summaries were never kept (data from before reports existed): rebuild it once.
    The seed calls this, so an existing demo database gets its reports on the next `make run`."""
    if await StateRepository(deps.db, Scope(tenant_id)).exists():
        return None
    return await rebuild_tenant(deps, tenant_id)
