"""Applying what a device did offline, each op exactly once.

An op is claimed by inserting its record (`ops`, `_id` = device and op id: op ids are unique per
device, so two devices — or two tenants — never share one) as pending; it is then applied by the
same code the online endpoints use, and its result stored. A retried op_id answers the stored
result (`duplicate`) and changes nothing; a claim whose requester died is taken over after its
lease, and every apply step is itself idempotent (sales by their key, redemptions by their id and
the op marked on the ticket). Ops are applied in `ts` order, and across uploads the earliest PASS
of a ticket stands (tickets/redeem.py): a later one that finds no use left is stored as a FAIL
`duplicate_use` with `offline_conflict`, whichever arrived first.

An op's time is the device's clock, trusted only so far: it must lie between the device's last
contact (the last upload that left its outbox empty; its pairing before any) less
`offline.clock_skew_seconds`, and now plus that allowance. Outside, a redemption — a gate that let
someone in really did — is kept at the server's time and flagged `clock_skew`; a sale (its time
sets its price, its day in the books and its tickets' validity) is rejected E_CLOCK_SKEW, and so
is nothing else: shift and audit ops are kept at the server's time, flagged. An op made more than
`redemption.max_offline_minutes` after the device's last contact (that upload or its last gate
download) is flagged `offline_too_long`. Flagged ops of an upload make one incident per kind.

A POS sells offline within `offline.pos_max_sales` sales and `offline.pos_max_amount` satang
between two contacts: each sale op is counted on the device (one compare-and-set on its `_id`)
before it is applied, and refused E_CAP_EXCEEDED past either; the counts start again when an upload
leaves the outbox empty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError

from boxoffice.access.dependencies import check_device_route, employee_principal
from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.core.clock import isoformat_z
from boxoffice.core.db import C, Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import (
    AppError,
    CapExceeded,
    ClockSkew,
    DeviceSuspended,
    InProgress,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)
from boxoffice.core.ids import new_id
from boxoffice.core.logging import get_logger
from boxoffice.core.repository import Scope, ScopedRepository
from boxoffice.events.outbox import KEEP
from boxoffice.offline.schemas import SyncOp, SyncOpIn
from boxoffice.sales import service as sales
from boxoffice.sales import shifts
from boxoffice.sales.schemas import SaleCreate
from boxoffice.settings import service as settings
from boxoffice.tenancy.repository import DeviceRepository
from boxoffice.tickets import redeem
from boxoffice.tickets.keys import KeyRing
from boxoffice.tickets.redemption import GateRules
from boxoffice.tickets.repository import IncidentRepository

LEASE = timedelta(seconds=60)
log = get_logger(__name__)


class OpRepository(ScopedRepository):
    """Sync results, kept well past any device's offline window for retried uploads."""

    collection_name = C.OPS
    keep_for = KEEP
    keep_from = "received_at"


#: Errors after which the device will send the op again: its outbox is not empty yet.
RETRIED = frozenset({"E_IN_PROGRESS", "E_INTERNAL"})
#: How many op ids one incident lists.
INCIDENT_OPS = 100


@dataclass
class _Batch:
    """What the ops of one upload share, read once: the time, the store's rules and limits, and the
    device as the server last knew it."""

    now: datetime
    rules: GateRules
    skew: timedelta
    max_silence: timedelta
    max_sales: int
    max_amount: int
    device_key: Any  # the device's `_id`: its writes are addressed by it
    floor: datetime  # its last contact: no op of this upload is older (less the skew)
    contacts: tuple[datetime, ...]  # what else is known of its contacts (its last gate download)
    flagged: dict[str, list[str]] = field(default_factory=dict)  # incident kind → op ids


async def _open_batch(deps: Deps, principal: Principal, now: datetime) -> _Batch:
    device = principal.device
    assert device is not None
    devices = DeviceRepository(deps.db, Scope(principal.tenant_id))
    current = await devices.find_one({"device_id": device["device_id"]}, with_id=True) or device
    floor = current.get("contact_at") or current.get("approved_at") or current.get("registered_at") or now
    if "_id" in current and (current.get("contact_at") is None or "offline_sales_count" not in current):
        # first upload: its pairing is the last contact we know of; the sales counters start
        await devices.update_one(
            {"_id": current["_id"]},
            {
                "$set": {
                    "contact_at": floor,
                    "offline_sales_count": int(current.get("offline_sales_count", 0)),
                    "offline_sales_amount": int(current.get("offline_sales_amount", 0)),
                }
            },
        )
    values = (await settings.effective(deps, principal.tenant_id, str(device["store_id"])))["values"]
    limits = values["offline"]
    return _Batch(
        now=now,
        rules=redeem.gate_rules(values),
        skew=timedelta(seconds=int(limits["clock_skew_seconds"])),
        max_silence=timedelta(minutes=int(values["redemption"]["max_offline_minutes"])),
        max_sales=int(limits["pos_max_sales"]),
        max_amount=int(limits["pos_max_amount"]),
        device_key=current.get("_id"),
        floor=floor,
        contacts=tuple(c for c in (current.get("bootstrap_at"),) if c is not None),
    )


async def apply_batch(
    deps: Deps, principal: Principal, ops: list[SyncOpIn], ring: KeyRing, outbox_remaining: int | None
) -> list[dict[str, Any]]:
    """Each op's outcome, in the order sent; one bad op never blocks the others."""
    device = principal.device
    assert device is not None
    batch = await _open_batch(deps, principal, deps.clock.now())
    answers: list[dict[str, Any] | None] = [None] * len(ops)
    valid: list[tuple[int, SyncOp]] = []
    for n, raw in enumerate(ops):  # each op on its own: a bad one is rejected, never the batch
        try:
            valid.append((n, SyncOp.model_validate(raw.model_dump())))
        except ValidationError as exc:
            answers[n] = _rejected(str(raw.op_id), _invalid(exc, "The op does not match the op schema."))
    results: dict[str, dict[str, Any]] = {}
    for _, op in sorted(valid, key=lambda v: (v[1].ts, v[1].device_seq or 0)):
        if op.op_id not in results:  # a repeat inside the batch is answered below, as a duplicate
            results[op.op_id] = await _one(deps, principal, op, ring, batch)
    seen: set[str] = set()
    for n, op in valid:  # answer in the order sent; a repeated op_id inside one batch is a duplicate
        outcome = results[op.op_id]
        answers[n] = outcome if op.op_id not in seen else {**outcome, "status": "duplicate"}
        seen.add(op.op_id)
    await _close_batch(deps, principal, batch, results, outbox_remaining)
    return [a for a in answers if a is not None]


async def _close_batch(
    deps: Deps,
    principal: Principal,
    batch: _Batch,
    results: dict[str, dict[str, Any]],
    outbox_remaining: int | None,
) -> None:
    """Note the upload on the device. One that leaves its outbox empty (nothing said to be waiting,
    nothing to send again) is its new last contact, and its offline sales count from zero again."""
    device = principal.device
    assert device is not None
    drained = not outbox_remaining and not any(
        (r.get("error") or {}).get("code") in RETRIED for r in results.values()
    )
    changes: dict[str, Any] = {
        "last_sync_at": deps.clock.now(),
        "outbox_remaining": outbox_remaining if outbox_remaining is not None else 0,
    }
    if drained:
        changes.update(contact_at=batch.now, offline_sales_count=0, offline_sales_amount=0)
    devices = DeviceRepository(deps.db, Scope(principal.tenant_id))
    where = {"_id": batch.device_key} if batch.device_key is not None else {"device_id": device["device_id"]}
    applied = sum(1 for r in results.values() if r["status"] == "applied")
    await devices.update_one(where, {"$set": changes, "$inc": {"ops_synced": applied}})
    for kind, op_ids in batch.flagged.items():
        await IncidentRepository(deps.db, Scope(principal.tenant_id)).insert(
            {
                "incident_id": new_id(),
                "kind": kind,
                "ticket_id": "",
                "store_id": device["store_id"],
                "device_id": device["device_id"],
                "created_at": deps.clock.now(),
                "passes": [],
                "redemption_id": "",
                "status": "open",
                "details": {
                    "op_ids": op_ids[:INCIDENT_OPS],
                    "ops": len(op_ids),
                    "last_contact": batch.floor,
                    "clock_skew_seconds": int(batch.skew.total_seconds()),
                    "max_offline_minutes": int(batch.max_silence.total_seconds() // 60),
                },
            }
        )


def _when(op: SyncOp, batch: _Batch) -> tuple[datetime, tuple[str, ...]]:
    """The time an op is applied at, and what is flagged about it (see the module's note)."""
    flags: list[str] = []
    at = op.ts
    if not batch.floor - batch.skew <= op.ts <= batch.now + batch.skew:
        flags.append("clock_skew")
        at = batch.now
    last_contact = max((c for c in (batch.floor, *batch.contacts) if c <= at), default=batch.floor)
    if at - last_contact > batch.max_silence:
        flags.append("offline_too_long")
    return at, tuple(flags)


def _rejected(op_id: str, error: dict[str, Any], flags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"op_id": op_id, "status": "rejected", "result": None, "error": error, "flags": list(flags)}


def _invalid(exc: ValidationError, message: str) -> dict[str, Any]:
    return {
        "code": "E_VALIDATION",
        "message": message,
        "details": exc.errors(include_url=False, include_context=False, include_input=False),
    }


async def _one(deps: Deps, principal: Principal, op: SyncOp, ring: KeyRing, batch: _Batch) -> dict[str, Any]:
    device = principal.device
    assert device is not None
    repo = OpRepository(deps.db, Scope(principal.tenant_id))
    key = f"{device['device_id']}.{op.op_id}"
    stored = await repo.find_one({"_id": key})
    if stored is not None and stored["status"] != "pending":
        return {
            "op_id": op.op_id,
            "status": "duplicate",
            "result": stored.get("result"),
            "error": stored.get("error"),
            "flags": stored.get("flags") or [],
        }
    now = deps.clock.now()
    if stored is None:
        at, flags = _when(op, batch)
        try:
            await repo.insert(
                {
                    "_id": key,
                    "op_id": op.op_id,
                    "device_id": device["device_id"],
                    "store_id": device["store_id"],
                    "type": op.type,
                    "ts": op.ts,
                    "at": at,
                    "flags": list(flags),
                    "status": "pending",
                    "lease_until": now + LEASE,
                    "received_at": now,
                    "simulated": bool(device.get("simulate_offline", False)),  # QA's "Simulate offline"
                }
            )
        except DuplicateKeyError:
            return _rejected(op.op_id, _error(InProgress()))
        for flag, kind in (("clock_skew", "offline_clock_skew"), ("offline_too_long", "offline_too_long")):
            if flag in flags:
                batch.flagged.setdefault(kind, []).append(op.op_id)
    else:
        if stored["lease_until"] > now:
            return _rejected(op.op_id, _error(InProgress()))
        taken = await repo.find_one_and_update(
            {"_id": key, "status": "pending", "lease_until": stored["lease_until"]},
            {"$set": {"lease_until": now + LEASE}},
        )
        if taken is None:
            return _rejected(op.op_id, _error(InProgress()))
        at, flags = stored.get("at") or op.ts, tuple(stored.get("flags") or ())  # as first judged
    reserved: int | None = None
    try:
        if "clock_skew" in flags and op.type == "sale":
            raise ClockSkew(
                f"This sale is dated {isoformat_z(op.ts)}, outside what the device's clock is trusted for "
                f"({isoformat_z(batch.floor - batch.skew)} to {isoformat_z(batch.now + batch.skew)}); "
                "set the device's clock and ring it up again."
            )
        _check_not_suspended(device, at)
        if op.type == "sale":
            reserved = await _count_sale(deps, principal.tenant_id, batch, op)
        result = await _apply(deps, principal, op.model_copy(update={"ts": at}), ring, batch.rules, flags)
        if reserved is not None:
            await _settle_sale(deps, principal.tenant_id, batch, reserved, int(result["grand_total"]))
        status, error = "applied", None
    except AppError as exc:
        status, result, error = "rejected", None, _error(exc)
    except ValidationError as exc:
        status, result = "rejected", None
        error = _invalid(exc, "The op's payload does not match its type.")
    except Exception:  # one broken op must not stop the batch; it is kept for a retry
        log.exception("sync_op_failed", op_id=op.op_id, op_type=op.type)
        if reserved is not None:
            await _settle_sale(deps, principal.tenant_id, batch, reserved, None)
        await repo.update_one({"_id": key}, {"$set": {"lease_until": now}})
        return _rejected(op.op_id, {"code": "E_INTERNAL", "message": "Retry later."}, flags)
    if status == "rejected" and reserved is not None:
        await _settle_sale(deps, principal.tenant_id, batch, reserved, None)
    await repo.update_one(
        {"_id": key},
        {"$set": {"status": status, "result": result, "error": error, "done_at": deps.clock.now()}},
    )
    return {"op_id": op.op_id, "status": status, "result": result, "error": error, "flags": list(flags)}


async def _count_sale(deps: Deps, tenant_id: str, batch: _Batch, op: SyncOp) -> int:
    """Count an offline sale against the POS's allowance before it is applied (one compare-and-set
    on the device's `_id`, so concurrent uploads cannot both take the last one). The amount counted
    is the device's own total when it sent one (the sale is refused if it differs from the server's),
    else 0 until the sale is priced. Returns the amount counted."""
    total = op.payload.get("client_total")
    estimate = total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else 0
    if batch.device_key is None:
        return estimate
    room = {"$lte": batch.max_amount - estimate} if estimate else {"$lt": batch.max_amount}
    counted = await DeviceRepository(deps.db, Scope(tenant_id)).find_one_and_update(
        {
            "_id": batch.device_key,
            "offline_sales_count": {"$lt": batch.max_sales},
            "offline_sales_amount": room,
        },
        {"$inc": {"offline_sales_count": 1, "offline_sales_amount": estimate}},
    )
    if counted is None:
        raise CapExceeded(
            f"This POS may sell at most {batch.max_sales} times and {batch.max_amount} satang offline "
            "between two contacts with the server (settings: offline.pos_max_sales, pos_max_amount).",
            details={"pos_max_sales": batch.max_sales, "pos_max_amount": batch.max_amount},
        )
    return estimate


async def _settle_sale(deps: Deps, tenant_id: str, batch: _Batch, counted: int, total: int | None) -> None:
    """After the sale: count its real total (None: it was not made, give its place back)."""
    if batch.device_key is None:
        return
    change = {"offline_sales_amount": total - counted} if total is not None else {}
    if total is None:
        change = {"offline_sales_count": -1, "offline_sales_amount": -counted}
    if any(change.values()):
        devices = DeviceRepository(deps.db, Scope(tenant_id))
        await devices.update_one({"_id": batch.device_key}, {"$inc": change})


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


async def _acting(deps: Deps, principal: Principal, op: SyncOp) -> Principal:
    """Who did the op: the employee it names (signed in on the POS while it was offline), checked
    as they are now (active, holding the permission at the device's store), else the batch's."""
    if op.employee_id is None or op.employee_id == principal.employee_id:
        return principal
    try:
        return await employee_principal(
            deps, principal.tenant_id, op.employee_id, principal.ip, principal.device
        )
    except Unauthenticated as exc:
        raise PermissionDenied("The op names no active staff member of this tenant.") from exc


async def _apply(
    deps: Deps, principal: Principal, op: SyncOp, ring: KeyRing, rules: Any, flags: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Apply one op at `op.ts` (the time it is applied at: see `_when`)."""
    device = principal.device
    assert device is not None
    principal = await _acting(deps, principal, op)
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
        offline = redeem.Offline(op.op_id, op.device_seq, gate_result, payload.get("reason"), flags)
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
    event, note = device_note(payload)
    entry = await audit.record(
        deps, principal, f"device.{event}", {"op_id": op.op_id, "ts": op.ts.isoformat(), "data": note}
    )
    return {"audit_id": entry["audit_id"]}


#: What a device may write into the audit chain per op: small, plain, and named plainly. Larger or
#: stranger notes are refused (never cut short: evidence is not altered on the way in).
NOTE_MAX_BYTES = 2_048
NOTE_MAX_DEPTH = 4
EVENT_NAME = re.compile(r"^[a-z0-9_.]{1,60}$")


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def device_note(payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The event name and data of an `audit` op, or E_VALIDATION for this op alone."""
    event = payload.get("event_type", "note")
    if not isinstance(event, str) or not EVENT_NAME.match(event):
        raise ValidationFailed("An audit op's event_type is 1-60 of a-z, 0-9, _ and .")
    data = payload.get("data", {})
    if not isinstance(data, dict):
        raise ValidationFailed("An audit op's data is a JSON object.")
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    if size > NOTE_MAX_BYTES or _depth(data) > NOTE_MAX_DEPTH:
        raise ValidationFailed(
            f"An audit op's data is at most {NOTE_MAX_BYTES} bytes and {NOTE_MAX_DEPTH} levels deep."
        )
    return event, data
