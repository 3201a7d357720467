"""Redeeming at a gate: find the ticket, decide (pure rules), apply the use atomically, record the
attempt. Online scans and offline scans uploaded later share this code.

The use is a compare-and-set on the ticket's `passes` count: when two gates scan one ticket at
the same instant only one update matches; the other re-reads the ticket and decides again (and
now sees the use), so a ticket never passes more often than its quota allows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from boxoffice.access.principal import Principal
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import ValidationFailed
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.events import outbox
from boxoffice.settings import service as settings
from boxoffice.tickets.keys import KeyRing
from boxoffice.tickets.qr import InvalidSignature, normalize_short_code, verify
from boxoffice.tickets.redemption import REASON_CODES, GateRules, Scan, Verdict, decide, remaining_of
from boxoffice.tickets.repository import IncidentRepository, RedemptionRepository, TicketRepository

MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class Offline:
    """How a scan made offline is told apart: the op it came in, and what the gate decided."""

    op_id: str
    device_seq: int | None
    gate_result: str  # "pass" | "fail": what the gate showed at the time
    gate_reason: str | None = None


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    ticket: Document | None
    redemption: Document


def gate_rules(values: dict[str, Any]) -> GateRules:
    return GateRules(
        gate_binding=bool(values["features"]["gate_binding"]),
        grace_seconds=int(values["redemption"]["grace_seconds"]),
        zone_prices={z["zone_id"]: int(z.get("credit_price", 0)) for z in values["zones"]},
    )


def gate_zone(device: Document, zone: str | None) -> str | None:
    """The zone named by the scan, else the one zone the gate is set up for (if exactly one)."""
    if zone:
        return zone
    zones = device.get("zones") or []
    return str(zones[0]) if len(zones) == 1 else None


async def find_ticket(
    deps: Deps, tenant_id: str, ring: KeyRing, qr_token: str | None, short_code: str | None
) -> Document | None:
    """The ticket a QR or short code names; None when the QR is forged or nothing matches."""
    if not qr_token and not short_code:
        raise ValidationFailed("Give qr_token or short_code.")
    repo = TicketRepository(deps.db, Scope(tenant_id))
    if qr_token:
        try:
            ticket_id = verify(qr_token, ring.secrets)
        except InvalidSignature:
            return None
        return await repo.find_one({"ticket_id": ticket_id})
    return await repo.find_one({"short_code": normalize_short_code(short_code or "")})


async def redeem(
    deps: Deps,
    principal: Principal,
    ticket: Document | None,
    *,
    at: datetime,
    zone: str | None,
    amount: int | None,
    rules: GateRules,
    offline: Offline | None = None,
    scan_id: str | None = None,
) -> Outcome:
    """`scan_id` (or an offline op's id) makes the scan idempotent: sent again, it answers what it
    answered the first time and uses nothing more — a gate may retry a scan whose answer it lost."""
    device = principal.device
    scan_key = offline.op_id if offline is not None else scan_id
    assert device is not None
    tickets = TicketRepository(deps.db, Scope(principal.tenant_id))
    scan = Scan(
        at=at,
        device_id=str(device["device_id"]),
        store_id=str(device["store_id"]),
        zone=gate_zone(device, zone),
        amount=amount,
    )
    if ticket is None:
        verdict = Verdict("fail", "invalid_sig", None, {})
    elif offline is not None and offline.gate_result == "fail":  # nobody got in: nothing to use
        reason = offline.gate_reason if offline.gate_reason in REASON_CODES else "duplicate_use"
        verdict = Verdict("fail", reason, remaining_of(ticket, at), {})  # type: ignore[arg-type]
    elif offline is not None and await _past_offline_cap(deps, principal.tenant_id, device, ticket, offline):
        verdict = Verdict("fail", "duplicate_use", remaining_of(ticket, at), {})
    else:
        verdict, ticket = await _decide_and_use(tickets, ticket, scan, rules, scan_key, deps.clock.now())
    conflict = (
        offline is not None
        and offline.gate_result == "pass"
        and verdict.result == "fail"
        and verdict.reason in ("duplicate_use", "exhausted")
    )
    if conflict:  # the gate let them in offline; someone else had the use first
        verdict = Verdict("fail", "duplicate_use", verdict.remaining, {})
    redemption = {
        "redemption_id": scan_key or new_id(),
        "ticket_id": ticket["ticket_id"] if ticket else "",
        "device_id": scan.device_id,
        "store_id": scan.store_id,
        "ts": at,
        "recorded_at": deps.clock.now(),
        "result": verdict.result,
        "reason": verdict.reason,
        "remaining_after": verdict.remaining,
        "metadata": {
            "offline": offline is not None,
            "op_id": offline.op_id if offline else None,
            "device_seq": offline.device_seq if offline else None,
            "zone": scan.zone,
            "offline_conflict": conflict,
            "simulated": bool(device.get("simulate_offline", False)),
        },
    }
    if ticket is not None:
        await _emit(deps, principal.tenant_id, tickets, ticket, redemption)
    repo = RedemptionRepository(deps.db, Scope(principal.tenant_id))
    try:
        await repo.insert(redemption)
    except DuplicateKeyError:  # this scan was recorded before: what it stored stands
        stored = await repo.find_one({"redemption_id": redemption["redemption_id"]})
        if stored is not None:
            redemption = stored
            verdict = Verdict(stored["result"], stored["reason"], stored["remaining_after"], {})
    if conflict and ticket is not None:
        await _record_incident(deps, principal.tenant_id, ticket, redemption)
    return Outcome(verdict, ticket, redemption)


async def _decide_and_use(
    tickets: TicketRepository,
    ticket: Document,
    scan: Scan,
    rules: GateRules,
    scan_key: str | None,
    now: datetime,
) -> tuple[Verdict, Document]:
    """Decide and compare-and-set until the decision was made on the ticket as it stood."""
    for _ in range(MAX_ATTEMPTS):
        if scan_key is not None and scan_key in (ticket.get("scans") or {}):
            # this very scan passed before (a retry): its pass stands, once
            return Verdict("pass", None, remaining_of(ticket, scan.at), {}), ticket
        verdict = decide(ticket, scan, rules)
        if verdict.result == "fail":
            return verdict, ticket
        changes = {**verdict.changes, "updated_at": now}  # server time: gates fetch changes since
        if scan_key is not None:
            changes[f"scans.{scan_key}"] = True
        used = await tickets.find_one_and_update(
            {"ticket_id": ticket["ticket_id"], "status": "active", "passes": int(ticket.get("passes", 0))},
            {"$set": changes, "$inc": {"event_seq": 1}},
        )
        if used is not None:
            return verdict, used
        fresh = await tickets.find_one({"ticket_id": ticket["ticket_id"]})
        assert fresh is not None
        ticket = fresh
    raise RuntimeError(f"ticket {ticket['ticket_id']}: too contended to redeem")


async def _past_offline_cap(
    deps: Deps, tenant_id: str, device: Document, ticket: Document, offline: Offline
) -> bool:
    """A gate may give one ticket at most `offline_cap` offline passes; more are conflicts."""
    if offline.op_id in (ticket.get("scans") or {}):
        return False  # this op already counted
    cap = int((device.get("caps") or {}).get("offline_cap", 0))
    passed = await RedemptionRepository(deps.db, Scope(tenant_id)).count(
        {
            "ticket_id": ticket["ticket_id"],
            "device_id": device["device_id"],
            "result": "pass",
            "metadata.offline": True,
        }
    )
    return passed >= cap


async def _emit(
    deps: Deps, tenant_id: str, tickets: TicketRepository, ticket: Document, redemption: Document
) -> None:
    """ticket.redeemed.pass|fail, before the attempt is recorded (a retry writes the same id). A
    PASS took its sequence in the use itself; a FAIL takes the next one now."""
    sequence = int(ticket.get("event_seq", 1))
    if redemption["result"] == "fail":
        bumped = await tickets.find_one_and_update(
            {"ticket_id": ticket["ticket_id"]}, {"$inc": {"event_seq": 1}}
        )
        sequence = int(bumped["event_seq"]) if bumped else sequence
    shown = {
        k: redemption[k] for k in ("redemption_id", "device_id", "ts", "result", "reason", "remaining_after")
    }
    await outbox.emit_one(
        deps.db,
        tenant_id,
        event_id=f"{redemption['redemption_id']}.redeemed",
        type=f"ticket.redeemed.{redemption['result']}",
        store_id=redemption["store_id"],
        resource="ticket",
        resource_id=ticket["ticket_id"],
        sequence=sequence,
        at=deps.clock.now(),
        data={
            "ticket_id": ticket["ticket_id"],
            "short_code": ticket["short_code"],
            "redemption": shown,
            "offline": bool(redemption["metadata"]["offline"]),
            "offline_conflict": bool(redemption["metadata"]["offline_conflict"]),
        },
    )


async def _record_incident(deps: Deps, tenant_id: str, ticket: Document, redemption: Document) -> None:
    """Two devices let one ticket in where only one could: the later one is for the fraud watch."""
    await IncidentRepository(deps.db, Scope(tenant_id)).insert(
        {
            "incident_id": new_id(),
            "kind": "offline_double_pass",
            "ticket_id": ticket["ticket_id"],
            "store_id": ticket["store_id"],
            "created_at": deps.clock.now(),
            "passes": [
                {"device_id": ticket.get("last_pass_device"), "at": ticket.get("last_pass_at")},
                {"device_id": redemption["device_id"], "at": redemption["ts"]},
            ],
            "redemption_id": redemption["redemption_id"],
            "status": "open",
        }
    )


def outcome_view(outcome: Outcome, at: datetime) -> Document:
    verdict, ticket = outcome.verdict, outcome.ticket
    summary = None
    if ticket is not None:
        summary = {
            "ticket_id": ticket["ticket_id"],
            "short_code": ticket["short_code"],
            "name": ticket["name"],
            "type": ticket["type"],
            "status": ticket["status"],
            "valid_to": ticket["valid_to"],
            "remaining": remaining_of(ticket, at),
        }
    return {
        "result": verdict.result,
        "reason": verdict.reason,
        "reason_code": verdict.reason_code,
        "remaining": verdict.remaining,
        "redemption_id": outcome.redemption["redemption_id"],
        "offline_conflict": bool(outcome.redemption["metadata"].get("offline_conflict")),
        "ticket": summary,
    }


async def store_rules(deps: Deps, tenant_id: str, store_id: str) -> GateRules:
    return gate_rules((await settings.effective(deps, tenant_id, store_id))["values"])


class RulesCache:
    """Each store's gate rules, kept a few seconds per API process: a scan then costs no settings
    reads, and a changed setting reaches the gates within `ttl` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._rules: dict[tuple[str, str], tuple[float, GateRules]] = {}

    async def get(self, deps: Deps, tenant_id: str, store_id: str) -> GateRules:
        key = (tenant_id, store_id)
        cached = self._rules.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        rules = await store_rules(deps, tenant_id, store_id)
        self._rules[key] = (now + self.ttl, rules)
        return rules
