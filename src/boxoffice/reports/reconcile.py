"""Reconciliation: do a period's sales, refunds, tickets, shift snapshots and report summaries agree,
to the satang? A nightly check (`boxoffice reports reconcile`) and `GET /v1/reports/reconcile`.

Checks, each naming the records behind every difference it finds:

* `sale_totals` — a completed sale's own figures follow from its lines: subtotal, discounts, taxes,
  the total (net plus exclusive taxes) and what was due (the total plus the payment fee).
* `ticket_shares` — the tickets a sale issued are all there, each at the share its sale planned,
  and together they carry the sale's net (its total less exclusive taxes).
* `refund_lines` — a refund's amount is its lines', and each line's ticket says it was refunded,
  by this refund, for that amount (never more than its price).
* `shift_snapshot` — a closed shift's latest snapshot against the sales, refunds and drawer
  movements recorded on the shift; each snapshot's expected cash and difference from its own
  figures; the figures frozen on the shift against the latest snapshot.
* `summaries` — every report summary of the period against the summaries its raw records make (the
  projection's own rules folded over them, as `boxoffice reports rebuild` does), and every month
  document against the days it adds up.

Reads stay bounded: the period's records by store and local day through the indexed
(tenant, store, time) ranges, tickets and the sales that refunds name by `_id` in batches, a
shift's records by its id, and for tickets sold in the period the uses and refunds made after it,
by ticket. While it reads, it holds the tenant's projector lease (summaries stand still), having
first finished an event a crashed projector left half applied and counted what was waiting.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.core.db import Document, encode
from boxoffice.core.deps import Deps
from boxoffice.core.errors import InProgress, ValidationFailed
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope, ScopedRepository
from boxoffice.fraud.rules import week_hours
from boxoffice.reports import summaries as rules
from boxoffice.reports.projection import BATCH as PROJECTION_BATCH
from boxoffice.reports.projection import TenantPass
from boxoffice.reports.rebuild import Records, Replayed
from boxoffice.reports.repository import ProjectedEventRepository, SummaryRepository
from boxoffice.sales import shift_math
from boxoffice.sales.repository import MovementRepository, SaleRepository, ShiftRepository, SnapshotRepository
from boxoffice.settings import service as settings
from boxoffice.staff.repository import ApprovalRepository
from boxoffice.tickets.repository import (
    RedemptionRepository,
    RefundRepository,
    ReprintRepository,
    TicketRepository,
)

CHECKS = ("sale_totals", "ticket_shares", "refund_lines", "shift_snapshot", "summaries")
#: The longest period one check covers.
MAX_DAYS = 93
#: Ids per `_id: {$in}` read, and such reads in flight at once.
ID_BATCH = 500
IN_FLIGHT = 4
#: Records listed behind one difference (the rest are counted).
RECORDS_SHOWN = 20
#: Projection passes run before reading (what is still waiting after them is left out of both sides).
DRAIN_PASSES = 5
#: Fields of a summary document that say what it is rather than what it counts.
SUMMARY_META = frozenset(
    {"_id", "upto", "tenant_id", "family", "store_id", "day", "month", "rollup", "bucket"}
)
#: The shift totals a snapshot freezes (by_payment_type is compared per method).
SHIFT_TOTALS = (
    "sales_count",
    "sales_total",
    "fees_total",
    "refunds_total",
    "cash_sales",
    "cash_refunds",
    "pay_ins",
    "pay_outs",
)


# ---- the answer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A record: its kind (sale, ticket, refund, reprint, redemption, shift, snapshot, summary) and id."""

    kind: str
    id: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class Difference:
    check: str
    record: Ref  # the record (or summary) whose figure is off
    field: str
    expected: int | str | None
    found: int | str | None
    message: str
    store_id: str | None = None
    day: str | None = None
    records: tuple[Ref, ...] = ()  # the records behind it

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "record": self.record.as_dict(),
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
            "store_id": self.store_id,
            "day": self.day,
            "records": [r.as_dict() for r in self.records[:RECORDS_SHOWN]],
            "records_total": len(self.records),
        }

    def line(self) -> str:
        """One line for a terminal."""
        where = ", ".join(x for x in (self.store_id and f"store {self.store_id}", self.day) if x)
        behind = ", ".join(f"{r.kind} {r.id}" for r in self.records[:5])
        if len(self.records) > 5:
            behind += f" and {len(self.records) - 5} more"
        return (
            f"{self.check}: {self.record.kind} {self.record.id} {self.field}: expected {self.expected}, "
            f"found {self.found}" + (f" ({where})" if where else "") + (f" [{behind}]" if behind else "")
        )


@dataclass
class Outcome:
    tenant_id: str
    first_day: str
    last_day: str
    store_ids: list[str]
    differences: list[Difference] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)
    figures: Counter[str] = field(default_factory=Counter)
    pending_events: int = 0

    @property
    def clean(self) -> bool:
        return not self.differences

    def as_dict(self, limit: int) -> dict[str, Any]:
        return {
            "from_day": self.first_day,
            "to_day": self.last_day,
            "store_ids": self.store_ids,
            "clean": self.clean,
            "checked": {name: self.checked[name] for name in CHECKED},
            "figures": {name: self.figures[name] for name in FIGURES},
            "pending_events": self.pending_events,
            "differences": [d.as_dict() for d in self.differences[:limit]],
            "differences_total": len(self.differences),
        }


CHECKED = ("sales", "refunds", "tickets", "shifts", "summaries", "months")
FIGURES = (
    "sales_count",
    "sales_taken",
    "fees",
    "exclusive_taxes",
    "tickets_value",
    "refunds_count",
    "refunds_amount",
    "tickets_refunded",
    "net_taken",
    "report_taken",
    "report_refunds",
    "shifts_closed",
    "shifts_sales_total",
    "shifts_refunds_total",
)


# ---- the period ---------------------------------------------------------------------------------


def parse_period(today: date, from_: str | None, to: str | None) -> tuple[date, date]:
    """Local days, both ends included; by default the 7 days ending today."""
    try:
        last = date.fromisoformat(to) if to else today
        first = date.fromisoformat(from_) if from_ else last - timedelta(days=6)
    except ValueError as exc:
        raise _bad("from" if from_ else "to", "Days are YYYY-MM-DD.") from exc
    if first > last:
        raise _bad("from", "from is after to.")
    if (last - first).days + 1 > MAX_DAYS:
        raise _bad("from", f"A reconciliation covers at most {MAX_DAYS} days.")
    return first, last


def _bad(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"loc": ["query", name], "msg": message}])


def day_window(day: date, tz: str) -> tuple[datetime, datetime]:
    """A local day as [start, end) in UTC (whole seconds: the embedded server compares range bounds
    to the second)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(UTC)
    return start, end


def _chunks(ids: Iterable[str], size: int = ID_BATCH) -> Iterable[list[str]]:
    ordered = sorted(set(ids))
    for at in range(0, len(ordered), size):
        yield ordered[at : at + size]


async def _by_ids(repo: ScopedRepository, ids: Iterable[str], projection: dict[str, Any]) -> list[Document]:
    """Documents whose `_id` is the domain id (sales, tickets), in batches of `_id: {$in}`, a few
    batches in flight (the server reads one while the last is decoded)."""
    chunks = list(_chunks(ids))
    found: list[Document] = []
    for at in range(0, len(chunks), IN_FLIGHT):
        batches = chunks[at : at + IN_FLIGHT]
        for docs in await asyncio.gather(
            *(repo.find_many({"_id": {"$in": chunk}}, projection=projection) for chunk in batches)
        ):
            found += docs
    return found


# ---- the records --------------------------------------------------------------------------------


class PeriodRecords(Records):
    """The period's raw records of the chosen stores, plus what the summaries of those days also
    depend on: the sales its refunds name, the tickets its sales, refunds and scans name, and for
    tickets sold in it their later uses and refunds. Replayed with the rebuild's `replay`."""

    def __init__(
        self,
        deps: Deps,
        tenant_id: str,
        zones: Mapping[str, str],
        chosen: Sequence[str],
        first: date,
        last: date,
    ) -> None:
        super().__init__(deps, tenant_id)
        self.zones = dict(zones)
        self.chosen = list(chosen)
        self.first, self.last = first, last
        self.sales: list[Document] = []
        self.refunds: list[Document] = []
        self.reprints: list[Document] = []
        self.redemptions: list[Document] = []
        self.shifts: list[Document] = []
        self.tickets: dict[str, Document] = {}
        self.written: dict[str, Document] = {}
        self.period_sales: list[Document] = []
        self.period_refunds: list[Document] = []

    async def gather(self) -> None:
        db, scope = self.deps.db, self.scope
        sales, refunds = SaleRepository(db, scope), RefundRepository(db, scope)
        reprints, scans, shifts = (
            ReprintRepository(db, scope),
            RedemptionRepository(db, scope),
            ShiftRepository(db, scope),
        )
        no_response = {"_id": 0, "response": 0}
        ends: dict[str, datetime] = {}
        for store_id in self.chosen:
            tz = self.tz(store_id)
            for day in rules.days_between(self.first, self.last):
                start, end = day_window(date.fromisoformat(day), tz)
                ends[store_id] = end
                span = {"$gte": start, "$lt": end}
                here = {"store_id": {"$eq": store_id}}
                found = await asyncio.gather(  # the server reads one while the last is decoded
                    sales.find_many({**here, "created_at": span}, projection=no_response),
                    refunds.find_many({**here, "created_at": span}, projection=no_response),
                    reprints.find_many({**here, "created_at": span}, projection=no_response),
                    scans.find_many({**here, "ts": span}),
                    shifts.find_many({**here, "open_at": span}),
                )
                for into, docs in zip(
                    (self.period_sales, self.period_refunds, self.reprints, self.redemptions, self.shifts),
                    found,
                    strict=True,
                ):
                    into += docs
        await self._reprints_after(reprints, ends)
        self.sales = list(self.period_sales)
        self.refunds = list(self.period_refunds)
        wanted: set[str] = set()
        for sale in self.sales:
            wanted.update(str(t) for t in sale.get("ticket_ids") or [])
        for refund in self.refunds:
            wanted.update(
                str(x["ticket_id"]) for x in [*(refund.get("lines") or []), *(refund.get("planned") or [])]
            )
        wanted.update(str(r["ticket_id"]) for r in self.redemptions if r.get("ticket_id"))
        self.tickets = {
            str(t["ticket_id"]): t for t in await _by_ids(TicketRepository(db, scope), wanted, {})
        }
        have = {str(s["sale_id"]) for s in self.sales}
        refunded_sales = {str(r["sale_id"]) for r in self.refunds} - have
        self.sales += await _by_ids(sales, refunded_sales, no_response)
        await self._cohort_after()
        await self._sale_context()
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
        self.written = await ProjectedEventRepository(db, scope).existing(unfinished)

    async def _sale_context(self) -> None:
        """What the rules judge a sale by besides its record, as the rebuild looks it up: its store's
        opening hours (as set now) and who approved its manual discount."""
        db, scope = self.deps.db, self.scope
        self.hours = {
            store_id: week_hours(
                (await settings.effective(self.deps, scope.tenant_id, store_id))["values"].get("hours")
            )
            for store_id in self.chosen
        }
        approvals = ApprovalRepository(db, scope)
        self.approvers = {}
        for approval_id in sorted(
            {str(s["discount_approval_id"]) for s in self.sales if s.get("discount_approval_id")}
        ):
            found = await approvals.find_one(
                {"approval_id": {"$eq": approval_id}}, {"_id": 0, "approval_id": 1, "approver_id": 1}
            )
            if found is not None:
                self.approvers[approval_id] = str(found.get("approver_id") or "")

    async def _reprints_after(self, repo: ReprintRepository, ends: Mapping[str, datetime]) -> None:
        """Reprints made after the period on a shift opened in it (they count on that shift)."""
        now = self.deps.clock.now()
        for store_id, end in ends.items():
            closes = [s.get("close_at") or now for s in self.shifts if s["store_id"] == store_id]
            latest = max(closes, default=end)
            if latest <= end:
                continue
            until = latest.replace(microsecond=0) + timedelta(seconds=1)
            found = await repo.find_many(
                {"store_id": {"$eq": store_id}, "created_at": {"$gte": end, "$lt": until}},
                projection={"_id": 0, "response": 0},
            )
            devices = {s["device_id"] for s in self.shifts if s["store_id"] == store_id}
            self.reprints += [r for r in found if r["device_id"] in devices]

    async def _cohort_after(self) -> None:
        """Tickets sold in the period count their uses and refunds whenever made: those made
        outside it are read by ticket (a ticket's `scans` notes each PASS it gave)."""
        db, scope = self.deps.db, self.scope
        sold = {str(s["sale_id"]) for s in self.period_sales}
        cohort = [t for t in self.tickets.values() if str(t.get("sale_id")) in sold]
        known_refunds = {str(r["refund_id"]) for r in self.refunds}
        refunds = RefundRepository(db, scope)
        for ticket in cohort:
            refund_id = ticket.get("refund_id")
            if refund_id and str(refund_id) not in known_refunds:
                found = await refunds.find_one({"refund_id": {"$eq": refund_id}}, {"_id": 0, "response": 0})
                if found is not None:
                    self.refunds.append(found)
                    known_refunds.add(str(refund_id))
        passes = Counter(
            str(r["ticket_id"]) for r in self.redemptions if rules.original_verdict(r)[0] == "pass"
        )
        seen = {str(r["redemption_id"]) for r in self.redemptions}
        scans = RedemptionRepository(db, scope)
        for ticket in cohort:
            if len(ticket.get("scans") or {}) <= passes[str(ticket["ticket_id"])]:
                continue
            for record in await scans.find_many({"ticket_id": {"$eq": ticket["ticket_id"]}}):
                if str(record["redemption_id"]) not in seen:
                    seen.add(str(record["redemption_id"]))
                    self.redemptions.append(record)


# ---- the checks ---------------------------------------------------------------------------------


def _sale_ref(sale: Mapping[str, Any]) -> Ref:
    return Ref("sale", str(sale["sale_id"]))


def check_sale(
    sale: Mapping[str, Any], tickets: Mapping[str, Mapping[str, Any]], tz: str
) -> list[Difference]:
    """A completed sale's figures from its lines, and its tickets' shares of them."""
    found: list[Difference] = []
    ref, store, day = _sale_ref(sale), str(sale["store_id"]), rules.local_day(sale["created_at"], tz)

    def off(
        check: str, name: str, expected: int, actual: int, message: str, records: Sequence[Ref] = ()
    ) -> None:
        if expected != actual:
            found.append(Difference(check, ref, name, expected, actual, message, store, day, (ref, *records)))

    lines: Sequence[Mapping[str, Any]] = sale.get("lines") or []
    discounts = [sum(int(d["amount"]) for d in line.get("discounts") or []) for line in lines]
    exclusive = sum(int(line["tax"]) for line in lines if not line.get("tax_inclusive", True))
    for n, (line, discount) in enumerate(zip(lines, discounts, strict=True)):
        off(
            "sale_totals",
            f"lines[{n}].net_total",
            int(line["base_total"]) - discount,
            int(line["net_total"]),
            "A line's net is its list value less its discounts.",
        )
    off(
        "sale_totals",
        "subtotal",
        sum(int(x["base_total"]) for x in lines),
        int(sale["subtotal"]),
        "The sale's subtotal is its lines' list value.",
    )
    off(
        "sale_totals",
        "discount_total",
        sum(discounts),
        int(sale["discount_total"]),
        "The sale's discounts are its lines'.",
    )
    off(
        "sale_totals",
        "tax_total",
        sum(int(x["tax"]) for x in lines),
        int(sale["tax_total"]),
        "The sale's taxes are its lines'.",
    )
    off(
        "sale_totals",
        "grand_total",
        int(sale["subtotal"]) - int(sale["discount_total"]) + exclusive,
        int(sale["grand_total"]),
        "The total is subtotal less discounts plus exclusive taxes.",
    )
    fee = int(sale.get("fee_total") or 0)
    off(
        "sale_totals",
        "amount_due",
        int(sale["grand_total"]) + fee,
        int(sale.get("amount_due", int(sale["grand_total"]) + fee)),
        "What was due is the total plus the payment fee.",
    )

    ids = [str(t) for t in sale.get("ticket_ids") or []]
    planned = {str(p["ticket_id"]): int(p["price"]) for p in sale.get("ticket_plan") or []}
    issued = [tickets[t] for t in ids if t in tickets]
    for ticket_id in ids:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            found.append(
                Difference(
                    "ticket_shares",
                    Ref("ticket", ticket_id),
                    "ticket",
                    "issued",
                    "missing",
                    "A ticket the sale issued is not stored.",
                    store,
                    day,
                    (ref, Ref("ticket", ticket_id)),
                )
            )
            continue
        if ticket_id in planned and int(ticket.get("price") or 0) != planned[ticket_id]:
            found.append(
                Difference(
                    "ticket_shares",
                    Ref("ticket", ticket_id),
                    "price",
                    planned[ticket_id],
                    int(ticket.get("price") or 0),
                    "A ticket's price is the share of its sale the sale planned for it.",
                    store,
                    day,
                    (ref, Ref("ticket", ticket_id)),
                )
            )
    if len(issued) == len(ids):
        off(
            "ticket_shares",
            "tickets_price",
            int(sale["grand_total"]) - exclusive,
            sum(int(t.get("price") or 0) for t in issued),
            "The sale's tickets carry its total less exclusive taxes.",
            [Ref("ticket", str(t["ticket_id"])) for t in issued],
        )
    return found


def check_refund(
    refund: Mapping[str, Any], tickets: Mapping[str, Mapping[str, Any]], tz: str
) -> list[Difference]:
    """A completed refund's amount is its lines'; each line's ticket was refunded by it, for that."""
    ref = Ref("refund", str(refund["refund_id"]))
    store, day = str(refund["store_id"]), rules.local_day(refund["created_at"], tz)
    sale = Ref("sale", str(refund["sale_id"]))
    lines: Sequence[Mapping[str, Any]] = refund.get("lines") or []
    found: list[Difference] = []
    total = sum(int(x["amount"]) for x in lines)
    if total != int(refund["amount"]):
        found.append(
            Difference(
                "refund_lines",
                ref,
                "amount",
                total,
                int(refund["amount"]),
                "A refund pays back its lines.",
                store,
                day,
                (ref, sale, *(Ref("ticket", str(x["ticket_id"])) for x in lines)),
            )
        )
    for line in lines:
        ticket_id = str(line["ticket_id"])
        behind = (ref, sale, Ref("ticket", ticket_id))
        ticket = tickets.get(ticket_id)
        if ticket is None:
            found.append(
                Difference(
                    "refund_lines",
                    Ref("ticket", ticket_id),
                    "ticket",
                    "refunded",
                    "missing",
                    "A refunded ticket is not stored.",
                    store,
                    day,
                    behind,
                )
            )
            continue
        checks: list[tuple[str, Any, Any, str]] = [
            (
                "refund_id",
                str(refund["refund_id"]),
                ticket.get("refund_id"),
                "The ticket names the refund that paid it back.",
            ),
            ("status", "refunded", ticket.get("status"), "A refunded ticket is marked refunded."),
            (
                "refunded_amount",
                int(line["amount"]),
                int(ticket.get("refunded_amount") or 0),
                "The ticket says what was paid back for it.",
            ),
        ]
        for name, expected, actual, message in checks:
            if expected != actual:
                found.append(
                    Difference(
                        "refund_lines",
                        Ref("ticket", ticket_id),
                        name,
                        expected,
                        actual,
                        message,
                        store,
                        day,
                        behind,
                    )
                )
        if int(line["amount"]) > int(ticket.get("price") or 0):
            found.append(
                Difference(
                    "refund_lines",
                    Ref("ticket", ticket_id),
                    "price",
                    int(line["amount"]),
                    int(ticket.get("price") or 0),
                    "No more is paid back for a ticket than it was sold for.",
                    store,
                    day,
                    behind,
                )
            )
    return found


def counted_movements(
    shift: Mapping[str, Any], movements: Sequence[Mapping[str, Any]]
) -> list[shift_math.Movement]:
    """The pay-ins and -outs the drawer counted: applied, or noted on the shift by the attempt that
    counted them (a request that died before marking its movement applied); a movement from before
    shifts kept counters has no status."""
    noted = shift.get("drawer_moves") or {}
    return [
        shift_math.Movement(str(m["kind"]), int(m["amount"]))
        for m in movements
        if "status" not in m or m["status"] == "applied" or str(m.get("movement_id")) in noted
    ]


def check_shift(
    shift: Mapping[str, Any],
    snapshots: Sequence[Mapping[str, Any]],
    sales: Sequence[Mapping[str, Any]],
    refunds: Sequence[Mapping[str, Any]],
    movements: Sequence[Mapping[str, Any]],
    tz: str,
) -> list[Difference]:
    """A closed shift's snapshots and frozen figures against the records on it."""
    shift_id = str(shift["shift_id"])
    ref, store, day = Ref("shift", shift_id), str(shift["store_id"]), rules.local_day(shift["open_at"], tz)
    found: list[Difference] = []
    behind_records = (
        ref,
        *(Ref("sale", str(s["sale_id"])) for s in sales),
        *(Ref("refund", str(r["refund_id"])) for r in refunds),
    )
    if not snapshots:
        if shift.get("finalized", True):
            found.append(
                Difference(
                    "shift_snapshot",
                    ref,
                    "snapshot",
                    "written",
                    "missing",
                    "A closed shift has its snapshot.",
                    store,
                    day,
                    (ref,),
                )
            )
        return found
    done = [r for r in refunds if r.get("status") == "completed"]
    figures = shift_math.totals(
        (
            shift_math.SaleFigure(
                str(s["payment_method"]), int(s["grand_total"]), int(s.get("fee_total") or 0)
            )
            for s in sales
        ),
        (shift_math.RefundFigure(str(r["method"]), int(r["amount"])) for r in done),
        counted_movements(shift, movements),
    )
    cash_open = int(shift.get("cash_open") or 0)
    latest = max(snapshots, key=lambda s: int(s["version"]))
    snap_ref = Ref("snapshot", f"{shift_id}#v{int(latest['version'])}")
    totals = latest.get("totals") or {}
    recorded: dict[str, int] = {name: int(getattr(figures, name)) for name in SHIFT_TOTALS}
    recorded |= {f"by_payment_type.{m}": int(v) for m, v in figures.by_payment_type.items()}
    for name, expected in recorded.items():
        group, _, method = name.partition(".")
        actual = int(((totals.get(group) or {}).get(method) if method else totals.get(name)) or 0)
        if expected != actual:
            found.append(
                Difference(
                    "shift_snapshot",
                    snap_ref,
                    f"totals.{name}",
                    expected,
                    actual,
                    "The shift's snapshot holds the sales, refunds and drawer movements recorded on it.",
                    store,
                    day,
                    (snap_ref, *behind_records),
                )
            )
    expected_cash = shift_math.expected_cash(cash_open, figures)
    if expected_cash != int(latest.get("cash_expected") or 0):
        found.append(
            Difference(
                "shift_snapshot",
                snap_ref,
                "cash_expected",
                expected_cash,
                int(latest.get("cash_expected") or 0),
                "The drawer holds the float plus cash sales less cash refunds plus pay-ins less pay-outs.",
                store,
                day,
                (snap_ref, *behind_records),
            )
        )
    for snapshot in snapshots:
        here = Ref("snapshot", f"{shift_id}#v{int(snapshot['version'])}")
        own = snapshot.get("totals") or {}
        own_figures = shift_math.ShiftTotals(
            cash_sales=int(own.get("cash_sales") or 0),
            cash_refunds=int(own.get("cash_refunds") or 0),
            pay_ins=int(own.get("pay_ins") or 0),
            pay_outs=int(own.get("pay_outs") or 0),
        )
        expected = shift_math.expected_cash(cash_open, own_figures)
        counted = int(snapshot.get("cash_counted") or 0)
        for name, want, got, message in (
            (
                "cash_expected",
                expected,
                int(snapshot.get("cash_expected") or 0),
                "A snapshot's expected cash follows from its own figures.",
            ),
            (
                "cash_diff",
                counted - int(snapshot.get("cash_expected") or 0),
                int(snapshot.get("cash_diff") or 0),
                "A snapshot's difference is counted less expected.",
            ),
        ):
            if want != got:
                found.append(
                    Difference("shift_snapshot", here, name, want, got, message, store, day, (here, ref))
                )
    for name in ("cash_counted", "cash_expected", "cash_diff"):
        snapped, shown = latest.get(name), shift.get(name)
        if int(snapped or 0) != int(shown or 0):
            found.append(
                Difference(
                    "shift_snapshot",
                    ref,
                    name,
                    int(snapped or 0),
                    int(shown or 0),
                    "The shift shows its latest snapshot's figures.",
                    store,
                    day,
                    (ref, snap_ref),
                )
            )
    frozen = shift.get("totals") or {}
    for name in SHIFT_TOTALS:
        if int(totals.get(name) or 0) != int(frozen.get(name) or 0):
            found.append(
                Difference(
                    "shift_snapshot",
                    ref,
                    f"totals.{name}",
                    int(totals.get(name) or 0),
                    int(frozen.get(name) or 0),
                    "The shift shows its latest snapshot's figures.",
                    store,
                    day,
                    (ref, snap_ref),
                )
            )
    if "drawer_seq" in shift:
        for kind in ("pay_in", "pay_out"):
            want = sum(m.amount for m in counted_movements(shift, movements) if m.kind == kind)
            got = int(shift.get(f"drawer_{kind}s") or 0)
            if want != got:
                found.append(
                    Difference(
                        "shift_snapshot",
                        ref,
                        f"drawer_{kind}s",
                        want,
                        got,
                        "The drawer's counter is the movements it counted.",
                        store,
                        day,
                        (
                            ref,
                            *(
                                Ref("movement", str(m.get("movement_id")))
                                for m in movements
                                if m["kind"] == kind
                            ),
                        ),
                    )
                )
    return found


def _is_figure(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _described(doc: Mapping[str, Any]) -> set[str]:
    family = str(doc.get("family", ""))
    return {
        name for name in doc if name not in SUMMARY_META and name not in rules.FAMILY_DIMS.get(family, ())
    }


def compare_summaries(
    made: Mapping[str, Mapping[str, Any]],
    stored: Mapping[str, Mapping[str, Any]],
    behind: Mapping[str, Sequence[Ref]],
    message: str = "The summary holds what its records make.",
) -> list[Difference]:
    """Each figure (and descriptive field) of each summary, as the records make it and as stored."""
    found: list[Difference] = []
    named: dict[str, tuple[Ref, ...]] = {}  # a summary's records, shared by its differences
    for summary_id in sorted(set(made) | set(stored)):
        mine, theirs = made.get(summary_id) or {}, stored.get(summary_id) or {}
        anyone = mine or theirs
        for name in sorted(_described(mine) | _described(theirs)):
            want, got = mine.get(name), theirs.get(name)
            if _is_figure(want) or _is_figure(got):
                if int(want or 0) == int(got or 0):
                    continue
                want, got = int(want or 0), int(got or 0)
            elif encode(want) == encode(got):
                continue
            else:
                want, got = _shown(want), _shown(got)
            ref = Ref("summary", summary_id)
            if summary_id not in named:
                named[summary_id] = (ref, *behind.get(summary_id, ()))
            found.append(
                Difference(
                    "summaries",
                    ref,
                    name,
                    want,
                    got,
                    message,
                    str(anyone.get("store_id") or "") or None,
                    str(anyone.get("day") or "") or None,
                    named[summary_id],
                )
            )
    return found


def _shown(value: Any) -> str | None:
    encoded = encode(value)
    return None if encoded is None else str(encoded)


def month_sums(
    tenant_id: str, days: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[Ref]]]:
    """The month documents a month's day documents add up to (the projection adds every day's change
    to its month's document alike), and which days feed each."""
    sums: dict[str, dict[str, Any]] = {}
    feeders: dict[str, list[Ref]] = defaultdict(list)
    for doc in days:
        family = str(doc["family"])
        dims = (
            () if doc.get("rollup") else tuple((n, str(doc.get(n) or "")) for n in rules.FAMILY_DIMS[family])
        )
        figures = {k: int(v) for k, v in doc.items() if k in _described(doc) and _is_figure(v)}
        change = rules.month_of(rules.Change(family, str(doc["store_id"]), str(doc["day"]), dims, figures))
        summary_id = change.summary_id(tenant_id)
        into = sums.setdefault(summary_id, {"family": family, "store_id": change.store_id, "day": change.day})
        for name, amount in change.inc.items():
            into[name] = int(into.get(name, 0)) + amount
        feeders[summary_id].append(Ref("summary", str(doc["_id"])))
    return sums, feeders


def fold_period(
    tenant_id: str,
    replayed: Iterable[Replayed],
    pending: set[str],
    wanted: Callable[[str, str], bool],
    visible: set[str],
) -> tuple[dict[str, Document], dict[str, list[Ref]]]:
    """The summaries the records make, as `rebuild.fold` folds them (a ticket's first PASS in the
    order of the replay; events still pending left to the projection), kept only for the documents
    `wanted(store_id, day)`, each with the records behind it (those of the `visible` stores)."""
    docs: dict[str, Document] = {}
    behind: dict[str, list[Ref]] = defaultdict(list)
    ids: dict[tuple[Any, ...], str] = {}
    seen_pass: set[str] = set()
    for item in replayed:
        if item.event_id in pending:
            continue
        facts = item.facts
        if item.type == "ticket.redeemed.pass" and facts.ticket is not None:
            ticket_id = facts.ticket.ticket_id
            facts = replace(facts, first_pass=ticket_id not in seen_pass)
            seen_pass.add(ticket_id)
        ref = _ref_of(item) if item.store_id in visible else None
        for change in rules.changes_for(item.type, item.store_id, item.data, facts):
            if not wanted(change.store_id, change.day):
                continue
            key = (change.family, change.store_id, change.day, change.dims)
            summary_id = ids.get(key)
            if summary_id is None:
                summary_id = ids[key] = change.summary_id(tenant_id)
            doc = docs.get(summary_id)
            if doc is None:
                doc = docs[summary_id] = dict(change.document_fields(tenant_id))
            else:
                doc.update(change.sets)
            for name, amount in change.inc.items():
                doc[name] = int(doc.get(name, 0)) + amount
            if ref is not None:
                behind[summary_id].append(ref)
    return docs, behind


def _ref_of(item: Replayed) -> Ref:
    kind = {
        "sale.created": "sale",
        "ticket.issued": "ticket",
        "refund.created": "refund",
        "reprint.created": "reprint",
        "shift.closed": "shift",
    }.get(item.type, "redemption")
    suffix = "." + item.type if kind != "redemption" else ".redeemed"
    return Ref(kind, item.event_id.removesuffix(suffix))


# ---- the run ------------------------------------------------------------------------------------


class Reconciler:
    """One tenant, some of its stores, a period of local days."""

    def __init__(
        self,
        deps: Deps,
        tenant_id: str,
        zones: Mapping[str, str],
        chosen: Sequence[str],
        first: date,
        last: date,
        *,
        visible: Iterable[str] | None = None,
    ) -> None:
        self.deps = deps
        self.tenant_id = tenant_id
        self.scope = Scope(tenant_id)
        self.zones = dict(zones)
        self.chosen = sorted(chosen)
        self.visible = set(visible) if visible is not None else set(zones)
        self.first, self.last = first, last
        self.outcome = Outcome(tenant_id, first.isoformat(), last.isoformat(), self.chosen)

    def tz(self, store_id: str) -> str:
        return self.zones.get(store_id, self.deps.settings.tz)

    async def run(self, *, wait_seconds: float) -> Outcome:
        turn = TenantPass(self.deps, self.tenant_id, f"reconcile-{new_id()}")
        state = await _hold(turn, wait_seconds)
        try:
            await turn.recover(state)
            for _ in range(DRAIN_PASSES):
                applied, _ = await turn.run(PROJECTION_BATCH)
                if not applied:
                    break
            records = PeriodRecords(self.deps, self.tenant_id, self.zones, self.chosen, self.first, self.last)
            await records.gather()
            await self._still_held(turn)
            self._check_records(records)
            await self._check_shifts(records)
            await self._still_held(turn)
            pending = await ProjectedEventRepository(self.deps.db, self.scope).pending_ids()
            self.outcome.pending_events = len(pending)
            await self._check_summaries(records, pending)
        finally:
            await turn.release()
        return self.outcome

    async def _still_held(self, turn: TenantPass) -> None:
        if not await turn.keep():
            raise InProgress(
                "The report projector took over while the check ran; run it again.",
                headers={"Retry-After": "5"},
            )

    def _check_records(self, records: PeriodRecords) -> None:
        out, figures = self.outcome, self.outcome.figures
        for sale in records.period_sales:
            if sale["status"] != "completed":
                continue
            out.checked["sales"] += 1
            out.differences += check_sale(sale, records.tickets, self.tz(str(sale["store_id"])))
            lines = sale.get("lines") or []
            fee = int(sale.get("fee_total") or 0)
            figures["sales_count"] += 1
            figures["sales_taken"] += int(sale["grand_total"]) + fee
            figures["fees"] += fee
            figures["exclusive_taxes"] += sum(
                int(x["tax"]) for x in lines if not x.get("tax_inclusive", True)
            )
            for ticket_id in sale.get("ticket_ids") or []:
                ticket = records.tickets.get(str(ticket_id))
                if ticket is not None:
                    out.checked["tickets"] += 1
                    figures["tickets_value"] += int(ticket.get("price") or 0)
        for refund in records.period_refunds:
            if refund["status"] != "completed":
                continue
            out.checked["refunds"] += 1
            out.differences += check_refund(refund, records.tickets, self.tz(str(refund["store_id"])))
            figures["refunds_count"] += 1
            figures["refunds_amount"] += int(refund["amount"])
            for line in refund.get("lines") or []:
                ticket = records.tickets.get(str(line["ticket_id"]))
                figures["tickets_refunded"] += int((ticket or {}).get("refunded_amount") or 0)
        figures["net_taken"] = figures["sales_taken"] - figures["refunds_amount"]

    async def _check_shifts(self, records: PeriodRecords) -> None:
        db, scope = self.deps.db, self.scope
        for shift in records.shifts:
            if shift["status"] != "closed":
                continue
            shift_id = {"shift_id": {"$eq": shift["shift_id"]}}
            snapshots = await SnapshotRepository(db, scope).find_many(shift_id)
            sales = await SaleRepository(db, scope).find_many(
                shift_id,
                projection={"_id": 0, "sale_id": 1, "payment_method": 1, "grand_total": 1, "fee_total": 1},
            )
            refunds = await RefundRepository(db, scope).find_many(
                shift_id, projection={"_id": 0, "refund_id": 1, "status": 1, "method": 1, "amount": 1}
            )
            movements = await MovementRepository(db, scope).find_many(shift_id)
            self.outcome.checked["shifts"] += 1
            self.outcome.differences += check_shift(
                shift, snapshots, sales, refunds, movements, self.tz(str(shift["store_id"]))
            )
            latest = max(snapshots, key=lambda s: int(s["version"]), default=None)
            if latest is not None:
                totals = latest.get("totals") or {}
                self.outcome.figures["shifts_closed"] += 1
                self.outcome.figures["shifts_sales_total"] += int(totals.get("sales_total") or 0)
                self.outcome.figures["shifts_refunds_total"] += int(totals.get("refunds_total") or 0)

    async def _check_summaries(self, records: PeriodRecords, pending: set[str]) -> None:
        first, last = self.first.isoformat(), self.last.isoformat()
        made, behind = fold_period(
            self.tenant_id,
            records.replay(),
            pending,
            lambda store_id, day: store_id in self.chosen and len(day) == 10 and first <= day <= last,
            self.visible,
        )
        summaries = SummaryRepository(self.deps.db, self.scope)
        stored: dict[str, Document] = {}
        for family in rules.FAMILY_DIMS:
            for rollup in (False, True):  # a family may keep rollups only
                for doc in await summaries.in_periods(family, self.chosen, first, last, rollup=rollup):
                    stored[str(doc["_id"])] = doc
        self.outcome.checked["summaries"] += len(set(made) | set(stored))
        self.outcome.differences += compare_summaries(made, stored, behind)
        for doc in stored.values():
            if doc.get("family") == "sales" and doc.get("rollup"):
                self.outcome.figures["report_taken"] += int(doc.get("taken") or 0)
                self.outcome.figures["report_refunds"] += int(doc.get("refunds") or 0)
        await self._check_months(summaries)

    async def _check_months(self, summaries: SummaryRepository) -> None:
        months = sorted({day[:7] for day in rules.days_between(self.first, self.last)})
        for month in months:
            start = date.fromisoformat(f"{month}-01")
            end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            for family in sorted(rules.FAMILY_DIMS):
                for rollup in (False, True):
                    if not rules.has_months(family, rollup):
                        continue
                    days = await summaries.in_periods(
                        family, self.chosen, start.isoformat(), end.isoformat(), rollup=rollup
                    )
                    kept = await summaries.in_periods(family, self.chosen, month, month, rollup=rollup)
                    sums, feeders = month_sums(self.tenant_id, days)
                    stored = {str(d["_id"]): d for d in kept}
                    self.outcome.checked["months"] += len(set(sums) | set(stored))
                    self.outcome.differences += compare_summaries(
                        sums, stored, feeders, "A month's summary adds up its days'."
                    )


async def _hold(turn: TenantPass, wait_seconds: float) -> Document:
    """The tenant's projector lease (its projector passes are short: wait for one to end)."""
    waited = 0.0
    while True:
        state = await turn.take()
        if state is not None:
            return state
        if waited >= wait_seconds:
            raise InProgress(
                "The report projector is busy with this tenant; run the check again shortly.",
                headers={"Retry-After": "5"},
            )
        await asyncio.sleep(0.25)
        waited += 0.25


async def reconcile(
    deps: Deps,
    tenant_id: str,
    zones: Mapping[str, str],
    chosen: Sequence[str],
    first: date,
    last: date,
    *,
    visible: Iterable[str] | None = None,
    wait_seconds: float = 10.0,
) -> Outcome:
    """Reconcile `chosen` stores of the tenant over the local days `first`..`last`. `zones`: the
    tenant's stores and their time zones; `visible`: the stores whose records may be named."""
    checker = Reconciler(deps, tenant_id, zones, chosen, first, last, visible=visible)
    return await checker.run(wait_seconds=wait_seconds)
