"""Which summary figures an event adds — pure: no I/O, no clock.

Reports read summary documents, never raw records. Each summary document belongs to one *family*
(sales, tickets, throughput…), one store and one local business day of that store, plus the
family's dimensions (device, employee, payment type, package, zone, reason…). A *rollup* is the
same family with no dimensions: one document per store and day, so a year of an unfiltered report
reads a few hundred documents.

`changes_for(event_type, data, facts)` turns one outbox event (its `data`, as `events/outbox.py`
wrote it) and the facts the projector looked up for it (the store's time zone, the ticket, the
scan's zone, whether this is the ticket's first PASS…) into `Change`s: figures to add (`inc`) and
descriptive fields to set (`sets`) on one summary document each. The projection applies them with
single-document conditional upserts; `boxoffice reports rebuild` folds the same changes, made from
raw records, in memory. Both use this module, so they cannot disagree on what an event is worth.

Two families serve pages other than the reports:

* `activity` (dims `entity_kind`, `entity_id`): the Fraud Watch's daily figures, one document per
  store, local day and employee or device — sales (`sales`, `sales_amount`), `reprints`,
  `refunds`/`refunds_amount`, `manual_discounts`/`manual_discounts_amount` (sales with a manual
  discount, and its size), `approvals`/`approvals_amount` (approvals an employee gave that paid for a
  refund, a reprint or a manual discount, and the money they covered), `scans`, `duplicate_use`
  (gate FAILs for duplicate use, online and offline) with `duplicate_use_offline`,
  `offline_conflicts` (offline PASSes the server could not stand, as the scan's event says), and
  `after_hours`/`after_hours_amount` (sales made outside the store's opening hours). Employees and
  devices with no id (a kiosk's sale has no cashier) get no document. After-hours is judged when the
  sale is counted, against the store's `hours` setting as it stands then (`Facts.hours`, looked up
  by the projector within seconds of the sale; a rebuild judges against the hours in force when it
  runs), on the store's wall clock at the sale's business time (an offline sale: when it was made).
  A manual discount's approver is not in `sale.created`: the projector reads it from the sale's
  approval (`Facts.approver`).
* `sales_hour` (no dims: one document per store and local day, bucket `…|sales_hour*|store|day`):
  completed sales by local hour of their business time, as fields `hHH_count`, `hHH_gross`
  (subtotal), `hHH_net` (after discounts) and `hHH_total` (what was charged before payment fees),
  HH = 00…23, only the hours that had a sale. A day of one store is one read (the dashboard's chart:
  today against the same weekday last week is two). Refunds are not in it.

Neither family keeps month documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from boxoffice.core.money import allocate
from boxoffice.fraud.rules import WeekHours, outside_hours
from boxoffice.sales.shift_math import shift_closed_data

__all__ = ["shift_closed_data"]  # a rebuild replays a closed shift with it

#: The dimensions each family's detail documents carry, in key order (views: `FAMILY_DIMS`).
_OWN_DIMS: dict[str, tuple[str, ...]] = {
    "sales": ("device_id", "employee_id", "payment_type"),
    "sales_pkg": ("device_id", "employee_id", "payment_type", "package_id"),
    "tickets": ("package_id", "expires"),
    "ticket_zones": ("package_id", "zone"),
    "throughput": ("device_id", "zone"),
    "refunds": ("device_id", "employee_id", "approver_id", "reason", "payment_type"),
    "reprints": ("device_id", "employee_id", "approver_id", "reason"),
    "shifts": ("shift_id", "device_id", "employee_id"),
    "activity": ("entity_kind", "entity_id"),
    "sales_hour": (),  # one document per store and day (a rollup only)
}
#: A family's views: its figures again, summed over every dimension but those named, so a report
#: grouped or filtered by one dimension reads a handful of documents a day instead of every
#: combination of the others. `()` is the family's rollup (bucket `<family>*`); a view by one
#: dimension is a family of its own, `<family>~<dimension>`. Views of tickets keep the figures
#: that decide "expired unused" per expiry day (`issued_x20261205`…), views of shifts their
#: figures but not what a shift is (its times). Made in `changes_for`, for every detail change.
VIEWS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sales": (("device_id",), ("employee_id",), ("payment_type",)),
    "sales_pkg": (("package_id",),),
    "tickets": ((), ("package_id",)),
    "shifts": ((), ("device_id",), ("employee_id",)),
}
#: The dimensions of every family's detail documents, the views' families (one dimension) included.
FAMILY_DIMS: dict[str, tuple[str, ...]] = {
    **_OWN_DIMS,
    **{f"{family}~{keep[0]}": keep for family, views in VIEWS.items() for keep in views if keep},
}
#: Families that also keep a rollup (one document per store and day, no dimensions).
ROLLUP_FAMILIES = frozenset({"sales", "throughput", "refunds", "reprints", "tickets", "shifts"})
#: Families whose figures are also kept per month (shifts are listed one by one: only their views
#: and rollup keep months).
MONTH_FAMILIES = frozenset(FAMILY_DIMS) - {"shifts", "activity", "sales_hour"}


def view_family(family: str, keep: tuple[str, ...]) -> str:
    """The family a view's documents belong to (a rollup stays in its own family)."""
    return f"{family}~{keep[0]}" if keep else family


def has_months(family: str, rollup: bool) -> bool:
    """Whether a family's detail documents (or its rollups) are also kept per month."""
    return family in MONTH_FAMILIES or (rollup and family in ROLLUP_FAMILIES)


def keeps_months(change: Change) -> bool:
    return has_months(change.family, change.rollup)


#: Event types the projection reads; every other type is passed over.
PROJECTED_TYPES = frozenset(
    {
        "sale.created",
        "ticket.issued",
        "ticket.redeemed.pass",
        "ticket.redeemed.fail",
        "refund.created",
        "reprint.created",
        "shift.closed",
        "shift.count_corrected",
    }
)
HOURS = tuple(f"{h:02d}" for h in range(24))


def local_day(at: datetime, tz: str) -> str:
    """The store's business day of an instant (YYYY-MM-DD)."""
    return at.astimezone(ZoneInfo(tz)).date().isoformat()


def local_hour(at: datetime, tz: str) -> str:
    return f"{at.astimezone(ZoneInfo(tz)).hour:02d}"


def last_valid_day(valid_to: datetime, tz: str) -> str:
    """The last local day a ticket can be used: `valid_to` is exclusive (midnight after it)."""
    return local_day(valid_to - timedelta(microseconds=1), tz)


def days_between(first: date, last: date) -> list[str]:
    """Every day from `first` to `last`, both included."""
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def split_range(first: date, last: date) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """A range of days as the day spans at its ends and the whole months between them:
    ([(first_day, last_day)…], (first_month, last_month) or None)."""
    start = first if first.day == 1 else _next_month(first)
    end_next = _next_month(last) if _next_month(last) - timedelta(days=1) == last else last.replace(day=1)
    if start >= end_next:  # no whole month inside
        return [(first.isoformat(), last.isoformat())], None
    days = []
    if first < start:
        days.append((first.isoformat(), (start - timedelta(days=1)).isoformat()))
    if end_next <= last:
        days.append((end_next.isoformat(), last.isoformat()))
    months = (start.isoformat()[:7], (end_next - timedelta(days=1)).isoformat()[:7])
    return days, months


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def in_period(period: str, first_day: str | None, last_day: str | None) -> bool:
    """Whether a summary's period (a day, or a month) is one a rebuild of these days rewrites: its
    days, and every month they touch (month documents are recomputed whole)."""
    if len(period) == 7:
        return (first_day is None or period >= first_day[:7]) and (last_day is None or period <= last_day[:7])
    return (first_day is None or period >= first_day) and (last_day is None or period <= last_day)


def field_token(value: str) -> str:
    """A reason code as part of a field name (letters, digits and `_` only)."""
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in value.lower()) or "none"


# ---- keys ---------------------------------------------------------------------------------------


def bucket(tenant_id: str, family: str, store_id: str, period: str, *, rollup: bool = False) -> str:
    """The indexed key reads use: every summary document of one family, store and period — a day
    (YYYY-MM-DD) or a month (YYYY-MM). Detail documents, rollups and month documents each have their
    own buckets, so a range over one store's days never meets its months."""
    name = family + ("*" if rollup else "") + ("@m" if len(period) == 7 else "")
    return "|".join((tenant_id, name, quote(store_id, safe=""), period))


@dataclass(frozen=True)
class Change:
    """Figures to add to (and fields to set on) one summary document."""

    family: str
    store_id: str
    day: str
    dims: tuple[tuple[str, str], ...] = ()  # () is the family's rollup
    inc: Mapping[str, int] = field(default_factory=dict)
    sets: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rollup(self) -> bool:
        return not self.dims

    def summary_id(self, tenant_id: str) -> str:
        head = bucket(tenant_id, self.family, self.store_id, self.day, rollup=self.rollup)
        return "|".join([head, *(f"{name}={quote(value, safe='')}" for name, value in self.dims)])

    def document_fields(self, tenant_id: str) -> dict[str, Any]:
        """What the summary document says about itself (set on every write, never counted)."""
        return {
            "tenant_id": tenant_id,
            "family": self.family,
            "store_id": self.store_id,
            "day": self.day,  # the period: a day, or a month for a month document
            "month": self.day[:7],
            "rollup": self.rollup,
            "bucket": bucket(tenant_id, self.family, self.store_id, self.day, rollup=self.rollup),
            **dict(self.dims),
            **self.sets,
        }


def _dims(family: str, **values: str | None) -> tuple[tuple[str, str], ...]:
    names = FAMILY_DIMS[family]
    assert set(values) == set(names), (family, sorted(values))
    return tuple((name, str(values[name] or "")) for name in names)


def _with_rollup(
    family: str, store_id: str, day: str, dims: tuple[tuple[str, str], ...], inc: Mapping[str, int]
) -> list[Change]:
    detail = Change(family, store_id, day, dims, dict(inc))
    return [detail, Change(family, store_id, day, (), dict(inc))] if family in ROLLUP_FAMILIES else [detail]


def merge(changes: Iterable[Change]) -> list[Change]:
    """One change per summary document (an event may touch one document twice, e.g. a refund of two
    tickets of the same package and day); first-seen order is kept."""
    merged: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], Change] = {}
    for change in changes:
        key = (change.family, change.store_id, change.day, change.dims)
        seen = merged.get(key)
        if seen is None:
            merged[key] = change
            continue
        inc = dict(seen.inc)
        for name, amount in change.inc.items():
            inc[name] = inc.get(name, 0) + amount
        merged[key] = Change(
            change.family, change.store_id, change.day, change.dims, inc, {**seen.sets, **change.sets}
        )
    return list(merged.values())


# ---- facts the projector looks up ---------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    ticket_id: str
    store_id: str  # where it was sold
    package_id: str
    issued_at: datetime  # business time of its sale
    valid_to: datetime


@dataclass(frozen=True)
class RefundLineFacts:
    ticket: TicketFacts
    amount: int
    sold_package_id: str  # the sale line it came from (a bundle's, for a bundle's component)
    unused: bool  # no use had been made of it when it was refunded


@dataclass(frozen=True)
class ShiftFacts:
    shift_id: str
    device_id: str
    opened_by: str
    open_at: datetime
    closed_by: str = ""
    close_at: datetime | None = None


@dataclass(frozen=True)
class Facts:
    tz: str
    zone: str = ""  # a scan's zone ("" when the gate named none)
    ticket: TicketFacts | None = None  # a scan's ticket
    first_pass: bool = False  # this PASS is the first its ticket counts
    refund_lines: tuple[RefundLineFacts, ...] = ()
    shift: ShiftFacts | None = None  # a reprint's shift (if one was open), a closed shift
    hours: WeekHours | None = None  # a sale's store's opening hours (None: not judged)
    approver: str = ""  # who approved a sale's manual discount ("" when nobody had to)


def sold_package_of(package_id: str, sale_lines: Sequence[Mapping[str, Any]]) -> str:
    """The sale line a ticket of `package_id` came from: its own line, else the bundle whose
    component it is (a bundle's tickets are its components')."""
    if any(line["package_id"] == package_id and not line.get("bundle_shares") for line in sale_lines):
        return package_id
    for line in sale_lines:
        if any(share["package_id"] == package_id for share in line.get("bundle_shares") or []):
            return str(line["package_id"])
    return package_id


def refund_line_facts(
    lines: Sequence[Mapping[str, Any]],
    tickets: Mapping[str, Mapping[str, Any]],
    sale_lines: Sequence[Mapping[str, Any]],
    planned: Sequence[Mapping[str, Any]],
) -> tuple[RefundLineFacts, ...]:
    """A refund's lines with their tickets, the sale line each came from, and whether the ticket
    was unused when the refund was worked out (`planned[].used_seen`)."""
    used_seen = {str(p["ticket_id"]): int(p.get("used_seen") or 0) for p in planned}
    facts = []
    for line in lines:
        ticket = tickets.get(str(line["ticket_id"]))
        if ticket is None:
            continue
        known = ticket_facts(ticket)
        facts.append(
            RefundLineFacts(
                known,
                int(line["amount"]),
                sold_package_of(known.package_id, sale_lines),
                used_seen.get(known.ticket_id, 0) == 0,
            )
        )
    return tuple(facts)


def shift_covering(shifts: Iterable[Mapping[str, Any]], device_id: str, at: datetime) -> ShiftFacts | None:
    """The device's shift that was open at `at` (the latest opened before it, not closed before it)."""
    best: Mapping[str, Any] | None = None
    for shift in shifts:
        if shift.get("device_id") != device_id or shift["open_at"] > at:
            continue
        closed = shift.get("close_at")
        if closed is not None and closed < at:
            continue
        if best is None or shift["open_at"] > best["open_at"]:
            best = shift
    return shift_facts(best) if best is not None else None


def shift_facts(shift: Mapping[str, Any]) -> ShiftFacts:
    return ShiftFacts(
        str(shift["shift_id"]),
        str(shift["device_id"]),
        str(shift.get("opened_by") or ""),
        shift["open_at"],
        str(shift.get("closed_by") or ""),
        shift.get("close_at"),
    )


def original_verdict(record: Mapping[str, Any]) -> tuple[str, str | None]:
    """A scan's verdict as it was given (and emitted): a PASS that a later, earlier-made offline PASS
    displaced was turned into FAIL `duplicate_use` afterwards, without an event."""
    if (record.get("metadata") or {}).get("displaced_by"):
        return "pass", None
    return str(record["result"]), record.get("reason")


# ---- the rules ----------------------------------------------------------------------------------


def changes_for(event_type: str, store_id: str, data: Mapping[str, Any], facts: Facts) -> list[Change]:
    """What one event (its type, the store it names, its data) adds to the summaries, merged: one
    change per summary document. Every day's figures are also added to the month's document (a year
    reads twelve of those per store instead of 365 days)."""
    rule = _RULES.get(event_type)
    if rule is None:
        return []
    changes = merge(rule(data, facts, store_id))
    changes = merge([*changes, *(view for c in changes for view in views_of(c))])
    return merge([*changes, *(month_of(c) for c in changes if keeps_months(c))])


def views_of(change: Change) -> list[Change]:
    """A detail change again in each view of its family (see VIEWS)."""
    if not change.dims or change.family not in VIEWS:
        return []
    dims = dict(change.dims)
    inc = dict(change.inc)
    if change.family == "tickets":  # the expiry dimension goes: its day moves into the names
        expires = dims["expires"].replace("-", "")
        inc |= {f"{name}_x{expires}": inc[name] for name in EXPIRY_FIGURES if name in inc}
    return [
        Change(
            view_family(change.family, keep),
            change.store_id,
            change.day,
            tuple((k, dims[k]) for k in keep),
            inc,
        )
        for keep in VIEWS[change.family]
    ]


#: Ticket cohort figures that decide "expired unused": a month document keeps them per expiry day.
EXPIRY_FIGURES = ("issued", "redeemed", "refunded_unused")


def month_of(change: Change) -> Change:
    """A day's change as its month document's. A ticket cohort's month document is keyed by the
    month its tickets expire, and keeps the figures that tell expired-unused tickets per expiry day
    (`issued_e14`…), so a month holds a handful of documents rather than one per expiry day."""
    if change.family != "tickets" or change.rollup:
        return Change(change.family, change.store_id, change.day[:7], change.dims, change.inc, change.sets)
    dims = dict(change.dims)
    expires = dims["expires"]
    inc = dict(change.inc)
    for name in EXPIRY_FIGURES:
        if name in change.inc:
            inc[f"{name}_e{expires[8:]}"] = change.inc[name]
    dims["expires"] = expires[:7]
    return Change("tickets", change.store_id, change.day[:7], tuple(dims.items()), inc, change.sets)


def _sale_created(data: Mapping[str, Any], facts: Facts, _: str) -> list[Change]:
    sale = data["sale"]
    store, day = str(sale["store_id"]), local_day(sale["created_at"], facts.tz)
    who = {
        "device_id": sale["device_id"],
        "employee_id": sale.get("issued_by"),
        "payment_type": sale["payment_method"],
    }
    fee = int(sale.get("fee_total") or 0)
    figures = {
        "count": 1,
        "gross": int(sale["subtotal"]),
        "discounts": int(sale["discount_total"]),
        "net": int(sale["subtotal"]) - int(sale["discount_total"]),
        "taxes": int(sale["tax_total"]),
        "total": int(sale["grand_total"]),
        "fees": fee,
        "taken": int(sale["grand_total"]) + fee,
    }
    changes = _with_rollup("sales", store, day, _dims("sales", **who), figures)
    changes.append(_sales_hour(store, day, local_hour(sale["created_at"], facts.tz), figures))
    changes += _sale_activity(sale, store, day, facts)
    lines: Sequence[Mapping[str, Any]] = sale.get("lines") or []
    fee_parts = allocate(fee, [max(0, int(line["net_total"])) for line in lines]) if fee else [0] * len(lines)
    for line, fee_part in zip(lines, fee_parts, strict=True):
        discounts = sum(int(d["amount"]) for d in line.get("discounts") or [])
        total = int(line["net_total"]) + (0 if line.get("tax_inclusive", True) else int(line["tax"]))
        changes.append(
            Change(
                "sales_pkg",
                store,
                day,
                _dims("sales_pkg", package_id=line["package_id"], **who),
                {
                    "count": 1,
                    "qty": int(line["qty"]),
                    "gross": int(line["base_total"]),
                    "discounts": discounts,
                    "net": int(line["net_total"]),
                    "taxes": int(line["tax"]),
                    "total": total,
                    "fees": fee_part,
                    "taken": total + fee_part,
                },
            )
        )
    return changes


def _sales_hour(store_id: str, day: str, hour: str, figures: Mapping[str, int]) -> Change:
    inc = {f"h{hour}_{name}": figures[name] for name in ("count", "gross", "net", "total")}
    return Change("sales_hour", store_id, day, (), inc)


def _activity(store_id: str, day: str, kind: str, entity_id: Any, inc: Mapping[str, int]) -> list[Change]:
    """One employee's or device's figures of the day (none for an entity without an id)."""
    if not entity_id:
        return []
    dims = _dims("activity", entity_kind=kind, entity_id=str(entity_id))
    return [Change("activity", store_id, day, dims, dict(inc))]


def _staff_and_device(
    store_id: str, day: str, device_id: Any, staff_id: Any, inc: Mapping[str, int]
) -> list[Change]:
    """The figures on the device and on the employee who acted on it (a kiosk acts as itself: its
    id in the record's staff field is no employee's)."""
    changes = _activity(store_id, day, "device", device_id, inc)
    if staff_id != device_id:
        changes += _activity(store_id, day, "employee", staff_id, inc)
    return changes


def manual_discount_of(lines: Sequence[Mapping[str, Any]]) -> int:
    """What a sale's manual discount took off, over its lines."""
    return sum(
        int(d["amount"]) for line in lines for d in line.get("discounts") or [] if d.get("kind") == "manual"
    )


def _sale_activity(sale: Mapping[str, Any], store: str, day: str, facts: Facts) -> list[Change]:
    total = int(sale["grand_total"])
    inc = {"sales": 1, "sales_amount": total}
    manual = manual_discount_of(sale.get("lines") or [])
    if manual:
        inc.update(manual_discounts=1, manual_discounts_amount=manual)
    if facts.hours is not None and outside_hours(sale["created_at"], facts.tz, facts.hours):
        inc.update(after_hours=1, after_hours_amount=total)
    changes = _staff_and_device(store, day, sale["device_id"], sale.get("issued_by"), inc)
    if manual:
        changes += _activity(
            store, day, "employee", facts.approver, {"approvals": 1, "approvals_amount": manual}
        )
    return changes


def ticket_facts(ticket: Mapping[str, Any]) -> TicketFacts:
    """From a ticket document or view."""
    return TicketFacts(
        str(ticket["ticket_id"]),
        str(ticket["store_id"]),
        str(ticket["package_id"]),
        ticket["created_at"],
        ticket["valid_to"],
    )


def _cohort(ticket: TicketFacts, tz: str, inc: Mapping[str, int]) -> Change:
    """A ticket's figures count where it was issued: its store, its sale's day, its package and the
    last day it can be used (so expired-unused tickets can be told at read time)."""
    dims = _dims("tickets", package_id=ticket.package_id, expires=last_valid_day(ticket.valid_to, tz))
    return Change("tickets", ticket.store_id, local_day(ticket.issued_at, tz), dims, dict(inc))


def _ticket_issued(data: Mapping[str, Any], facts: Facts, _: str) -> list[Change]:
    ticket = data["ticket"]
    return [_cohort(ticket_facts(ticket), facts.tz, {"issued": 1, "value": int(ticket.get("price") or 0)})]


def _redeemed(data: Mapping[str, Any], facts: Facts, store_id: str) -> list[Change]:
    scan = data["redemption"]
    at: datetime = scan["ts"]
    day, hour = local_day(at, facts.tz), local_hour(at, facts.tz)
    passed = scan["result"] == "pass"
    inc = {"scans": 1, "passes": int(passed), "fails": int(not passed), f"h{hour}_scans": 1}
    if passed:
        inc[f"h{hour}_passes"] = 1
    else:
        inc[f"fr_{field_token(str(scan.get('reason') or 'unknown'))}"] = 1
    changes = _with_rollup(
        "throughput", store_id, day, _dims("throughput", device_id=scan["device_id"], zone=facts.zone), inc
    )
    offline = bool(data.get("offline"))
    gate = {"scans": 1}
    if not passed and scan.get("reason") == "duplicate_use":
        gate.update(duplicate_use=1, duplicate_use_offline=int(offline))
    if data.get("offline_conflict"):
        gate["offline_conflicts"] = 1
    changes += _activity(store_id, day, "device", scan["device_id"], gate)
    if passed and facts.ticket is not None:
        ticket = facts.ticket
        changes.append(_cohort(ticket, facts.tz, {"uses": 1, "redeemed": int(facts.first_pass)}))
        zone_dims = _dims("ticket_zones", package_id=ticket.package_id, zone=facts.zone)
        changes.append(Change("ticket_zones", store_id, day, zone_dims, {"uses": 1}))
    return changes


def _refund_created(data: Mapping[str, Any], facts: Facts, _: str) -> list[Change]:
    refund = data["refund"]
    store, day = str(refund["store_id"]), local_day(refund["created_at"], facts.tz)
    amount = int(refund["amount"])
    by = {
        "device_id": refund["device_id"],
        "employee_id": refund.get("refunded_by"),
        "payment_type": refund["method"],
    }
    changes = _with_rollup("sales", store, day, _dims("sales", **by), {"refund_count": 1, "refunds": amount})
    dims = _dims(
        "refunds",
        approver_id=refund.get("approver_id"),
        reason=refund.get("reason_code"),
        **by,
    )
    changes += _with_rollup(
        "refunds", store, day, dims, {"count": 1, "tickets": len(refund["lines"]), "amount": amount}
    )
    mine = {"refunds": 1, "refunds_amount": amount}
    changes += _staff_and_device(store, day, refund["device_id"], refund.get("refunded_by"), mine)
    changes += _activity(
        store, day, "employee", refund.get("approver_id"), {"approvals": 1, "approvals_amount": amount}
    )
    by_package: dict[str, int] = {}
    for line in facts.refund_lines:
        by_package[line.sold_package_id] = by_package.get(line.sold_package_id, 0) + line.amount
        changes.append(_cohort(line.ticket, facts.tz, {"refunded": 1, "refunded_unused": int(line.unused)}))
    for package_id, part in sorted(by_package.items()):
        dims = _dims("sales_pkg", package_id=package_id, **by)
        changes.append(Change("sales_pkg", store, day, dims, {"refund_count": 1, "refunds": part}))
    return changes


def _reprint_created(data: Mapping[str, Any], facts: Facts, _: str) -> list[Change]:
    reprint = data["reprint"]
    store = str(reprint["store_id"])
    dims = _dims(
        "reprints",
        device_id=reprint["device_id"],
        employee_id=reprint.get("printed_by"),
        approver_id=reprint.get("approver_id"),
        reason=reprint.get("reason_code"),
    )
    day = local_day(reprint["created_at"], facts.tz)
    changes = _with_rollup("reprints", store, day, dims, {"count": 1})
    changes += _staff_and_device(store, day, reprint["device_id"], reprint.get("printed_by"), {"reprints": 1})
    changes += _activity(store, day, "employee", reprint.get("approver_id"), {"approvals": 1})
    if facts.shift is not None:
        shift = facts.shift  # counted on the shift, open or closed (an open one's row shows it)
        changes.append(_shift_change(store, shift, facts.tz, {"reprints": 1}, open_at=shift.open_at))
    return changes


def _shift_change(store_id: str, shift: ShiftFacts, tz: str, inc: Mapping[str, int], **sets: Any) -> Change:
    dims = _dims("shifts", shift_id=shift.shift_id, device_id=shift.device_id, employee_id=shift.opened_by)
    return Change("shifts", store_id, local_day(shift.open_at, tz), dims, dict(inc), sets)


#: A closed shift's figures, as the shifts report shows them (summed over shifts when grouped).
SHIFT_FIGURES = (
    "cash_open",
    "cash_sales",
    "cash_refunds",
    "pay_ins",
    "pay_outs",
    "cash_expected",
    "cash_counted",
    "cash_diff",
    "sales_count",
    "sales_total",
    "refunds_total",
)


def shift_figures(data: Mapping[str, Any]) -> dict[str, int]:
    """A shift's figures from its close (or correction) event's data."""
    totals = data.get("totals") or {}
    figures = {name: int(totals.get(name) or 0) for name in SHIFT_FIGURES}
    for name in ("cash_open", "cash_expected", "cash_counted", "cash_diff"):
        figures[name] = int(data.get(name) or 0)
    return figures


def _shift_closed(data: Mapping[str, Any], facts: Facts, store_id: str) -> list[Change]:
    """A closed shift's figures go on its own document (one row of the report) and on the rollups
    by device, by employee and by store and day, so a year of shifts grouped reads a few hundred
    documents."""
    shift = facts.shift
    if shift is None:
        return []
    sets = {"open_at": shift.open_at, "close_at": shift.close_at, "closed_by": shift.closed_by}
    return [_shift_change(store_id, shift, facts.tz, {"closes": 1, **shift_figures(data)}, **sets)]


def _shift_count_corrected(data: Mapping[str, Any], facts: Facts, store_id: str) -> list[Change]:
    """A corrected count moves the shift's figures from what they were to what they are now."""
    shift = facts.shift
    if shift is None:
        return []
    before, after = shift_figures(data["before"]), shift_figures(data["after"])
    inc = {name: after[name] - before[name] for name in SHIFT_FIGURES if after[name] != before[name]}
    return [_shift_change(store_id, shift, facts.tz, inc)] if inc else []


Rule = Callable[[Mapping[str, Any], Facts, str], list[Change]]
_RULES: dict[str, Rule] = {
    "sale.created": _sale_created,
    "ticket.issued": _ticket_issued,
    "ticket.redeemed.pass": _redeemed,
    "ticket.redeemed.fail": _redeemed,
    "refund.created": _refund_created,
    "reprint.created": _reprint_created,
    "shift.closed": _shift_closed,
    "shift.count_corrected": _shift_count_corrected,
}


# ---- reading: expired unused --------------------------------------------------------------------


def expired_unused(doc: Mapping[str, Any], today: str) -> int:
    """Of a ticket cohort, those whose last valid day is past and were neither used nor refunded
    unused (a month document: per expiry day; a view: per expiry day, by its full date)."""
    if "expires" not in doc:
        cutoff = today.replace("-", "")
        days = {name[-8:] for name in doc if name.startswith("issued_x")}
        return sum(_left(doc, f"_x{day}") for day in days if day < cutoff)
    expires = str(doc.get("expires", ""))
    if len(expires) == 7:
        return sum(_left(doc, f"_e{day[8:]}") for day in _month_days(expires) if day < today)
    return _left(doc, "") if expires < today else 0


def _left(doc: Mapping[str, Any], suffix: str) -> int:
    issued, redeemed, refunded = (int(doc.get(name + suffix) or 0) for name in EXPIRY_FIGURES)
    return max(0, issued - redeemed - refunded)


def _month_days(month: str) -> list[str]:
    first = date.fromisoformat(f"{month}-01")
    return days_between(first, _next_month(first) - timedelta(days=1))
