"""Applying what a device did offline, each op exactly once.

An op is claimed by inserting its record (`ops`, `_id` = device and op id: op ids are unique per
device, so two devices — or two tenants — never share one) as pending, an upload's records in one
insert; it is then applied by the same code the online endpoints use, and the upload's results are
stored in one bulk write at its end. A retried op_id answers the stored result (`duplicate`) and
changes nothing; a claim whose requester died is taken over after its lease, and every apply step
is itself idempotent (sales by their key, redemptions by their id and the op marked on the
ticket), so an upload cut short is applied again, whole, by its retry.

Ops are applied in `ts` order, and across uploads the earliest PASS of a ticket stands
(tickets/redeem.py): a later one that finds no use left is stored as a FAIL `duplicate_use` with
`offline_conflict`, whichever arrived first.

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
from pymongo.errors import BulkWriteError

from boxoffice.access.dependencies import check_device_route, employee_principal
from boxoffice.access.principal import Principal
from boxoffice.alerts import kinds as alert_kinds
from boxoffice.audit import service as audit
from boxoffice.core.clock import isoformat_z
from boxoffice.core.db import Document
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
from boxoffice.core.repository import Scope
from boxoffice.offline.repository import OpRepository, tickets_by_id
from boxoffice.offline.schemas import SyncOp, SyncOpIn
from boxoffice.sales import service as sales
from boxoffice.sales import shifts
from boxoffice.sales.schemas import SaleCreate
from boxoffice.settings import service as settings
from boxoffice.tenancy.repository import DeviceRepository
from boxoffice.tickets import changes, redeem
from boxoffice.tickets.keys import KeyRing
from boxoffice.tickets.qr import InvalidSignature, normalize_short_code, verify
from boxoffice.tickets.redemption import GateRules
from boxoffice.tickets.repository import IncidentRepository, TicketRepository

__all__ = ["OpRepository", "apply_batch", "device_note"]

LEASE = timedelta(seconds=60)
log = get_logger(__name__)


#: Errors after which the device will send the op again: its outbox is not empty yet.
RETRIED = frozenset({"E_IN_PROGRESS", "E_INTERNAL"})
#: How many op ids one incident lists.
INCIDENT_OPS = 100


@dataclass
class _Batch:
    """What the ops of one upload share, read once: the time, the store's rules and limits, the
    device as the server last knew it, the tickets its scans name; and what the upload writes at
    its end."""

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
    tickets: dict[str, Document] = field(default_factory=dict)  # by ticket_id, as the ops left them
    codes: dict[str, str] = field(default_factory=dict)  # short code → ticket_id
    acting: dict[str, Principal] = field(default_factory=dict)  # employee_id → who did an op
    #: store_id → tickets a scan of this upload used (a gate may pass another store's ticket offline)
    used: dict[str, set[str]] = field(default_factory=dict)
    outcomes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # op record `_id` → update
    was_holding: bool = False  # its last upload left ops on it (an unsynced-ops alert may be open)
    #: ticket_id → (ticket, redemption_id) of a ticket this upload found let in too often
    double_admissions: dict[str, tuple[Document, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Claim:
    """An op this upload applies (its record claimed): the time it is applied at and its flags."""

    at: datetime
    flags: tuple[str, ...]


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
        was_holding=bool(current.get("holding_ops")),
    )


async def apply_batch(
    deps: Deps, principal: Principal, ops: list[SyncOpIn], ring: KeyRing, outbox_remaining: int | None
) -> list[dict[str, Any]]:
    """Each op's outcome, in the order sent; one bad op never blocks the others.

    What a batch costs does not grow with its ops, but for applying them: the device and the
    settings read once, every op record claimed in one insert (and the ones already there read in
    one `$in`), every ticket the scans name read in one `$in`, the use of each scan (tickets/redeem.py),
    the gates' journal noted once, every result stored in one bulk write, the device updated once."""
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
    in_order: dict[str, SyncOp] = {}  # a repeat inside the batch is answered below, as a duplicate
    for _, op in sorted(valid, key=lambda v: (v[1].ts, v[1].device_seq or 0)):
        in_order.setdefault(op.op_id, op)
    claims = await _claim(deps, principal, list(in_order.values()), batch)
    claimed = [op for op in in_order.values() if isinstance(claims[op.op_id], _Claim)]
    await _read_tickets(deps, principal.tenant_id, ring, claimed, batch)
    results: dict[str, dict[str, Any]] = {}
    for op in in_order.values():
        claim = claims[op.op_id]
        results[op.op_id] = (
            await _one(deps, principal, op, ring, batch, claim) if isinstance(claim, _Claim) else claim
        )
    # before the results: an op whose result is lost is applied again, and its scan noted again
    for store_id, used in batch.used.items():  # gates hear of the uses
        await changes.note(deps.db, principal.tenant_id, store_id, used)
    await OpRepository(deps.db, Scope(principal.tenant_id)).update_each(batch.outcomes)
    seen: set[str] = set()
    for n, op in valid:  # answer in the order sent; a repeated op_id inside one batch is a duplicate
        outcome = results[op.op_id]
        answers[n] = outcome if op.op_id not in seen else {**outcome, "status": "duplicate"}
        seen.add(op.op_id)
    await _close_batch(deps, principal, batch, results, outbox_remaining)
    return [a for a in answers if a is not None]


async def _claim(
    deps: Deps, principal: Principal, ops: list[SyncOp], batch: _Batch
) -> dict[str, _Claim | dict[str, Any]]:
    """Claim each op by inserting its record as pending, all in one insert (`_id` = device and op
    id: op ids are unique per device, so two devices — or two tenants — never share one). An op
    whose record is there already answers its stored result (`duplicate`), is still being applied
    (E_IN_PROGRESS), or is taken over when its requester's lease ran out. Returns, per op id, its
    claim or its answer."""
    device = principal.device
    assert device is not None
    repo = OpRepository(deps.db, Scope(principal.tenant_id))
    now = deps.clock.now()
    records: list[Document] = []
    for op in ops:
        at, flags = _when(op, batch)
        records.append(
            {
                "_id": _record_key(device, op),
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
    clashed: set[int] = set()
    if records:
        try:
            await repo.insert_many(records)
        except BulkWriteError as exc:
            errors = exc.details["writeErrors"]
            if any(e.get("code") != 11000 for e in errors):
                raise
            clashed = {int(e["index"]) for e in errors}
    claims: dict[str, _Claim | dict[str, Any]] = {}
    for n, record in enumerate(records):
        if n in clashed:
            continue
        claims[record["op_id"]] = _Claim(record["at"], tuple(record["flags"]))
        for flag, kind in (("clock_skew", "offline_clock_skew"), ("offline_too_long", "offline_too_long")):
            if flag in record["flags"]:
                batch.flagged.setdefault(kind, []).append(record["op_id"])
    if clashed:
        keys = [records[n]["_id"] for n in sorted(clashed)]
        stored = {d["op_id"]: d for d in await repo.find_many({"_id": {"$in": keys}})}
        for n in sorted(clashed):
            op = ops[n]
            claims[op.op_id] = await _take_over(repo, _record_key(device, op), op, stored.get(op.op_id), now)
    return claims


async def _take_over(
    repo: OpRepository, key: str, op: SyncOp, stored: Document | None, now: datetime
) -> _Claim | dict[str, Any]:
    """An op whose record was there: its stored result, or the op taken over from a requester that
    died (its lease ran out), as first judged."""
    if stored is not None and stored["status"] != "pending":
        return {
            "op_id": op.op_id,
            "status": "duplicate",
            "result": stored.get("result"),
            "error": stored.get("error"),
            "flags": stored.get("flags") or [],
        }
    if stored is None or stored["lease_until"] > now:
        return _rejected(op.op_id, _error(InProgress()))
    taken = await repo.find_one_and_update(
        {"_id": key, "status": "pending", "lease_until": stored["lease_until"]},
        {"$set": {"lease_until": now + LEASE}},
    )
    if taken is None:
        return _rejected(op.op_id, _error(InProgress()))
    return _Claim(stored.get("at") or op.ts, tuple(stored.get("flags") or ()))


def _record_key(device: Document, op: SyncOp) -> str:
    return f"{device['device_id']}.{op.op_id}"


async def _read_tickets(deps: Deps, tenant_id: str, ring: KeyRing, ops: list[SyncOp], batch: _Batch) -> None:
    """Every ticket the upload's scans name, read at once: by the ids their QR tokens vouch for (one
    `$in` on `_id`), and by short code (one indexed read each: a gate rarely has one typed in)."""
    ticket_ids: set[str] = set()
    codes: set[str] = set()
    for op in ops:
        if op.type != "redemption":
            continue
        qr_token, short_code = op.payload.get("qr_token"), op.payload.get("short_code")
        if qr_token and isinstance(qr_token, str):
            try:
                ticket_ids.add(verify(qr_token, ring.secrets))
            except InvalidSignature:
                pass
        elif short_code and isinstance(short_code, str):
            codes.add(normalize_short_code(short_code))
    repo = TicketRepository(deps.db, Scope(tenant_id))
    batch.tickets = await tickets_by_id(repo, ticket_ids)
    for code in sorted(codes):
        found = await repo.find_one({"short_code": code}, with_id=True)
        if found is not None:
            batch.codes[code] = found["ticket_id"]
            batch.tickets.setdefault(found["ticket_id"], found)


def _ticket_of(payload: dict[str, Any], ring: KeyRing, batch: _Batch) -> Document | None:
    """As tickets/redeem.py `find_ticket`, from the tickets read for the upload: the ticket a QR or
    short code names; None when the QR is forged or nothing matches."""
    qr_token, short_code = payload.get("qr_token"), payload.get("short_code")
    if not qr_token and not short_code:
        raise ValidationFailed("Give qr_token or short_code.")
    if qr_token:
        if not isinstance(qr_token, str):
            raise ValidationFailed("qr_token is a string.")
        try:
            return batch.tickets.get(verify(qr_token, ring.secrets))
        except InvalidSignature:
            return None
    if not isinstance(short_code, str):
        raise ValidationFailed("short_code is a string.")
    ticket_id = batch.codes.get(normalize_short_code(short_code))
    return batch.tickets.get(ticket_id) if ticket_id else None


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
    fields: dict[str, Any] = {
        "last_sync_at": deps.clock.now(),
        "outbox_remaining": outbox_remaining if outbox_remaining is not None else 0,
        "holding_ops": not drained,  # indexed: the unsynced-ops check reads the devices holding some
    }
    if drained:
        fields.update(contact_at=batch.now, offline_sales_count=0, offline_sales_amount=0)
    devices = DeviceRepository(deps.db, Scope(principal.tenant_id))
    where = {"_id": batch.device_key} if batch.device_key is not None else {"device_id": device["device_id"]}
    applied = sum(1 for r in results.values() if r["status"] == "applied")
    await devices.update_one(where, {"$set": fields, "$inc": {"ops_synced": applied}})
    incidents = [
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
        for kind, op_ids in batch.flagged.items()
    ]
    if incidents:
        await IncidentRepository(deps.db, Scope(principal.tenant_id)).insert_many(incidents)
    if drained and batch.was_holding:
        await alert_kinds.device_synced(deps, principal.tenant_id, str(device["device_id"]))
    for ticket, redemption_id in batch.double_admissions.values():
        await alert_kinds.offline_double_admission(
            deps,
            principal.tenant_id,
            ticket=ticket,
            redemption_id=redemption_id,
            device_id=str(device["device_id"]),
            store_id=str(device["store_id"]),
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


def _admitted_twice(outcome: redeem.Outcome) -> bool:
    """Whether this offline scan shows its ticket let in more often than it allows: a PASS the gate
    gave that found no use left (kept as FAIL duplicate_use with offline_conflict), or a PASS that
    took the place of a later one (the ticket's `scans` names it as the displacer)."""
    record = outcome.redemption
    if record["result"] == "fail":
        return record["reason"] == "duplicate_use" and bool(record["metadata"].get("offline_conflict"))
    marks = (outcome.ticket or {}).get("scans") or {}
    return any(isinstance(mark, str) and mark == record["redemption_id"] for mark in marks.values())


def _rejected(op_id: str, error: dict[str, Any], flags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"op_id": op_id, "status": "rejected", "result": None, "error": error, "flags": list(flags)}


def _invalid(exc: ValidationError, message: str) -> dict[str, Any]:
    return {
        "code": "E_VALIDATION",
        "message": message,
        "details": exc.errors(include_url=False, include_context=False, include_input=False),
    }


async def _one(
    deps: Deps, principal: Principal, op: SyncOp, ring: KeyRing, batch: _Batch, claim: _Claim
) -> dict[str, Any]:
    """Apply one claimed op; its result is stored with the batch's (`batch.outcomes`)."""
    device = principal.device
    assert device is not None
    key = _record_key(device, op)
    at, flags = claim.at, claim.flags
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
        result = await _apply(deps, principal, op.model_copy(update={"ts": at}), ring, batch, flags)
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
        batch.outcomes.append((key, {"$set": {"lease_until": deps.clock.now()}}))
        return _rejected(op.op_id, {"code": "E_INTERNAL", "message": "Retry later."}, flags)
    if status == "rejected" and reserved is not None:
        await _settle_sale(deps, principal.tenant_id, batch, reserved, None)
    batch.outcomes.append(
        (key, {"$set": {"status": status, "result": result, "error": error, "done_at": deps.clock.now()}})
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


async def _acting(deps: Deps, principal: Principal, op: SyncOp, batch: _Batch) -> Principal:
    """Who did the op: the employee it names (signed in on the POS while it was offline), checked
    as they are now (active, holding the permission at the device's store; once per upload), else
    the batch's."""
    if op.employee_id is None or op.employee_id == principal.employee_id:
        return principal
    if op.employee_id not in batch.acting:
        try:
            batch.acting[op.employee_id] = await employee_principal(
                deps, principal.tenant_id, op.employee_id, principal.ip, principal.device
            )
        except Unauthenticated as exc:
            raise PermissionDenied("The op names no active staff member of this tenant.") from exc
    return batch.acting[op.employee_id]


async def _apply(
    deps: Deps, principal: Principal, op: SyncOp, ring: KeyRing, batch: _Batch, flags: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Apply one op at `op.ts` (the time it is applied at: see `_when`)."""
    device = principal.device
    assert device is not None
    principal = await _acting(deps, principal, op, batch)
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
        ticket = _ticket_of(payload, ring, batch)
        offline = redeem.Offline(op.op_id, op.device_seq, gate_result, payload.get("reason"), flags)
        outcome = await redeem.redeem(
            deps,
            principal,
            ticket,
            at=op.ts,
            zone=payload.get("zone"),
            amount=payload.get("amount"),
            rules=batch.rules,
            offline=offline,
        )
        if outcome.ticket is not None:  # as this scan left it: the next op on it starts from there
            batch.tickets[outcome.ticket["ticket_id"]] = outcome.ticket
            if _admitted_twice(outcome):
                batch.double_admissions[outcome.ticket["ticket_id"]] = (
                    outcome.ticket,
                    str(outcome.redemption["redemption_id"]),
                )
            if outcome.verdict.result == "pass":
                batch.used.setdefault(str(outcome.ticket["store_id"]), set()).add(outcome.ticket["ticket_id"])
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
