"""`boxoffice reports rebuild`: recompute summaries from the raw records, for repairs and migrations.

It takes the tenant's projector lease (the projection waits), first applies every pending event,
then reads the records (completed sales and their tickets, refunds, reprints, redemptions, closed
shifts), turns each into the event it wrote, and folds those through the same rules as the
projection (`summaries.py`). Records whose events are still pending — written while it read — are
left to the projection. The summaries of the chosen days are then replaced by the result, marked
as holding every event numbered so far. Running it again gives the same documents.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from boxoffice.aftersale.refunds import refund_view
from boxoffice.aftersale.reprints import reprint_view
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.fraud.rules import OPEN_ALL_WEEK, week_hours
from boxoffice.reports import summaries as rules
from boxoffice.reports.projection import TENANT_LEASE, TenantPass
from boxoffice.reports.repository import (
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
from boxoffice.tickets.issuance import ticket_view
from boxoffice.tickets.repository import (
    RedemptionRepository,
    RefundRepository,
    ReprintRepository,
    TicketRepository,
)


@dataclass(frozen=True)
class Rebuilt:
    tenant_id: str
    events: int  # records folded
    written: int  # summary documents written
    deleted: int  # summary documents no record supports any more


@dataclass(frozen=True)
class Replayed:
    """A record as the event it wrote: what the rules need, and the event's id."""

    event_id: str
    type: str
    store_id: str
    data: dict[str, Any]
    facts: rules.Facts


class Records:
    """One tenant's raw records, read once (a rebuild is never on a request path)."""

    def __init__(self, deps: Deps, tenant_id: str) -> None:
        self.deps = deps
        self.scope = Scope(tenant_id)

    async def load(self) -> None:
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
        self.sales = await SaleRepository(db, scope).find_many(
            projection={"_id": 0, "ticket_plan": 0, "response": 0}
        )
        self.tickets = {str(t["ticket_id"]): t for t in await TicketRepository(db, scope).find_many()}
        self.refunds = await RefundRepository(db, scope).find_many(projection={"_id": 0, "response": 0})
        self.reprints = await ReprintRepository(db, scope).find_many(projection={"_id": 0, "response": 0})
        self.redemptions = await RedemptionRepository(db, scope).find_many()
        self.shifts = await ShiftRepository(db, scope).find_many()
        events = ProjectedEventRepository(db, scope)
        unfinished = [
            *(f"{s['sale_id']}.sale.created" for s in self.sales if s["status"] == "pending"),
            *(f"{r['refund_id']}.refund.created" for r in self.refunds if r["status"] == "pending"),
            *(f"{r['reprint_id']}.reprint.created" for r in self.reprints if r["status"] == "pending"),
            *(
                f"{s['shift_id']}.shift.closed"
                for s in self.shifts
                if s["status"] == "closed" and not s.get("finalized", True)
            ),
        ]
        #: Changes written but not yet marked done: counted when their event was written.
        self.written = await events.existing(unfinished)

    def tz(self, store_id: str) -> str:
        return self.zones.get(store_id, self.deps.settings.tz)

    def sale_facts(self, sale: Document) -> rules.Facts:
        store = str(sale["store_id"])
        approver = self.approvers.get(str(sale.get("discount_approval_id") or ""), "")
        return rules.Facts(self.tz(store), hours=self.hours.get(store, OPEN_ALL_WEEK), approver=approver)

    def replay(self) -> Iterator[Replayed]:
        """Every counted record as its event, in the order the projection would meet them."""
        counted_sales: set[str] = set()
        sale_lines: dict[str, list[Document]] = {}
        for sale in self.sales:
            event_id = f"{sale['sale_id']}.sale.created"
            if sale["status"] == "completed":
                data = {"sale": sale_view(sale)}
            elif event_id in self.written:
                data = self.written[event_id]["data"]
            else:
                continue
            counted_sales.add(str(sale["sale_id"]))
            sale_lines[str(sale["sale_id"])] = list(sale.get("lines") or [])
            yield Replayed(event_id, "sale.created", str(sale["store_id"]), data, self.sale_facts(sale))
        for ticket in self.tickets.values():
            if ticket["sale_id"] not in counted_sales:
                continue
            shown = {k: v for k, v in ticket_view(ticket).items() if k != "qr_token"}
            store = str(ticket["store_id"])
            yield Replayed(
                f"{ticket['ticket_id']}.ticket.issued",
                "ticket.issued",
                store,
                {"ticket": shown},
                rules.Facts(self.tz(store)),
            )
        for refund in self.refunds:
            event_id = f"{refund['refund_id']}.refund.created"
            if refund["status"] == "completed":
                data = {"refund": refund_view(refund)}
            elif event_id in self.written:
                data = self.written[event_id]["data"]
            else:
                continue
            store = str(refund["store_id"])
            lines = rules.refund_line_facts(
                data["refund"]["lines"],
                self.tickets,
                sale_lines.get(str(refund["sale_id"]), []),
                refund.get("planned") or [],
            )
            yield Replayed(
                event_id, "refund.created", store, data, rules.Facts(self.tz(store), refund_lines=lines)
            )
        for reprint in self.reprints:
            event_id = f"{reprint['reprint_id']}.reprint.created"
            if reprint["status"] == "completed":
                data = {"reprint": reprint_view({**reprint, "status": "completed"})}
            elif event_id in self.written:
                data = self.written[event_id]["data"]
            else:
                continue
            store = str(reprint["store_id"])
            covering = rules.shift_covering(self.shifts, str(reprint["device_id"]), reprint["created_at"])
            yield Replayed(
                event_id, "reprint.created", store, data, rules.Facts(self.tz(store), shift=covering)
            )
        yield from self._scans()
        for shift in self.shifts:
            event_id = f"{shift['shift_id']}.shift.closed"
            if shift["status"] != "closed" or not (shift.get("finalized", True) or event_id in self.written):
                continue
            store = str(shift["store_id"])
            facts = rules.Facts(self.tz(store), shift=rules.shift_facts(shift))
            yield Replayed(event_id, "shift.closed", store, rules.shift_closed_data(shift), facts)

    def _scans(self) -> Iterator[Replayed]:
        for record in sorted(self.redemptions, key=lambda r: (r["ts"], str(r["redemption_id"]))):
            ticket = self.tickets.get(str(record.get("ticket_id") or ""))
            if ticket is None:  # a forged or unknown code: no event is written for it
                continue
            result, reason = rules.original_verdict(record)
            store = str(record["store_id"])
            meta = record.get("metadata") or {}
            data = {
                "ticket_id": ticket["ticket_id"],
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
            zone = str((record.get("metadata") or {}).get("zone") or "")
            facts = rules.Facts(self.tz(store), zone=zone, ticket=rules.ticket_facts(ticket))
            yield Replayed(
                f"{record['redemption_id']}.redeemed", f"ticket.redeemed.{result}", store, data, facts
            )


def fold(
    tenant_id: str, replayed: Iterator[Replayed], pending: set[str]
) -> tuple[dict[str, Document], list[str], int]:
    """The summaries the records make, in memory: (documents by `_id`, tickets with a PASS, events
    folded). Events in `pending` are left to the projection."""
    docs: dict[str, Document] = {}
    passed: list[str] = []
    seen_pass: set[str] = set()
    count = 0
    for item in replayed:
        if item.event_id in pending:
            continue
        count += 1
        facts = item.facts
        if item.type == "ticket.redeemed.pass" and facts.ticket is not None:
            ticket_id = facts.ticket.ticket_id
            facts = replace(facts, first_pass=ticket_id not in seen_pass)
            if ticket_id not in seen_pass:
                seen_pass.add(ticket_id)
                passed.append(ticket_id)
        for change in rules.changes_for(item.type, item.store_id, item.data, facts):
            summary_id = change.summary_id(tenant_id)
            doc = docs.setdefault(summary_id, {})
            doc.update(change.document_fields(tenant_id))
            for name, amount in change.inc.items():
                doc[name] = int(doc.get(name, 0)) + amount
    return docs, passed, count


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
) -> Rebuilt:
    turn = TenantPass(deps, tenant_id, owner)
    state = await _take_lease(turn, wait_seconds)
    try:
        await turn.recover(state)
        while (await turn.run())[0]:  # drain: every event written so far is counted first
            pass
        records = Records(deps, tenant_id)
        await records.load()
        pending = await ProjectedEventRepository(deps.db, Scope(tenant_id)).pending_ids()
        docs, passed, count = fold(tenant_id, records.replay(), pending)
        chosen = {key: doc for key, doc in docs.items() if rules.in_period(doc["day"], first_day, last_day)}
        upto = int((await StateRepository(deps.db, Scope(tenant_id)).load(deps.clock.now()))["seq"])
        written, deleted = await SummaryRepository(deps.db, Scope(tenant_id)).replace_days(
            chosen, first_day, last_day, upto
        )
        await MarkRepository(deps.db, Scope(tenant_id)).ensure(passed)
        return Rebuilt(tenant_id, count, written, deleted)
    finally:
        await turn.release()


async def rebuild_if_never_projected(deps: Deps, tenant_id: str) -> Rebuilt | None:
    """A tenant whose summaries were never kept (data from before reports existed): rebuild it once.
    The seed calls this, so an existing demo database gets its reports on the next `make run`."""
    if await StateRepository(deps.db, Scope(tenant_id)).exists():
        return None
    return await rebuild_tenant(deps, tenant_id)
