"""Sales: price with the one engine, take payment, issue signed tickets — exactly once per key.

Write discipline (no transactions): the sale is inserted first, pending, keyed by its
Idempotency-Key and carrying the tickets it will issue (ids, codes, tokens, prices); then the
tickets are inserted (duplicates ignored), the gate journal noted and the events written; then the
sale is marked complete with the response it answered, together with its audit entry. A retry with
the same key and body replays that response; a retry after a crash (the lease ran out) finishes
the same plan, so nothing is issued twice.

A new sale sends all that in two ordered writes (`core/writes.write_in_order`: one round trip
each on MongoDB 8 and the embedded server), plus the audit entry's number.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.errors import BulkWriteError

from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.catalog import service as catalog
from boxoffice.catalog.schemas import QuoteRequest
from boxoffice.core import ratelimit
from boxoffice.core.db import C, Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import (
    Conflict,
    IdempotencyMismatch,
    InProgress,
    NoOpenShift,
    PermissionDenied,
    TooLarge,
    ValidationFailed,
)
from boxoffice.core.idempotency import fingerprint, raise_if_running, scoped_key
from boxoffice.core.ids import new_id
from boxoffice.core.money import allocate
from boxoffice.core.repository import Scope, stale_pending_unscoped
from boxoffice.core.writes import Insert, Update, write_in_order
from boxoffice.events import outbox
from boxoffice.sales.repository import SaleRepository, ShiftRepository
from boxoffice.sales.schemas import SaleCreate
from boxoffice.staff.service import consume_approval
from boxoffice.tickets import changes
from boxoffice.tickets.changes import GateListRepository
from boxoffice.tickets.issuance import ticket_documents, ticket_view
from boxoffice.tickets.keys import KeyRing
from boxoffice.tickets.qr import new_short_code, sign
from boxoffice.tickets.repository import TicketRepository

LEASE = timedelta(seconds=30)


def _valid_until(validity: dict[str, Any], sold_at: datetime, tz: str) -> tuple[datetime, datetime]:
    """Days after sale count whole local days: 1 day = until midnight at the store, today."""
    if validity.get("kind") == "fixed":
        return validity["valid_from"], validity["valid_to"]
    local_day = sold_at.astimezone(ZoneInfo(tz)).date() + timedelta(days=int(validity.get("days", 1)))
    return sold_at, datetime.combine(local_day, time.min, ZoneInfo(tz))


def _plan_tickets(
    quote: dict[str, Any], packages: dict[str, Document], sold_at: datetime, tz: str, ring: KeyRing
) -> list[dict[str, Any]]:
    """One ticket per unit (a bundle: one per component unit), each with its share of the money."""
    plan: list[dict[str, Any]] = []

    def add(package: Document, price: int) -> None:
        ticket_id = new_id()
        valid_from, valid_to = _valid_until(package.get("validity") or {}, sold_at, tz)
        plan.append(
            {
                "ticket_id": ticket_id,
                "package_id": package["package_id"],
                "name": package["name"],
                "type": package["type"],
                "quota_or_minutes": package.get("quota_or_minutes"),
                "zones": list(package.get("zones") or []),
                "allowed_devices": list(package.get("allowed_devices") or []),
                "price": price,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "short_code": new_short_code(),
                "qr_token": sign(ring.current_id, ring.current_secret, ticket_id),
            }
        )

    for line in quote["lines"]:
        package = packages[line["package_id"]]
        if line["bundle_shares"]:
            for share in line["bundle_shares"]:
                for part in allocate(share["amount"], [1] * share["qty"]):
                    add(packages[share["package_id"]], part)
        else:
            for part in allocate(line["net_total"], [1] * line["qty"]):
                add(package, part)
    return plan


async def _shift_for_sale(
    deps: Deps, principal: Principal, device: Document, features: dict[str, Any]
) -> str | None:
    shift = await ShiftRepository(deps.db, Scope(principal.tenant_id)).open_for(device["device_id"])
    if shift is None and device["type"] == "POS" and features["require_open_shift"]:
        raise NoOpenShift("Open a shift on this POS before selling.")
    return str(shift["shift_id"]) if shift else None


def _payment(body: SaleCreate, amount_due: int) -> tuple[int, int]:
    if body.payment_method != "cash":
        return amount_due, 0
    if body.amount_tendered is None or body.amount_tendered < amount_due:
        raise ValidationFailed(
            "Cash tendered must cover the total.",
            details=[{"loc": ["body", "amount_tendered"], "msg": f"at least {amount_due} satang"}],
        )
    return body.amount_tendered, body.amount_tendered - amount_due


def _check_seller(device: Document, features: dict[str, Any]) -> None:
    """A kiosk sells as itself only while the store's kiosk feature is on (a POS sells through the
    cashier signed in on it: the route guard sees to that)."""
    if device["type"] == "KIOSK" and not features["kiosk"]:
        raise PermissionDenied("Kiosk sales are turned off at this store.")


def tickets_in(quote: dict[str, Any]) -> int:
    """How many tickets the priced cart issues: one per unit, a bundle one per component unit."""
    return sum(
        sum(share["qty"] for share in line["bundle_shares"]) if line["bundle_shares"] else line["qty"]
        for line in quote["lines"]
    )


async def begin_sale(
    deps: Deps,
    principal: Principal,
    key: str,
    body: SaleCreate,
    ring: KeyRing,
    sold_at: datetime | None = None,
) -> tuple[Document, bool]:
    """Plan the pending sale with its tickets (`settle` writes it), or find the one this caller's
    key already made.
    Every check, and the use of a manual-discount approval, happens before the sale is written, so
    a pending sale is always one its caller was entitled to: a retry or the sweeper may finish it.
    `sold_at`: when an offline POS made the sale (priced and dated as of then). Returns (sale, is_new)."""
    device = principal.device
    if device is None:
        raise PermissionDenied("Sales are made on a POS or kiosk.")
    store_id = str(device["store_id"])
    repo = SaleRepository(deps.db, Scope(principal.tenant_id, frozenset({store_id})))
    scoped = scoped_key(principal, key)
    digest = fingerprint(store_id, str(device["device_id"]), body)
    existing = await repo.find_one({"idempotency_key": scoped})
    if existing is not None:
        return existing, False

    request = QuoteRequest(
        store_id=store_id,
        lines=body.lines,
        promo_code=body.promo_code,
        manual_discount=body.manual_discount,
        approval_token=body.approval_token,
        at=sold_at,
        payment_method=body.payment_method,
    )
    quote, context = await catalog.price_cart(deps, principal, request)
    features = context.settings["features"]
    _check_seller(device, features)
    cap = int(context.settings["sales"]["max_tickets_per_sale"])
    if tickets_in(quote) > cap:
        raise TooLarge(
            f"One sale issues at most {cap} tickets; split the order.",
            details={"max_tickets_per_sale": cap, "tickets": tickets_in(quote)},
        )
    shift_id = await _shift_for_sale(deps, principal, device, features)
    if body.client_total is not None and body.client_total != quote["grand_total"]:
        raise Conflict(
            "The device's total differs from the server's; show the server's quote and confirm again.",
            details={"client_total": body.client_total, "quote": _jsonable(quote)},
        )
    tendered, change = _payment(body, quote["amount_due"])
    approval_id = ""
    if body.manual_discount is not None:
        await ratelimit.hit(deps.db, deps.clock, ratelimit.DISCOUNTS_BY_EMPLOYEE, principal.actor_id or "-")
    if body.manual_discount is not None and "manual_discount" not in principal.permissions_at(store_id):
        approval = await consume_approval(
            deps,
            tenant_id=principal.tenant_id,
            token=body.approval_token or "",
            action="manual_discount",
            store_id=store_id,
            target_id=None,
            retry_key=scoped,
            discount=catalog.discount_size(request),
        )
        approval_id = str(approval["approval_id"])
    now = deps.clock.now()
    plan = _plan_tickets(quote, context.packages, sold_at or now, quote["tz"], ring)
    sale_id = new_id()
    sale = {
        "_id": sale_id,  # conditional writes address the sale by `_id` (any other filter scans)
        "sale_id": sale_id,
        "short_ref": new_short_code(),
        "idempotency_key": scoped,
        "fingerprint": digest,
        "store_id": store_id,
        "device_id": device["device_id"],
        "issued_by": principal.actor_id,
        "shift_id": shift_id,
        "status": "pending",
        "lease_until": now + LEASE,
        "created_at": sold_at or now,
        "offline": sold_at is not None,
        "completed_at": None,
        "lines": quote["lines"],
        "applied_rules": quote["applied_rules"],
        "subtotal": quote["subtotal"],
        "discount_total": quote["discount_total"],
        "tax_total": quote["tax_total"],
        "grand_total": quote["grand_total"],
        "fee_total": quote["payment_fee"],
        "amount_due": quote["amount_due"],
        "payment_method": body.payment_method,
        "amount_tendered": tendered,
        "change": change,
        "discount_approval_id": approval_id,
        "ticket_ids": [t["ticket_id"] for t in plan],
        "ticket_plan": plan,
        "response": None,
        "event_seq": 1,
    }
    return {**sale, "tenant_id": principal.tenant_id}, True


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


async def settle(
    deps: Deps, principal: Principal, sale: Document, body: SaleCreate, is_new: bool
) -> tuple[Document, bool]:
    """Answer for a sale this key made: finish it, replay it, or say it is still running.
    Returns (response data, replayed)."""
    if is_new:
        written = await _write_new_sale(deps, principal, sale)
        if written is not None:
            return written, False
        raced = await SaleRepository(deps.db, Scope(principal.tenant_id)).find_one(
            {"idempotency_key": sale["idempotency_key"]}
        )
        if raced is None:
            raise InProgress(headers={"Retry-After": "1"})
        sale, is_new = raced, False
    digest = fingerprint(str(sale["store_id"]), str(sale["device_id"]), body)
    if sale["fingerprint"] != digest:
        raise IdempotencyMismatch()
    if sale["status"] == "completed":
        return sale["response"], True
    repo = SaleRepository(deps.db, Scope(principal.tenant_id))
    now = deps.clock.now()
    if not is_new:
        raise_if_running(sale["lease_until"], now)
        taken = await repo.find_one_and_update(
            {"_id": sale["sale_id"], "status": "pending", "lease_until": sale["lease_until"]},
            {"$set": {"lease_until": now + LEASE}},
        )
        if taken is None:
            raise InProgress(headers={"Retry-After": "2"})
        sale = taken
    return await finish_sale(deps, principal, sale), True


async def _write_new_sale(deps: Deps, principal: Principal, sale: Document) -> Document | None:
    """Write a sale `begin_sale` planned: the pending sale, its tickets, the gate journal's note and
    the events in one ordered write; then its completion and audit entry in another. None when
    another request with the same key wrote its sale first (nothing of this one was written).
    A ticket whose short code another sale took meanwhile leaves the sale pending: it is finished
    the long way (`finish_sale` draws new codes)."""
    tenant_id, store_id, now = principal.tenant_id, str(sale["store_id"]), deps.clock.now()
    tickets = ticket_documents(sale)
    ids = [t["ticket_id"] for t in tickets]
    response = {
        "sale": sale_view(sale, completed_at=now),
        "tickets": [ticket_view(t) for t in tickets],
    }
    scope = Scope(tenant_id)
    note_key, note = changes.note_write(tenant_id, store_id, ids)
    done = await write_in_order(
        deps.db,
        [
            Insert(SaleRepository(deps.db, Scope(tenant_id, frozenset({store_id}))), sale, required=True),
            *(Insert(TicketRepository(deps.db, scope), t) for t in tickets),
            Update(GateListRepository(deps.db, scope), note_key, note),
            *(Insert(outbox.EventRepository(deps.db, scope), e) for e in sale_events(response, now)),
        ],
    )
    if not done[0]:
        return None
    if not done[1 + len(tickets)]:  # the store's first note: made with an upsert
        await changes.note(deps.db, tenant_id, store_id, ids)
    outbox.wake_workers()
    if not all(done[1 : 1 + len(tickets)]):
        return await finish_sale(deps, principal, sale)
    entry = await audit.prepare(deps.db, deps.clock, **_completion_audit(principal, sale, len(tickets)))
    completed, logged = await write_in_order(
        deps.db,
        [
            Update(
                SaleRepository(deps.db, scope),
                {"_id": sale["sale_id"], "status": "pending"},
                {"$set": {"status": "completed", "completed_at": now, "response": response}},
            ),
            entry.write,
        ],
    )
    await audit.settle(entry, logged)
    if not completed:  # finished by another attempt after this one's lease ran out
        current = await SaleRepository(deps.db, scope).get({"sale_id": sale["sale_id"]}, "Sale")
        stored: Document = current["response"]
        return stored
    return response


def _completion_audit(principal: Principal, sale: Document, tickets: int) -> dict[str, Any]:
    """The `sale.completed` entry's fields (as `audit.record` fills them from the caller)."""
    return {
        "tenant_id": principal.tenant_id,
        "event_type": "sale.completed",
        "payload": {
            "sale_id": sale["sale_id"],
            "grand_total": sale["grand_total"],
            "payment_method": sale["payment_method"],
            "tickets": tickets,
        },
        "store_id": sale["store_id"],
        "actor_id": principal.actor_id,
        "device_id": principal.device_id,
        "ip": principal.ip,
        "subjects": [sale["sale_id"], *sale["ticket_ids"]],
    }


async def _insert_tickets(deps: Deps, principal: Principal, sale: Document) -> Document:
    """Insert the planned tickets. Ones a previous attempt wrote are skipped (the error may name
    either of their unique indexes); a short code already taken by another ticket is drawn again,
    in the sale's plan first, so every later attempt issues the same codes."""
    repo = TicketRepository(deps.db, Scope(principal.tenant_id))
    todo = ticket_documents(sale)
    for _ in range(5):
        if not todo:
            return sale
        try:
            await repo.insert_many(todo)
            return sale
        except BulkWriteError as exc:
            errors = exc.details["writeErrors"]
            if any(e.get("code") != 11000 for e in errors):
                raise
            failed = {e["op"]["ticket_id"] for e in errors}
            mine = {
                t["ticket_id"]
                for t in await repo.find_many(
                    {"ticket_id": {"$in": sorted(failed)}, "sale_id": sale["sale_id"]}
                )
            }
            collided = failed - mine
            if not collided:
                return sale
            plan = [
                {**t, "short_code": new_short_code()} if t["ticket_id"] in collided else t
                for t in sale["ticket_plan"]
            ]
            updated = await SaleRepository(deps.db, Scope(principal.tenant_id)).find_one_and_update(
                {"_id": sale["sale_id"], "status": "pending"}, {"$set": {"ticket_plan": plan}}
            )
            if updated is None:
                return sale  # finished by another attempt meanwhile
            sale = updated
            todo = [t for t in ticket_documents(sale) if t["ticket_id"] in collided]
    raise RuntimeError(f"sale {sale['sale_id']}: could not find free short codes")


async def finish_sale(deps: Deps, principal: Principal, sale: Document) -> Document:
    """Insert the planned tickets (again, if a first attempt died midway) and complete the sale."""
    sale = await _insert_tickets(deps, principal, sale)
    tickets = ticket_documents(sale)
    # before the sale completes: a retry or the sweeper that finishes it notes them again
    await changes.note(deps.db, principal.tenant_id, sale["store_id"], [t["ticket_id"] for t in tickets])
    response = {
        "sale": sale_view(sale, completed_at=deps.clock.now()),
        "tickets": [ticket_view(t) for t in tickets],
    }
    await outbox.emit(deps.db, principal.tenant_id, sale_events(response, deps.clock.now()))
    done = await SaleRepository(deps.db, Scope(principal.tenant_id)).find_one_and_update(
        {"_id": sale["sale_id"], "status": "pending"},
        {"$set": {"status": "completed", "completed_at": deps.clock.now(), "response": response}},
    )
    if done is None:  # another attempt finished it first: answer what it answered
        current = await SaleRepository(deps.db, Scope(principal.tenant_id)).get(
            {"sale_id": sale["sale_id"]}, "Sale"
        )
        stored: Document = current["response"]
        return stored
    await audit.append(deps.db, deps.clock, **_completion_audit(principal, sale, len(tickets)))
    return response


SALE_FIELDS = (
    "sale_id",
    "short_ref",
    "store_id",
    "device_id",
    "issued_by",
    "shift_id",
    "status",
    "created_at",
    "lines",
    "subtotal",
    "discount_total",
    "tax_total",
    "grand_total",
    "fee_total",
    "amount_due",
    "payment_method",
    "amount_tendered",
    "change",
    "ticket_ids",
)


def sale_events(response: Document, at: datetime) -> list[Document]:
    """sale.created and one ticket.issued per ticket (QR tokens stay out of webhooks)."""
    sale = response["sale"]
    common = {"store_id": sale["store_id"], "at": at, "sequence": 1}
    events = [
        outbox.event(
            event_id=f"{sale['sale_id']}.sale.created",
            type="sale.created",
            resource="sale",
            resource_id=sale["sale_id"],
            data={"sale": sale},
            **common,
        )
    ]
    for ticket in response["tickets"]:
        shown = {k: v for k, v in ticket.items() if k != "qr_token"}
        events.append(
            outbox.event(
                event_id=f"{ticket['ticket_id']}.ticket.issued",
                type="ticket.issued",
                resource="ticket",
                resource_id=ticket["ticket_id"],
                data={"ticket": shown},
                **common,
            )
        )
    return events


def sale_view(sale: Document, *, completed_at: datetime | None = None) -> Document:
    """What the API shows of a sale (never its key, fingerprint, lease or ticket plan)."""
    view = {k: sale.get(k) for k in SALE_FIELDS}
    view["status"] = "completed" if completed_at else sale["status"]
    view["completed_at"] = completed_at or sale.get("completed_at")
    return view


async def sweep_stale_sales(deps: Deps, limit: int = 50) -> int:
    """Finish sales whose requester died after writing them (their lease ran out). Each is claimed
    with a conditional lease update first, so two replicas never work on the same one."""
    finished = 0
    now = deps.clock.now()
    for sale in await stale_pending_unscoped(deps.db, C.SALES, now, limit):
        repo = SaleRepository(deps.db, Scope(sale["tenant_id"]))
        claimed = await repo.find_one_and_update(
            {"_id": sale["sale_id"], "status": "pending", "lease_until": sale["lease_until"]},
            {"$set": {"lease_until": now + LEASE}},
        )
        if claimed is None:
            continue
        system = Principal(tenant_id=sale["tenant_id"], ip=None)
        await finish_sale(deps, system, claimed)
        finished += 1
    return finished
