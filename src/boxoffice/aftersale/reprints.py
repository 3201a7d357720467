"""Reprints: approved, with a reason, capped per device and per staff member each local day.

Write discipline: the reprint is inserted pending (keyed by its Idempotency-Key); the day's caps
are taken (given back, and the reprint deleted, if either is used up); then the ticket's
`printed_count` is compare-and-set incremented together with recording the reprint's id there
(`reprints.<id>`),
so repeating the step never counts twice; then the reprint is completed. A retry of a half-done
reprint repeats the ticket step and completes it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pymongo.errors import DuplicateKeyError

from boxoffice.access.principal import Principal
from boxoffice.aftersale.common import check_reason, device_of, store_settings
from boxoffice.aftersale.schemas import ReprintCreate
from boxoffice.audit import service as audit
from boxoffice.core import ratelimit
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import CapExceeded, Conflict, IdempotencyMismatch
from boxoffice.core.idempotency import fingerprint, raise_if_running, scoped_key
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.events import outbox
from boxoffice.staff.service import consume_approval
from boxoffice.tenancy.repository import StoreRepository
from boxoffice.tickets.issuance import ticket_view
from boxoffice.tickets.refund_rules import effective_status
from boxoffice.tickets.repository import ReprintRepository, TicketRepository

LEASE = timedelta(seconds=30)
REPRINT_FIELDS = (
    "reprint_id",
    "ticket_id",
    "store_id",
    "device_id",
    "status",
    "reason_code",
    "reason_text",
    "printed_by",
    "approver_id",
    "created_at",
)


def reprint_view(reprint: Document) -> Document:
    return {k: reprint.get(k) for k in REPRINT_FIELDS}


def next_local_midnight(now: datetime, tz: str) -> datetime:
    local_day = now.astimezone(ZoneInfo(tz)).date()
    return datetime.combine(local_day + timedelta(days=1), time.min, ZoneInfo(tz))


async def create_reprint(
    deps: Deps, principal: Principal, key: str, body: ReprintCreate
) -> tuple[Document, bool]:
    """Returns (response data, replayed)."""
    device = device_of(principal)
    store_id = str(device["store_id"])
    key = scoped_key(principal, key)
    scope = Scope(principal.tenant_id, frozenset({store_id}))
    repo = ReprintRepository(deps.db, scope)
    digest = fingerprint(store_id, str(device["device_id"]), body)
    existing = await repo.find_one({"idempotency_key": key})
    if existing is not None:
        return await _resume(deps, principal, existing, digest)

    ticket = await TicketRepository(deps.db, scope).get({"ticket_id": body.ticket_id}, "Ticket")
    status = effective_status(ticket, deps.clock.now())
    if status != "active":
        raise Conflict(f"This ticket is {status}; it is not reprinted.")
    values = await store_settings(deps, principal, store_id)
    check_reason(values, "reprint", body.reason_code)
    await ratelimit.hit(deps.db, deps.clock, ratelimit.REPRINT, str(device["device_id"]))
    await ratelimit.hit(deps.db, deps.clock, ratelimit.REPRINTS_BY_EMPLOYEE, principal.actor_id or "-")
    approval = await consume_approval(
        deps,
        tenant_id=principal.tenant_id,
        token=body.approval_token,
        action="reprint",
        store_id=store_id,
        target_id=ticket["ticket_id"],
        retry_key=key,
    )
    now = deps.clock.now()
    staff_id = principal.employee_id or str(approval["approver_id"])
    reprint = {
        "reprint_id": new_id(),
        "idempotency_key": key,
        "fingerprint": digest,
        "ticket_id": ticket["ticket_id"],
        "sale_id": ticket["sale_id"],
        "store_id": store_id,
        "device_id": device["device_id"],
        "status": "pending",
        "lease_until": now + LEASE,
        "reason_code": body.reason_code,
        "reason_text": body.reason_text,
        "printed_by": staff_id,
        "approver_id": approval["approver_id"],
        "approval_id": approval["approval_id"],
        "created_at": now,
        "response": None,
    }
    try:
        await repo.insert(reprint)
    except DuplicateKeyError:
        raced = await repo.find_one({"idempotency_key": key})
        if raced is None:
            raise
        return await _resume(deps, principal, raced, digest)
    await _take_caps(deps, principal, reprint, values, staff_id)
    return await _apply(deps, principal, reprint), False


async def _take_caps(
    deps: Deps, principal: Principal, reprint: Document, values: dict[str, object], staff_id: str
) -> None:
    store = await StoreRepository(deps.db, Scope(principal.tenant_id)).get(
        {"store_id": reprint["store_id"]}, "Store"
    )
    now = deps.clock.now()
    midnight = next_local_midnight(now, store["tz"])
    day = now.astimezone(ZoneInfo(store["tz"])).date().isoformat()
    caps = values["reprints"]
    assert isinstance(caps, dict)
    device_key = f"reprint_cap:{principal.tenant_id}:device:{reprint['device_id']}:{day}"
    staff_key = f"reprint_cap:{principal.tenant_id}:staff:{staff_id}:{day}"
    refusal = None
    if not await ratelimit.take_from_cap(deps.db, device_key, int(caps["daily_cap_per_device"]), midnight):
        refusal = f"This device has made its {caps['daily_cap_per_device']} reprints for today."
    elif not await ratelimit.take_from_cap(deps.db, staff_key, int(caps["daily_cap_per_staff"]), midnight):
        await ratelimit.give_back_to_cap(deps.db, device_key)
        refusal = f"This staff member has made their {caps['daily_cap_per_staff']} reprints for today."
    if refusal is not None:
        await ReprintRepository(deps.db, Scope(principal.tenant_id)).delete_one(
            {"reprint_id": reprint["reprint_id"], "status": "pending"}
        )
        retry_after = max(1, int((midnight - now).total_seconds()))
        raise CapExceeded(refusal, headers={"Retry-After": str(retry_after)})


async def _resume(deps: Deps, principal: Principal, reprint: Document, digest: str) -> tuple[Document, bool]:
    if reprint["fingerprint"] != digest:
        raise IdempotencyMismatch()
    if reprint["status"] == "completed":
        return reprint["response"], True
    now = deps.clock.now()
    raise_if_running(reprint["lease_until"], now)  # the first attempt may still be taking the caps
    return await _apply(deps, principal, reprint), True


async def _apply(deps: Deps, principal: Principal, reprint: Document) -> Document:
    """Count the print on the ticket once (its id is recorded there), then complete the reprint."""
    tickets = TicketRepository(deps.db, Scope(principal.tenant_id))
    while True:  # compare-and-set on the count; no array predicates (tests/conformance)
        ticket = await tickets.get({"ticket_id": reprint["ticket_id"]}, "Ticket")
        if reprint["reprint_id"] in ticket.get("reprints", {}):
            break
        seen = int(ticket["printed_count"])
        counted = await tickets.find_one_and_update(
            {"ticket_id": reprint["ticket_id"], "printed_count": seen},
            {
                "$inc": {"printed_count": 1, "event_seq": 1},
                "$set": {f"reprints.{reprint['reprint_id']}": True},
            },
        )
        if counted is not None:
            ticket = counted
            break
    response = {"reprint": reprint_view({**reprint, "status": "completed"}), "ticket": ticket_view(ticket)}
    await outbox.emit_one(
        deps.db,
        principal.tenant_id,
        event_id=f"{reprint['reprint_id']}.reprint.created",
        type="reprint.created",
        store_id=reprint["store_id"],
        resource="ticket",
        resource_id=reprint["ticket_id"],
        sequence=int(ticket.get("event_seq", 1)),
        at=deps.clock.now(),
        data={
            "reprint": reprint_view({**reprint, "status": "completed"}),
            "printed_count": ticket["printed_count"],
        },
    )
    repo = ReprintRepository(deps.db, Scope(principal.tenant_id))
    done = await repo.find_one_and_update(
        {"reprint_id": reprint["reprint_id"], "status": "pending"},
        {"$set": {"status": "completed", "completed_at": deps.clock.now(), "response": response}},
    )
    if done is None:
        current = await repo.get({"reprint_id": reprint["reprint_id"]}, "Reprint")
        stored: Document = current["response"]
        return stored
    await audit.record(
        deps,
        principal,
        "reprint.created",
        {
            "reprint_id": reprint["reprint_id"],
            "ticket_id": reprint["ticket_id"],
            "printed_count": ticket["printed_count"],
            "reason_code": reprint["reason_code"],
            "reason_text": reprint["reason_text"],
            "approver_id": reprint["approver_id"],
        },
        store_id=reprint["store_id"],
        device_id=reprint["device_id"],
        subjects=[reprint["reprint_id"], reprint["ticket_id"], reprint["sale_id"]],
    )
    return response
