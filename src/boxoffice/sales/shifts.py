"""Shifts: open, pay in/out, close with a frozen snapshot, and corrections kept as history.

One open shift per device: the open shift holds `open_slot = device_id` under a unique index, so
two opens on one device cannot both succeed; closing moves the slot to the shift's own id.
Totals are computed from the sales (and refunds) at close time and frozen in a snapshot. A device
serializes its own sales and its close, so no sale of the device can slip in while it closes.

Pay-ins and pay-outs are counted on the shift document itself (`drawer_pay_ins`,
`drawer_pay_outs`), changed by one compare-and-set on its `drawer_seq` addressed by `_id`: a
pay-out is applied only if the drawer — float + cash sales - cash refunds + pay-ins - pay-outs —
holds it at that very version, so concurrent pay-outs can never take the drawer below zero. Each
takes an Idempotency-Key scoped to the device and the employee signed in on it: the movement record
(`_id` derived from the key) is written first, pending; the shift's `drawer_moves` notes which
movements it counted, so a retry after a crash finishes the same movement without counting it twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from boxoffice.access.principal import Principal
from boxoffice.alerts import kinds as alert_kinds
from boxoffice.audit import service as audit
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import (
    Conflict,
    IdempotencyMismatch,
    InProgress,
    InsufficientCash,
    NoOpenShift,
    NotFound,
    ShiftClosed,
)
from boxoffice.core.idempotency import fingerprint, raise_if_running
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.events import outbox
from boxoffice.sales import shift_math
from boxoffice.sales.repository import (
    MovementRepository,
    SaleRepository,
    ShiftRepository,
    SnapshotRepository,
    unfinished_closes_unscoped,
)
from boxoffice.sales.schemas import CashMovementIn, ShiftRead
from boxoffice.tickets.repository import RefundRepository

UNFINISHED_CLOSE_AFTER = timedelta(minutes=1)
#: How long the request that wrote a cash movement owns it before a retry may finish it.
MOVEMENT_LEASE = timedelta(seconds=30)
#: Compare-and-set rounds a movement may lose to concurrent ones on the same drawer.
DRAWER_ROUNDS = 100
#: The shift fields a drawer compare-and-set reads (with `_id`, which it is addressed by).
DRAWER_FIELDS = {
    "shift_id": 1,
    "status": 1,
    "cash_open": 1,
    "drawer_seq": 1,
    "drawer_pay_ins": 1,
    "drawer_pay_outs": 1,
    "drawer_moves": 1,
}


def _totals_dict(figures: shift_math.ShiftTotals) -> dict[str, Any]:
    return {
        "sales_count": figures.sales_count,
        "sales_total": figures.sales_total,
        "fees_total": figures.fees_total,
        "refunds_total": figures.refunds_total,
        "cash_sales": figures.cash_sales,
        "cash_refunds": figures.cash_refunds,
        "pay_ins": figures.pay_ins,
        "pay_outs": figures.pay_outs,
        "by_payment_type": figures.by_payment_type,
    }


async def compute_totals(deps: Deps, tenant_id: str, shift_id: str) -> shift_math.ShiftTotals:
    """From the records: the shift's sales (pending ones too: their money was taken), completed
    refunds (the money goes back only once one is) and cash movements."""
    scope = Scope(tenant_id)
    sales = await SaleRepository(deps.db, scope).find_many(
        {"shift_id": shift_id},
        projection={"_id": 0, "payment_method": 1, "grand_total": 1, "fee_total": 1},
    )
    movements = await _movement_totals(deps, tenant_id, shift_id)
    refunds = await RefundRepository(deps.db, scope).find_many(
        {"shift_id": shift_id, "status": "completed"}, projection={"_id": 0, "method": 1, "amount": 1}
    )
    return shift_math.totals(
        (
            shift_math.SaleFigure(s["payment_method"], int(s["grand_total"]), int(s.get("fee_total") or 0))
            for s in sales
        ),
        (shift_math.RefundFigure(r["method"], int(r["amount"])) for r in refunds),
        (shift_math.Movement(m["kind"], int(m["amount"])) for m in movements),
    )


async def _movement_totals(deps: Deps, tenant_id: str, shift_id: str) -> list[Document]:
    """Pay-ins and pay-outs as `{kind, amount}`: the shift's own counters (changed atomically with
    the drawer check). A shift opened before it kept counters: its movement records."""
    scope = Scope(tenant_id)
    shift = await ShiftRepository(deps.db, scope).find_one({"shift_id": shift_id}, projection=DRAWER_FIELDS)
    if shift is not None and "drawer_seq" in shift:
        return [
            {"kind": "pay_in", "amount": shift["drawer_pay_ins"]},
            {"kind": "pay_out", "amount": shift["drawer_pay_outs"]},
        ]
    return await _recorded_movements(deps, tenant_id, shift_id)


async def _recorded_movements(deps: Deps, tenant_id: str, shift_id: str) -> list[Document]:
    """Movement records written before shifts kept counters (they have no status)."""
    records = await MovementRepository(deps.db, Scope(tenant_id)).find_many({"shift_id": shift_id})
    return [m for m in records if "status" not in m]


def _device(principal: Principal) -> Document:
    if principal.device is None:
        raise Conflict("Shifts are opened and closed on a POS device.")
    return principal.device


async def current(deps: Deps, principal: Principal) -> Document | None:
    device = _device(principal)
    return await ShiftRepository(deps.db, Scope(principal.tenant_id)).open_for(device["device_id"])


async def view(deps: Deps, tenant_id: str, shift: Document) -> Document:
    """The shift with its totals (running while open, frozen once closed) and snapshot history."""
    return (await views(deps, tenant_id, [shift]))[0]


async def views(deps: Deps, tenant_id: str, shifts: list[Document]) -> list[Document]:
    """Several shifts in one snapshot query; only open shifts need their totals computed."""
    ids = [s["shift_id"] for s in shifts]
    history: dict[str, list[Document]] = {shift_id: [] for shift_id in ids}
    if ids:
        for snap in await SnapshotRepository(deps.db, Scope(tenant_id)).find_many(
            {"shift_id": {"$in": ids}}, sort=[("version", 1)]
        ):
            history[snap["shift_id"]].append(snap)
    shown = []
    for shift in shifts:
        totals = shift.get("totals") if shift["status"] == "closed" else None
        if totals is None:
            totals = _totals_dict(await compute_totals(deps, tenant_id, shift["shift_id"]))
        shown.append({**shift, "totals": totals, "snapshots": history[shift["shift_id"]]})
    return shown


async def open_shift(deps: Deps, principal: Principal, cash_open: int) -> Document:
    device = _device(principal)
    shift = {
        "shift_id": new_id(),
        "store_id": device["store_id"],
        "device_id": device["device_id"],
        "open_slot": device["device_id"],
        "status": "open",
        "opened_by": principal.actor_id,
        "open_at": deps.clock.now(),
        "cash_open": cash_open,
        "closed_by": None,
        "close_at": None,
        "cash_expected": None,
        "cash_counted": None,
        "cash_diff": None,
        "drawer_seq": 0,
        "drawer_pay_ins": 0,
        "drawer_pay_outs": 0,
    }
    repo = ShiftRepository(deps.db, Scope(principal.tenant_id, frozenset({device["store_id"]})))
    try:
        saved = await repo.insert(shift)
    except DuplicateKeyError as exc:
        existing = await repo.open_for(device["device_id"])
        raise Conflict(
            "A shift is already open on this device; close it first.",
            details={"shift_id": existing["shift_id"] if existing else None},
        ) from exc
    await audit.record(
        deps,
        principal,
        "shift.opened",
        {"shift_id": saved["shift_id"], "cash_open": cash_open},
        store_id=saved["store_id"],
    )
    return await view(deps, principal.tenant_id, saved)


async def require_open(deps: Deps, principal: Principal) -> Document:
    shift = await current(deps, principal)
    if shift is None:
        raise NoOpenShift()
    return shift


async def cash_movement(
    deps: Deps, principal: Principal, kind: str, body: CashMovementIn, key: str
) -> tuple[Document, bool]:
    """A pay-in or pay-out, once per Idempotency-Key. Returns (the answer, replayed): the same key
    and body answer the first result again; another body under the key is E_IDEMPOTENCY_MISMATCH.
    The key belongs to the device and the employee signed in on it, never to another caller."""
    device = _device(principal)
    owner = f"{device['device_id']}:{principal.employee_id or '-'}"
    record_id = "cm_" + hashlib.sha256(f"{principal.tenant_id}:{owner}:{key}".encode()).hexdigest()[:40]
    digest = hashlib.sha256(
        f"{kind}:{fingerprint(str(device['store_id']), str(device['device_id']), body)}".encode()
    ).hexdigest()
    movements = MovementRepository(deps.db, Scope(principal.tenant_id))
    now = deps.clock.now()
    existing = await movements.find_one({"_id": record_id})
    if existing is None:
        shift = await require_open(deps, principal)
        movement = {
            "_id": record_id,
            "movement_id": new_id(),
            "idempotency_key": f"{owner}:{key}",
            "fingerprint": digest,
            "shift_id": shift["shift_id"],
            "store_id": shift["store_id"],
            "kind": kind,
            "amount": body.amount,
            "reason": body.reason,
            "at": now,
            "by": principal.actor_id,
            "status": "pending",
            "lease_until": now + MOVEMENT_LEASE,
        }
        try:
            await movements.insert(movement)
        except DuplicateKeyError:
            existing = await movements.find_one({"_id": record_id})
            if existing is None:
                raise
        else:
            return await _apply_movement(deps, principal, movement), False
    if existing["fingerprint"] != digest:
        raise IdempotencyMismatch()
    if existing["status"] == "applied":
        return existing["response"], True
    raise_if_running(existing["lease_until"], now)  # the first request is still at it
    taken = await movements.find_one_and_update(
        {"_id": record_id, "status": "pending", "lease_until": existing["lease_until"]},
        {"$set": {"lease_until": now + MOVEMENT_LEASE}},
    )
    if taken is None:
        raise InProgress(headers={"Retry-After": "2"})
    return await _apply_movement(deps, principal, {**taken, "_id": record_id}), True


async def _apply_movement(deps: Deps, principal: Principal, movement: Document) -> Document:
    """Count a written (pending) movement in its shift's drawer once, audit it, answer with the
    shift. A refused one (the shift closed, or not enough cash for a pay-out) is deleted: nothing
    happened, and the key may be used again."""
    tenant_id = principal.tenant_id
    shifts = ShiftRepository(deps.db, Scope(tenant_id))
    movements = MovementRepository(deps.db, Scope(tenant_id))
    movement_id, kind, amount = str(movement["movement_id"]), str(movement["kind"]), int(movement["amount"])
    figures: shift_math.ShiftTotals | None = None
    for _ in range(DRAWER_ROUNDS):
        shift = await shifts.find_one({"shift_id": movement["shift_id"]}, projection=DRAWER_FIELDS)
        if shift is None:
            raise NotFound("Shift not found.")
        if movement_id in (shift.get("drawer_moves") or {}):
            break  # counted by an earlier attempt that died before finishing
        if shift["status"] != "open":
            await movements.delete_one({"_id": movement["_id"], "status": "pending"})
            raise ShiftClosed()
        if "drawer_seq" not in shift:  # opened before shifts kept counters: start them once
            recorded = await _recorded_movements(deps, tenant_id, str(shift["shift_id"]))
            await shifts.update_one(
                {"_id": shift["_id"], "drawer_seq": {"$exists": False}},
                {
                    "$set": {
                        "drawer_seq": 0,
                        "drawer_pay_ins": sum(int(m["amount"]) for m in recorded if m["kind"] == "pay_in"),
                        "drawer_pay_outs": sum(int(m["amount"]) for m in recorded if m["kind"] == "pay_out"),
                    }
                },
            )
            continue
        if kind == "pay_out":
            if figures is None:  # sales and refunds once; the counters at every round
                figures = await compute_totals(deps, tenant_id, str(shift["shift_id"]))
            drawer = shift_math.expected_cash(
                int(shift["cash_open"]),
                replace(
                    figures, pay_ins=int(shift["drawer_pay_ins"]), pay_outs=int(shift["drawer_pay_outs"])
                ),
            )
            if amount > drawer:
                await movements.delete_one({"_id": movement["_id"], "status": "pending"})
                raise InsufficientCash(
                    f"The drawer should hold {drawer} satang: a pay-out of {amount} would go below zero.",
                    details={"drawer_cash": drawer, "amount": amount},
                )
        counted = await shifts.find_one_and_update(
            {"_id": shift["_id"], "status": "open", "drawer_seq": shift["drawer_seq"]},
            {
                "$inc": {"drawer_seq": 1, f"drawer_{kind}s": amount},
                "$set": {f"drawer_moves.{movement_id}": amount},
            },
        )
        if counted is not None:
            break
    else:
        raise InProgress("The drawer is busy; try again.", headers={"Retry-After": "1"})
    current = await shifts.get({"shift_id": movement["shift_id"]}, "Shift")
    await audit.record(
        deps,
        principal,
        f"shift.{kind}",
        {
            "shift_id": current["shift_id"],
            "movement_id": movement_id,
            "amount": amount,
            "reason": movement["reason"],
        },
        store_id=current["store_id"],
    )
    shown = await view(deps, tenant_id, current)
    response: Document = ShiftRead.model_validate(shown).model_dump(mode="json")
    await movements.update_one(
        {"_id": movement["_id"]}, {"$set": {"status": "applied", "response": response}}
    )
    return response


async def _snapshot(
    deps: Deps, principal: Principal, shift: Document, version: int, counted: int, reason: str
) -> dict[str, Any]:
    figures = await compute_totals(deps, principal.tenant_id, shift["shift_id"])
    expected = shift_math.expected_cash(int(shift["cash_open"]), figures)
    snapshot = {
        "shift_id": shift["shift_id"],
        "store_id": shift["store_id"],
        "version": version,
        "at": deps.clock.now(),
        "by": principal.actor_id,
        "reason": reason,
        "cash_counted": counted,
        "cash_expected": expected,
        "cash_diff": shift_math.cash_difference(counted, expected),
        "totals": _totals_dict(figures),
    }
    await SnapshotRepository(deps.db, Scope(principal.tenant_id)).insert(snapshot)
    return snapshot


async def close_shift(deps: Deps, principal: Principal, counted: int) -> Document:
    shift = await require_open(deps, principal)
    repo = ShiftRepository(deps.db, Scope(principal.tenant_id))
    now = deps.clock.now()
    closed = await repo.find_one_and_update(
        {"shift_id": shift["shift_id"], "status": "open"},
        {
            "$set": {
                "status": "closed",
                "open_slot": shift["shift_id"],
                "closed_by": principal.actor_id,
                "close_at": now,
                "cash_counted": counted,
                "finalized": False,
            }
        },
    )
    if closed is None:
        raise ShiftClosed()
    return await view(deps, principal.tenant_id, await finalize_close(deps, principal, closed))


async def finalize_close(deps: Deps, principal: Principal, shift: Document) -> Document:
    """After the flip to closed: the first snapshot, the frozen totals, the event, the audit entry.
    Every step may be repeated, so a close whose requester died is finished by the sweeper."""
    repo = ShiftRepository(deps.db, Scope(principal.tenant_id))
    counted = int(shift["cash_counted"])
    try:
        snapshot = await _snapshot(deps, principal, shift, 1, counted, "close")
    except DuplicateKeyError:
        found = await SnapshotRepository(deps.db, Scope(principal.tenant_id)).find_one(
            {"shift_id": shift["shift_id"], "version": 1}
        )
        assert found is not None
        snapshot = found
    frozen = {k: snapshot[k] for k in shift_math.FROZEN}
    final = await repo.find_one_and_update({"shift_id": shift["shift_id"]}, {"$set": frozen})
    assert final is not None
    now = shift["close_at"]
    await outbox.emit_one(
        deps.db,
        principal.tenant_id,
        event_id=f"{shift['shift_id']}.shift.closed",
        type="shift.closed",
        store_id=shift["store_id"],
        resource="shift",
        resource_id=shift["shift_id"],
        sequence=1,
        at=now,
        data=shift_math.shift_closed_data(final),
    )
    await audit.record(
        deps,
        principal,
        "shift.closed",
        {
            "shift_id": shift["shift_id"],
            "cash_counted": counted,
            "cash_expected": snapshot["cash_expected"],
            "cash_diff": snapshot["cash_diff"],
        },
        store_id=shift["store_id"],
        device_id=shift["device_id"],
    )
    await alert_kinds.check_cash_difference(deps, principal.tenant_id, final)
    done = await repo.find_one_and_update(
        {"shift_id": shift["shift_id"], "finalized": False}, {"$set": {"finalized": True}}
    )
    return done or final


async def sweep_unfinished_closes(deps: Deps, limit: int = 50) -> int:
    """Closes whose requester died between the flip and the snapshot: finish them."""
    stale = deps.clock.now() - UNFINISHED_CLOSE_AFTER
    finished = 0
    for shift in await unfinished_closes_unscoped(deps.db, stale, limit):
        await finalize_close(deps, Principal(tenant_id=shift["tenant_id"], ip=None), shift)
        finished += 1
    return finished


async def _replace_count(
    repo: ShiftRepository, shift_id: str, version: int, frozen: dict[str, Any]
) -> Document:
    """Put a correction's figures on the shift unless a later version is there already, and answer
    what they replaced, read in the same write: a correction saved meanwhile is the `before` of this
    one, so the report summaries move from it and never count a change twice. Shifts closed before
    `count_version` existed take their first correction by `$exists`."""
    change = {"$set": {**frozen, "count_version": version}}
    for older in ({"$lt": version}, {"$exists": False}):
        replaced = await repo.find_one_and_update(
            {"shift_id": shift_id, "count_version": older}, change, after=False
        )
        if replaced is not None:
            return replaced
    raise Conflict("A later correction of this shift was saved first; its count stands. Look at it.")


async def correct_count(
    deps: Deps, principal: Principal, shift_id: str, counted: int, reason: str
) -> Document:
    """A manager fixes a miscounted drawer: a new snapshot version; the earlier ones stay."""
    repo = ShiftRepository(deps.db, principal.scope_with("shift_close"))
    shift = await repo.get({"shift_id": shift_id}, "Shift")
    principal.require_at("shift_close", shift["store_id"])
    if shift["status"] != "closed":
        raise Conflict("Only a closed shift's count can be corrected; close it first.")
    latest = await SnapshotRepository(deps.db, Scope(principal.tenant_id)).find_one(
        {"shift_id": shift_id}, sort=[("version", -1)]
    )
    version = (int(latest["version"]) + 1) if latest else 1
    try:
        snapshot = await _snapshot(deps, principal, shift, version, counted, reason)
    except DuplicateKeyError as exc:  # another correction took this version a moment ago
        raise Conflict(
            "Another correction of this shift was just saved; look at it, then correct again."
        ) from exc
    frozen = {k: snapshot[k] for k in shift_math.FROZEN}
    replaced = await _replace_count(repo, shift_id, version, frozen)
    final = {**replaced, **frozen}
    await outbox.emit_one(
        deps.db,
        principal.tenant_id,
        event_id=f"{shift_id}.shift.count_corrected.{version}",
        type="shift.count_corrected",
        store_id=shift["store_id"],
        resource="shift",
        resource_id=shift_id,
        sequence=version,
        at=snapshot["at"],
        data={
            "shift_id": shift_id,
            "device_id": shift["device_id"],
            "version": version,
            "reason": reason,
            "before": shift_math.shift_closed_data(replaced),
            "after": shift_math.shift_closed_data(final),
        },
    )
    await audit.record(
        deps,
        principal,
        "shift.count_corrected",
        {
            "shift_id": shift_id,
            "version": version,
            "before": replaced.get("cash_counted"),
            "after": counted,
            "reason": reason,
        },
        store_id=shift["store_id"],
    )
    await alert_kinds.check_cash_difference(deps, principal.tenant_id, final)
    return await view(deps, principal.tenant_id, final)
