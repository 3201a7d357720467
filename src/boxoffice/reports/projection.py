"""The projection: outbox events → report summaries, each event counted exactly once.

Without transactions, exactly once rests on three things:

* **One projector per tenant at a time.** It holds the tenant's lease (`report_state`, a
  compare-and-set on `_id`); `boxoffice reports rebuild` takes the same lease.
* **A projection number per event.** Before an event is applied, the tenant's counter is
  incremented *and* the event noted as in flight, in one atomic update that also checks the lease.
  A projector that takes over first finishes the in-flight event under the same number.
* **Summaries remember the last number they took** (`upto`): each figure is added by
  `update_one({_id, upto: {$lt: n}}, {$inc…, $set: {upto: n}}, upsert=True)`; a document already
  at `n` makes the upsert collide with its own `_id` — already applied. A ticket's first PASS is a
  mark document holding the number of the event that claimed it.

So a retried request, a crash between writes, a replayed sync op or the sweeper finishing a
half-done sale (all of which write the same event ids, so the outbox holds each change once), and
a projector dying at any step, all leave the same summaries as one clean run. Only events written
when a change completes are counted (`sale.created` is written when a sale completes: pending sales
never count). Unprojected events are found by equality on the indexed `projected` flag and marked
by `_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from boxoffice.core.background import Background, Pass
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.lease import Lease
from boxoffice.core.logging import get_logger
from boxoffice.core.repository import Scope
from boxoffice.fraud.rules import WeekHours, week_hours
from boxoffice.reports import summaries as rules
from boxoffice.reports.repository import (
    MarkRepository,
    ProjectedEventRepository,
    StateRepository,
    SummaryRepository,
    pending_events_unscoped,
)
from boxoffice.sales.repository import SaleRepository, ShiftRepository
from boxoffice.settings import service as settings
from boxoffice.staff.repository import ApprovalRepository
from boxoffice.tenancy.repository import StoreRepository
from boxoffice.tickets.repository import RedemptionRepository, RefundRepository, TicketRepository

log = get_logger(__name__)

#: How long a tenant's projector holds its lease without renewing it.
TENANT_LEASE = timedelta(seconds=60)
#: Events one tenant's pass applies before the next tenant has its turn.
BATCH = 200
#: A scan's event is written just before its record: this long, the projector waits for the record.
RECORD_GRACE = timedelta(minutes=2)


@dataclass(frozen=True)
class Skip:
    """The event adds nothing (its record never came: the request died between the two)."""


@dataclass(frozen=True)
class Defer:
    """Not yet: the event's record is still being written. Looked at again on the next pass."""


class TenantFacts:
    """Looks up what an event's rules need (time zones, opening hours, tickets, a scan's zone,
    shifts, a manual discount's approver), in one tenant, by indexed equality; a pass keeps the
    stores' time zones and opening hours."""

    def __init__(self, deps: Deps, tenant_id: str) -> None:
        self.deps = deps
        self.scope = Scope(tenant_id)
        self._zones: dict[str, str] | None = None
        self._hours: dict[str, WeekHours] = {}

    async def hours(self, store_id: str) -> WeekHours:
        """The store's opening hours as its settings say now (kept for the pass)."""
        if store_id not in self._hours:
            values = (await settings.effective(self.deps, self.scope.tenant_id, store_id))["values"]
            self._hours[store_id] = week_hours(values.get("hours"))
        return self._hours[store_id]

    async def sale_facts(self, sale: Document) -> rules.Facts:
        store_id = str(sale["store_id"])
        approver = ""
        if rules.manual_discount_of(sale.get("lines") or []):
            approver = await self.discount_approver(str(sale["sale_id"]))
        return rules.Facts(await self.tz(store_id), hours=await self.hours(store_id), approver=approver)

    async def discount_approver(self, sale_id: str) -> str:
        """Who approved a sale's manual discount ("" when the cashier needed nobody)."""
        sale = await SaleRepository(self.deps.db, self.scope).find_one(
            {"sale_id": sale_id}, projection={"_id": 0, "discount_approval_id": 1}
        )
        approval_id = str((sale or {}).get("discount_approval_id") or "")
        if not approval_id:
            return ""
        approval = await ApprovalRepository(self.deps.db, self.scope).find_one(
            {"approval_id": approval_id}, projection={"_id": 0, "approver_id": 1}
        )
        return str((approval or {}).get("approver_id") or "")

    async def tz(self, store_id: str) -> str:
        if self._zones is None:
            stores = await StoreRepository(self.deps.db, self.scope).find_many(
                projection={"_id": 0, "store_id": 1, "tz": 1}
            )
            self._zones = {str(s["store_id"]): str(s.get("tz") or self.deps.settings.tz) for s in stores}
        return self._zones.get(store_id, self.deps.settings.tz)

    async def ticket(self, ticket_id: str) -> Document | None:
        return await TicketRepository(self.deps.db, self.scope).find_one(
            {"ticket_id": ticket_id},
            projection={
                "_id": 0,
                "ticket_id": 1,
                "store_id": 1,
                "package_id": 1,
                "created_at": 1,
                "valid_to": 1,
            },
        )

    async def of(self, event: Document) -> rules.Facts | Skip | Defer:
        kind, data = event["type"], event["data"]
        store_id = str(event.get("store_id") or "")
        if kind in ("ticket.redeemed.pass", "ticket.redeemed.fail"):
            return await self._scan(event, store_id)
        if kind == "refund.created":
            return await self._refund(data["refund"])
        if kind == "reprint.created":
            reprint = data["reprint"]
            shifts = await self._shifts_of(str(reprint["device_id"]))
            shift = rules.shift_covering(shifts, str(reprint["device_id"]), reprint["created_at"])
            return rules.Facts(await self.tz(str(reprint["store_id"])), shift=shift)
        if kind in ("shift.closed", "shift.count_corrected"):
            found = await ShiftRepository(self.deps.db, self.scope).find_one({"shift_id": data["shift_id"]})
            if found is None:
                return Skip()
            return rules.Facts(await self.tz(store_id), shift=rules.shift_facts(found))
        if kind == "sale.created":
            return await self.sale_facts(data["sale"])
        return rules.Facts(await self.tz(str(data["ticket"]["store_id"])))  # ticket.issued

    async def _scan(self, event: Document, store_id: str) -> rules.Facts | Skip | Defer:
        scan = event["data"]["redemption"]
        record = await RedemptionRepository(self.deps.db, self.scope).find_one(
            {"redemption_id": {"$eq": scan["redemption_id"]}, "device_id": {"$eq": scan["device_id"]}}
        )
        if record is None or record.get("ticket_id") != event["data"]["ticket_id"]:
            young = event["created_at"] + RECORD_GRACE > self.deps.clock.now()
            return Defer() if young else Skip()
        ticket = await self.ticket(str(event["data"]["ticket_id"]))
        zone = str((record.get("metadata") or {}).get("zone") or "")
        known = rules.ticket_facts(ticket) if ticket is not None else None
        return rules.Facts(await self.tz(store_id), zone=zone, ticket=known)

    async def _refund(self, refund: Document) -> rules.Facts:
        tickets: dict[str, Document] = {}
        for line in refund["lines"]:
            found = await self.ticket(str(line["ticket_id"]))
            if found is not None:
                tickets[str(line["ticket_id"])] = found
        sale = await SaleRepository(self.deps.db, self.scope).find_one(
            {"sale_id": refund["sale_id"]}, projection={"_id": 0, "lines": 1}
        )
        stored = await RefundRepository(self.deps.db, self.scope).find_one(
            {"refund_id": refund["refund_id"]}, projection={"_id": 0, "planned": 1}
        )
        lines = rules.refund_line_facts(
            refund["lines"], tickets, (sale or {}).get("lines") or [], (stored or {}).get("planned") or []
        )
        return rules.Facts(await self.tz(str(refund["store_id"])), refund_lines=lines)

    async def _shifts_of(self, device_id: str) -> list[Document]:
        return await ShiftRepository(self.deps.db, self.scope).find_many(
            {"device_id": device_id},
            projection={
                "_id": 0,
                "shift_id": 1,
                "device_id": 1,
                "opened_by": 1,
                "closed_by": 1,
                "open_at": 1,
                "close_at": 1,
            },
        )


async def apply_event(deps: Deps, tenant_id: str, event: Document, facts: rules.Facts, seq: int) -> int:
    """Apply one event's changes under its projection number; returns how many documents took it
    now (0 when a previous attempt had applied them all)."""
    scope = Scope(tenant_id)
    if event["type"] == "ticket.redeemed.pass" and facts.ticket is not None:
        holder = await MarkRepository(deps.db, scope).first_pass_seq(facts.ticket.ticket_id, seq)
        facts = replace(facts, first_pass=holder == seq)
    changes = rules.changes_for(event["type"], str(event.get("store_id") or ""), event["data"], facts)
    summaries = SummaryRepository(deps.db, scope)
    applied = 0
    for change in changes:
        applied += await summaries.apply(change, seq)
    return applied


class TenantPass:
    """One tenant's turn: take its lease, finish the event a previous holder left in flight, then
    apply pending events in a fixed order (creation time, then id)."""

    def __init__(self, deps: Deps, tenant_id: str, owner: str) -> None:
        self.deps = deps
        self.tenant_id = tenant_id
        self.owner = owner
        self.state = StateRepository(deps.db, Scope(tenant_id))
        self.events = ProjectedEventRepository(deps.db, Scope(tenant_id))
        self.facts = TenantFacts(deps, tenant_id)
        self.lease_until: datetime | None = None

    async def take(self) -> Document | None:
        now = self.deps.clock.now()
        state = await self.state.take_lease(self.owner, now, now + TENANT_LEASE)
        if state is not None:
            self.lease_until = now + TENANT_LEASE
        return state

    async def keep(self) -> bool:
        """Renew the lease when a third of it is gone; False when it was lost."""
        now = self.deps.clock.now()
        if self.lease_until is not None and self.lease_until - now > TENANT_LEASE * 2 / 3:
            return True
        if not await self.state.renew(self.owner, now + TENANT_LEASE):
            return False
        self.lease_until = now + TENANT_LEASE
        return True

    async def release(self) -> None:
        await self.state.release(self.owner, self.deps.clock.now())

    async def recover(self, state: Document) -> None:
        """The event the latest projection number went to, if it was left half applied."""
        inflight = str(state.get("inflight") or "")
        if not inflight:
            return
        event = await self.events.by_event_id(inflight)
        if event is None or event.get("projected") is not False:
            return
        facts = await self.facts.of(event)
        if isinstance(facts, rules.Facts):
            await apply_event(self.deps, self.tenant_id, event, facts, int(state["seq"]))
        await self.events.mark_projected(event["_id"])

    async def run(self, limit: int = BATCH) -> tuple[int, int]:
        """Returns (events applied, events still waiting for their record)."""
        applied = deferred = 0
        for event in sorted(await self.events.pending(limit), key=_order):
            if not await self.keep():
                break
            if event["type"] not in rules.PROJECTED_TYPES:
                await self.events.mark_projected(event["_id"])
                continue
            facts = await self.facts.of(event)
            if isinstance(facts, Defer):
                deferred += 1
                continue
            if isinstance(facts, Skip):
                log.warning("report_event_skipped", event_id=event["event_id"], reason="record missing")
                await self.events.mark_projected(event["_id"])
                continue
            seq = await self.state.next_seq(self.owner, str(event["event_id"]))
            if seq is None:  # the lease went to someone else
                break
            await apply_event(self.deps, self.tenant_id, event, facts, seq)
            await self.events.mark_projected(event["_id"])
            applied += 1
        return applied, deferred


def _order(event: Document) -> tuple[Any, str]:
    return (event["created_at"], str(event["event_id"]))


async def project_tenant(deps: Deps, tenant_id: str, owner: str, *, limit: int = BATCH) -> tuple[int, int]:
    """One pass over one tenant's pending events (nothing when another projector holds it)."""
    turn = TenantPass(deps, tenant_id, owner)
    state = await turn.take()
    if state is None:
        return 0, 0
    try:
        await turn.recover(state)
        return await turn.run(limit)
    finally:
        await turn.release()


async def project_pending(deps: Deps, owner: str, *, limit: int = 1000) -> tuple[int, int]:
    """One pass over every tenant with pending events. Returns (applied, deferred)."""
    tenants: list[str] = []
    for event in await pending_events_unscoped(deps.db, limit):
        if event["tenant_id"] not in tenants:
            tenants.append(str(event["tenant_id"]))
    applied = deferred = 0
    for tenant_id in tenants:
        done, waiting = await project_tenant(deps, tenant_id, owner)
        applied += done
        deferred += waiting
    return applied, deferred


async def project_all(deps: Deps, owner: str = "inline") -> int:
    """Until nothing is pending (tests, the seed, a rebuild's drain). Deferred events stay."""
    total = 0
    while True:
        applied, _ = await project_pending(deps, owner)
        total += applied
        if applied == 0:
            return total


#: The background loop's name (and its lease's): one replica projects at a time.
LOOP = "report_projector"


async def background_pass(deps: Deps, owner: str) -> Pass:
    applied, deferred = await project_pending(deps, owner)
    return Pass(busy=applied > 0, due_in=5.0 if deferred else None)


def background(deps: Deps, lease: Lease) -> Background:
    """The projector loop: a pass soon after work, backing off to 15 s while nothing is pending
    (an idle pass is one indexed read of the outbox)."""
    return Background(
        lease,
        lambda: background_pass(deps, lease.holder),
        first_idle=2.0,
        most_idle=15.0,
        busy_pause=0.5,
        initial_delay=3.0,
    )
