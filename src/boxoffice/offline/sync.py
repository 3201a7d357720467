"""Applying what a device did offline, each op exactly once.

An op is claimed by inserting its record (`ops`, unique op_id) as pending; it is then applied by
the same code the online endpoints use, and its result stored. A retried op_id answers the stored
result (`duplicate`) and changes nothing; a claim whose requester died is taken over after its
lease, and every apply step is itself idempotent (sales by their key, redemptions by their id and
the op marked on the ticket). Ops are applied in `ts` order, so a ticket's offline scans merge in
the order they happened: the first PASS wins, a later one that finds no use left is stored as a
FAIL `duplicate_use` with `offline_conflict`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError

from boxoffice.access.dependencies import check_device_route
from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.core.db import C, Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import AppError, DeviceSuspended, InProgress, ValidationFailed
from boxoffice.core.logging import get_logger
from boxoffice.core.repository import Scope, ScopedRepository
from boxoffice.events.outbox import KEEP
from boxoffice.offline.schemas import SyncOp
from boxoffice.sales import service as sales
from boxoffice.sales import shifts
from boxoffice.sales.schemas import SaleCreate
from boxoffice.tenancy.repository import DeviceRepository
from boxoffice.tickets import redeem
from boxoffice.tickets.keys import KeyRing

LEASE = timedelta(seconds=60)
log = get_logger(__name__)


class OpRepository(ScopedRepository):
    """Sync results, kept well past any device's offline window for retried uploads."""

    collection_name = C.OPS
    keep_for = KEEP
    keep_from = "received_at"


async def apply_batch(
    deps: Deps, principal: Principal, ops: list[SyncOp], ring: KeyRing, outbox_remaining: int | None
) -> list[dict[str, Any]]:
    """Each op's outcome, in the order sent; one bad op never blocks the others."""
    device = principal.device
    assert device is not None
    results: dict[str, dict[str, Any]] = {}
    rules = await redeem.store_rules(deps, principal.tenant_id, str(device["store_id"]))
    # (one settings read per batch: its ops share the gate's rules)
    for op in sorted(ops, key=lambda o: (o.ts, o.device_seq or 0)):
        if op.op_id not in results:  # a repeat inside the batch is answered below, as a duplicate
            results[op.op_id] = await _one(deps, principal, op, ring, rules)
    await DeviceRepository(deps.db, Scope(principal.tenant_id)).update_one(
        {"device_id": device["device_id"]},
        {
            "$set": {
                "last_sync_at": deps.clock.now(),
                "outbox_remaining": outbox_remaining if outbox_remaining is not None else 0,
            },
            "$inc": {"ops_synced": sum(1 for r in results.values() if r["status"] == "applied")},
        },
    )
    seen: set[str] = set()
    ordered = []
    for op in ops:  # answer in the order sent; a repeated op_id inside one batch is a duplicate
        outcome = results[op.op_id]
        ordered.append(outcome if op.op_id not in seen else {**outcome, "status": "duplicate"})
        seen.add(op.op_id)
    return ordered


async def _one(deps: Deps, principal: Principal, op: SyncOp, ring: KeyRing, rules: Any) -> dict[str, Any]:
    device = principal.device
    assert device is not None
    repo = OpRepository(deps.db, Scope(principal.tenant_id))
    stored = await repo.find_one({"op_id": op.op_id})
    if stored is not None and stored["status"] != "pending":
        return {
            "op_id": op.op_id,
            "status": "duplicate",
            "result": stored.get("result"),
            "error": stored.get("error"),
        }
    now = deps.clock.now()
    if stored is None:
        try:
            await repo.insert(
                {
                    "op_id": op.op_id,
                    "device_id": device["device_id"],
                    "store_id": device["store_id"],
                    "type": op.type,
                    "ts": op.ts,
                    "status": "pending",
                    "lease_until": now + LEASE,
                    "received_at": now,
                    "simulated": bool(device.get("simulate_offline", False)),  # QA's "Simulate offline"
                }
            )
        except DuplicateKeyError:
            return {"op_id": op.op_id, "status": "rejected", "error": _error(InProgress())}
    else:
        if stored["lease_until"] > now:
            return {"op_id": op.op_id, "status": "rejected", "error": _error(InProgress())}
        taken = await repo.find_one_and_update(
            {"op_id": op.op_id, "status": "pending", "lease_until": stored["lease_until"]},
            {"$set": {"lease_until": now + LEASE}},
        )
        if taken is None:
            return {"op_id": op.op_id, "status": "rejected", "error": _error(InProgress())}
    try:
        _check_not_suspended(device, op.ts)
        result = await _apply(deps, principal, op, ring, rules)
        status, error = "applied", None
    except AppError as exc:
        status, result, error = "rejected", None, _error(exc)
    except ValidationError as exc:
        status, result = "rejected", None
        error = {
            "code": "E_VALIDATION",
            "message": "The op's payload does not match its type.",
            "details": exc.errors(include_url=False, include_context=False, include_input=False),
        }
    except Exception:  # one broken op must not stop the batch; it is kept for a retry
        log.exception("sync_op_failed", op_id=op.op_id, op_type=op.type)
        await repo.update_one({"op_id": op.op_id}, {"$set": {"lease_until": now}})
        return {
            "op_id": op.op_id,
            "status": "rejected",
            "error": {"code": "E_INTERNAL", "message": "Retry later."},
        }
    await repo.update_one(
        {"op_id": op.op_id},
        {"$set": {"status": status, "result": result, "error": error, "done_at": deps.clock.now()}},
    )
    return {"op_id": op.op_id, "status": status, "result": result, "error": error}


def _error(exc: AppError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message}


def _check_not_suspended(device: Document, ts: datetime) -> None:
    """A suspended device may still upload what it did before its suspension, nothing after."""
    suspended_at = device.get("suspended_at")
    if device.get("status") == "suspended" and (suspended_at is None or ts >= suspended_at):
        raise DeviceSuspended("This op was made after the device was suspended.")


#: The device route each op type stands for: the same type, cap and permission checks apply.
OP_ROUTES = {
    "sale": "sales.create",
    "redemption": "tickets.redeem",
    "shift_open": "shifts.open",
    "shift_close": "shifts.close",
    "audit": "sync.batch",
}


async def _apply(deps: Deps, principal: Principal, op: SyncOp, ring: KeyRing, rules: Any) -> dict[str, Any]:
    device = principal.device
    assert device is not None
    check_device_route(principal, OP_ROUTES[op.type])
    payload = op.payload
    if op.type == "sale":
        body = SaleCreate.model_validate(payload)
        sale, is_new = await sales.begin_sale(deps, principal, op.op_id, body, ring, sold_at=op.ts)
        response, _ = await sales.settle(deps, principal, sale, body, is_new)
        return {
            "sale_id": response["sale"]["sale_id"],
            "grand_total": response["sale"]["grand_total"],
            "ticket_ids": [t["ticket_id"] for t in response["tickets"]],
        }
    if op.type == "redemption":
        gate_result = payload.get("result", "pass")
        if gate_result not in ("pass", "fail"):
            raise ValidationFailed("A redemption op's result is pass or fail.")
        ticket = await redeem.find_ticket(
            deps, principal.tenant_id, ring, payload.get("qr_token"), payload.get("short_code")
        )
        offline = redeem.Offline(op.op_id, op.device_seq, gate_result, payload.get("reason"))
        outcome = await redeem.redeem(
            deps,
            principal,
            ticket,
            at=op.ts,
            zone=payload.get("zone"),
            amount=payload.get("amount"),
            rules=rules,
            offline=offline,
        )
        return redeem.outcome_view(outcome, deps.clock.now())
    if op.type == "shift_open":
        shift = await shifts.open_shift(deps, principal, int(payload.get("cash_open", 0)))
        return {"shift_id": shift["shift_id"]}
    if op.type == "shift_close":
        shift = await shifts.close_shift(deps, principal, int(payload.get("cash_counted", 0)))
        return {"shift_id": shift["shift_id"], "cash_diff": shift["cash_diff"]}
    event = str(payload.get("event_type", "note"))[:60]
    entry = await audit.record(
        deps,
        principal,
        f"device.{event}",
        {"op_id": op.op_id, "ts": op.ts.isoformat(), "data": payload.get("data", {})},
    )
    return {"audit_id": entry["audit_id"]}
