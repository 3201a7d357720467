"""Refunds: whole sales or chosen tickets, approved, never more than was paid, exactly once.

Write discipline: the refund is inserted pending (keyed by its Idempotency-Key) with its lines;
then each ticket is flipped to `refunded` with a conditional update that also requires the use
count it had when the amount was worked out, so a ticket used meanwhile is left alone; then the
refund is completed with the lines whose tickets it actually flipped. A retry, or the sweeper
after the lease runs out, repeats the same idempotent steps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from boxoffice.access.principal import Principal
from boxoffice.aftersale.common import check_reason, device_of, store_settings
from boxoffice.aftersale.schemas import RefundCreate
from boxoffice.audit import service as audit
from boxoffice.core import ratelimit
from boxoffice.core.db import C, Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import (
    ApprovalRequired,
    Conflict,
    IdempotencyMismatch,
    InProgress,
    NoOpenShift,
    NotFound,
    ValidationFailed,
)
from boxoffice.core.idempotency import fingerprint, raise_if_running, scoped_key
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope, stale_pending_unscoped
from boxoffice.events import outbox
from boxoffice.sales.repository import SaleRepository, ShiftRepository
from boxoffice.staff.service import consume_approval
from boxoffice.tickets import changes
from boxoffice.tickets.issuance import ticket_view
from boxoffice.tickets.refund_rules import plan_refund
from boxoffice.tickets.repository import RefundRepository, TicketRepository

LEASE = timedelta(seconds=30)
REFUND_FIELDS = (
    "refund_id",
    "sale_id",
    "store_id",
    "device_id",
    "shift_id",
    "status",
    "method",
    "amount",
    "lines",
    "reason_code",
    "reason_text",
    "refunded_by",
    "approver_id",
    "created_at",
)


def refund_view(refund: Document) -> Document:
    return {k: refund.get(k) for k in REFUND_FIELDS}


async def create_refund(
    deps: Deps, principal: Principal, key: str, body: RefundCreate
) -> tuple[Document, bool]:
    """Returns (response data, replayed)."""
    refund, is_new = await begin_refund(deps, principal, key, body)
    if is_new:
        return await apply_refund(deps, principal, refund), False
    device = device_of(principal)
    return await _resume(
        deps, principal, refund, fingerprint(str(device["store_id"]), str(device["device_id"]), body)
    )


async def begin_refund(
    deps: Deps, principal: Principal, key: str, body: RefundCreate
) -> tuple[Document, bool]:
    """Check the request, use the approval and insert the pending refund — or find the one this key
    made before. Returns (refund, is_new)."""
    device = device_of(principal)
    store_id = str(device["store_id"])
    key = scoped_key(principal, key)
    scope = Scope(principal.tenant_id, frozenset({store_id}))
    repo = RefundRepository(deps.db, scope)
    digest = fingerprint(store_id, str(device["device_id"]), body)
    existing = await repo.find_one({"idempotency_key": key})
    if existing is not None:
        return existing, False

    sale = await SaleRepository(deps.db, scope).find_one({"sale_id": body.sale_id}, with_id=True)
    if sale is None:
        raise NotFound("Sale not found.")
    if sale["status"] != "completed":
        raise Conflict("This sale is still being completed; retry in a moment.")
    tickets = await TicketRepository(deps.db, scope).find_many({"sale_id": sale["sale_id"]})
    if body.ticket_ids is not None:
        by_id = {t["ticket_id"]: t for t in tickets}
        strangers = sorted(set(body.ticket_ids) - set(by_id))
        if strangers:
            raise ValidationFailed(
                "Some tickets are not part of this sale.",
                details=[{"loc": ["body", "ticket_ids"], "msg": f"not in the sale: {', '.join(strangers)}"}],
            )
        tickets = [by_id[t] for t in sorted(set(body.ticket_ids))]
    values = await store_settings(deps, principal, store_id)
    check_reason(values, "refund", body.reason_code)
    lines, refusals = plan_refund(tickets, values["refunds"]["partial_use"])
    if refusals:
        raise Conflict(
            "Some of these tickets cannot be refunded.",
            details={
                "refusals": [{"ticket_id": r.ticket_id, "reason": r.reason} for r in refusals],
                "refundable": [line.ticket_id for line in lines],
            },
        )
    shift = await ShiftRepository(deps.db, scope).open_for(str(device["device_id"]))
    if shift is None and values["features"]["require_open_shift"]:
        raise NoOpenShift("Open a shift on this POS before refunding: the refund comes out of its drawer.")
    await ratelimit.hit(deps.db, deps.clock, ratelimit.REFUND, str(device["device_id"]))
    await ratelimit.hit(deps.db, deps.clock, ratelimit.REFUNDS_BY_EMPLOYEE, principal.actor_id or "-")
    refund_id = new_id()
    await _claim_sale(deps, sale, refund_id)
    try:
        approval = await _use_approval(deps, principal, body, sale, key)
    except ApprovalRequired:
        await _release_sale(deps, principal.tenant_id, sale["_id"], refund_id)
        raise
    method = (
        body.method
        if body.method is not None
        else str(approval.get("refund_method") or "") or sale["payment_method"]
    )
    now = deps.clock.now()
    refund = {
        "refund_id": refund_id,
        "sale_key": sale["_id"],
        "idempotency_key": key,
        "fingerprint": digest,
        "sale_id": sale["sale_id"],
        "store_id": store_id,
        "device_id": device["device_id"],
        "shift_id": shift["shift_id"] if shift else None,
        "status": "pending",
        "lease_until": now + LEASE,
        "method": method,
        "method_chosen_by": approval["approver_id"] if method != sale["payment_method"] else "",
        "planned": [{"ticket_id": x.ticket_id, "amount": x.amount, "used_seen": x.used_seen} for x in lines],
        "lines": [],
        "amount": 0,
        "reason_code": body.reason_code,
        "reason_text": body.reason_text,
        "refunded_by": principal.actor_id,
        "approver_id": approval["approver_id"],
        "approval_id": approval["approval_id"],
        "created_at": now,
        "response": None,
    }
    try:
        saved = await repo.insert(refund)
    except DuplicateKeyError:
        await _release_sale(deps, principal.tenant_id, sale["_id"], refund_id)
        raced = await repo.find_one({"idempotency_key": key})
        if raced is None:
            raise
        return raced, False
    return saved, True


async def _use_approval(
    deps: Deps, principal: Principal, body: RefundCreate, sale: Document, key: str
) -> Document:
    return await consume_approval(
        deps,
        tenant_id=principal.tenant_id,
        token=body.approval_token,
        action="refund",
        store_id=str(sale["store_id"]),
        target_id=sale["sale_id"],
        retry_key=key,
        # Money goes back the way it came unless the approver chose another way for this refund.
        refund_method=body.method if body.method not in (None, sale["payment_method"]) else None,
    )


async def _claim_sale(deps: Deps, sale: Document, refund_id: str) -> None:
    """One refund of a sale at a time (a compare-and-set on the sale's `_id`): two racing refunds
    never each take part of a sale; the second waits for the first and is then planned afresh."""
    now = deps.clock.now()
    busy = InProgress(
        "Another refund of this sale is being made; retry in a moment.", headers={"Retry-After": "2"}
    )
    held_until = sale.get("refund_claim_until")
    if held_until is not None and held_until > now:
        raise busy
    unchanged = held_until if held_until is not None else {"$exists": False}
    claimed = await SaleRepository(deps.db, Scope(str(sale["tenant_id"]))).update_one(
        {"_id": sale["_id"], "refund_claim_until": unchanged},
        {"$set": {"refund_claim": refund_id, "refund_claim_until": now + LEASE}},
    )
    if not claimed:
        raise busy


async def _release_sale(deps: Deps, tenant_id: str, sale_key: Any, refund_id: str) -> None:
    await SaleRepository(deps.db, Scope(tenant_id)).update_one(
        {"_id": sale_key, "refund_claim": refund_id}, {"$set": {"refund_claim_until": deps.clock.now()}}
    )


async def _release(deps: Deps, tenant_id: str, refund: Document) -> None:
    if "sale_key" in refund:  # (refunds begun before sales were claimed carry none)
        await _release_sale(deps, tenant_id, refund["sale_key"], refund["refund_id"])


async def _resume(deps: Deps, principal: Principal, refund: Document, digest: str) -> tuple[Document, bool]:
    """A key seen before: replay its answer, or finish it if its first attempt died."""
    if refund["fingerprint"] != digest:
        raise IdempotencyMismatch()
    if refund["status"] == "completed":
        return refund["response"], True
    if refund["status"] == "void":
        raise _nothing_refunded()
    now = deps.clock.now()
    raise_if_running(refund["lease_until"], now)
    claimed = await _claim(deps, refund)
    if claimed is None:
        raise InProgress(headers={"Retry-After": "2"})
    return await apply_refund(deps, principal, claimed), True


async def _claim(deps: Deps, refund: Document) -> Document | None:
    return await RefundRepository(deps.db, Scope(refund["tenant_id"])).find_one_and_update(
        {"refund_id": refund["refund_id"], "status": "pending", "lease_until": refund["lease_until"]},
        {"$set": {"lease_until": deps.clock.now() + LEASE}},
    )


def _nothing_refunded() -> Conflict:
    return Conflict("These tickets were used or refunded meanwhile; nothing was refunded. Look again.")


async def apply_refund(deps: Deps, principal: Principal, refund: Document) -> Document:
    """Flip the planned tickets (idempotently), then complete the refund with what flipped."""
    tenant = Scope(principal.tenant_id)
    tickets = TicketRepository(deps.db, tenant)
    now = deps.clock.now()
    for line in refund["planned"]:
        await tickets.update_one(
            {"ticket_id": line["ticket_id"], "status": "active", "used": line["used_seen"]},
            {
                "$set": {
                    "status": "refunded",
                    "refund_id": refund["refund_id"],
                    "refunded_amount": line["amount"],
                    "refunded_at": now,
                    "updated_at": now,
                }
            },
        )
    flipped = await tickets.find_many(
        {"ticket_id": {"$in": [x["ticket_id"] for x in refund["planned"]]}, "refund_id": refund["refund_id"]},
        sort=[("ticket_id", 1)],
    )
    flipped_ids = {t["ticket_id"] for t in flipped}
    # before the refund completes: the sweeper that finishes it notes them again
    await changes.note(deps.db, principal.tenant_id, refund["store_id"], flipped_ids)
    lines = [
        {"ticket_id": x["ticket_id"], "amount": x["amount"]}
        for x in refund["planned"]
        if x["ticket_id"] in flipped_ids
    ]
    amount = sum(x["amount"] for x in lines)
    repo = RefundRepository(deps.db, tenant)
    if not lines:
        await repo.update_one(
            {"refund_id": refund["refund_id"], "status": "pending"}, {"$set": {"status": "void"}}
        )
        await _release(deps, principal.tenant_id, refund)
        raise _nothing_refunded()
    done_view = {**refund, "status": "completed", "lines": lines, "amount": amount}
    response = {"refund": refund_view(done_view), "tickets": [ticket_view(t) for t in flipped]}
    sale = await SaleRepository(deps.db, tenant).find_one_and_update(
        {"sale_id": refund["sale_id"]}, {"$inc": {"event_seq": 1}}
    )
    await outbox.emit_one(
        deps.db,
        principal.tenant_id,
        event_id=f"{refund['refund_id']}.refund.created",
        type="refund.created",
        store_id=refund["store_id"],
        resource="sale",
        resource_id=refund["sale_id"],
        sequence=int(sale.get("event_seq", 2)) if sale else 2,
        at=now,
        data={"refund": refund_view(done_view)},
    )
    done = await repo.find_one_and_update(
        {"refund_id": refund["refund_id"], "status": "pending"},
        {
            "$set": {
                "status": "completed",
                "lines": lines,
                "amount": amount,
                "completed_at": now,
                "response": response,
            }
        },
    )
    await _release(deps, principal.tenant_id, refund)
    if done is None:  # another attempt completed it first: answer what it answered
        current = await repo.get({"refund_id": refund["refund_id"]}, "Refund")
        if current["status"] == "void":
            raise _nothing_refunded()
        stored: Document = current["response"]
        return stored
    await audit.record(
        deps,
        principal,
        "refund.created",
        {
            "refund_id": refund["refund_id"],
            "sale_id": refund["sale_id"],
            "amount": amount,
            "method": refund["method"],
            "lines": lines,
            "reason_code": refund["reason_code"],
            "reason_text": refund["reason_text"],
            "approver_id": refund["approver_id"],
            "shift_id": refund["shift_id"],
        },
        store_id=refund["store_id"],
        device_id=refund["device_id"],
        subjects=[refund["refund_id"], refund["sale_id"], *flipped_ids],
    )
    return response


async def sweep_stale_refunds(deps: Deps, limit: int = 50) -> int:
    """Finish refunds whose requester died midway (lease-claimed, so never by two replicas)."""
    finished = 0
    for refund in await stale_pending_unscoped(deps.db, C.REFUNDS, deps.clock.now(), limit):
        claimed = await _claim(deps, refund)
        if claimed is None:
            continue
        try:
            await apply_refund(deps, Principal(tenant_id=refund["tenant_id"], ip=None), claimed)
        except Conflict:
            pass  # voided: every ticket had changed
        finished += 1
    return finished
