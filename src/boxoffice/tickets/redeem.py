"""Redeeming at a gate: find the ticket, decide (pure rules), apply the use atomically, record the
attempt. Online scans and offline scans uploaded later share this code.

The use is a compare-and-set on the ticket's `passes` count, addressed by the ticket's `_id`: when
two gates scan one ticket at the same instant only one update matches; the other re-reads the
ticket and decides again (and now sees the use), so a ticket never passes more often than its
quota allows.

What a scan costs, at any number of tickets (every write by `_id`, every read an indexed equality):
an online PASS is three round trips — read the ticket (by ticket_id or short code), the use (the
compare-and-set also takes the event's sequence and counts offline passes per device), and one
ordered write (`RedemptionRepository.record`) of the event, the note in the store's change journal
(tickets/changes.py; an upload notes its batch once instead) and the scan's record. A FAIL takes
its event sequence with one `$inc` on the ticket's `_id` instead of the use. A `scan_id` adds one
read (the replay check); without one it costs nothing. Past PASS records are read only for an
offline PASS that finds the ticket used up or its gate at its offline cap.

The order, so a retry rolls forward (nothing spans collections atomically): the use, then the
event, the journal note and the record. A crash after the use leaves the ticket's `scans` mark:
the gate's retry (same scan_id, or the same offline op) finds it, answers PASS again without a
second use, and writes the event (a duplicate id, skipped), the note (twice is harmless) and the
record. A record is never stored without its event and note, and a stored record answers every
later retry.

An offline PASS the gate granted really let someone in: it uses the ticket even where the server
would have said no (its clock ran behind, its zone set-up differed) — the server's reason goes to
an incident; and the earliest PASS stands whatever order the gates upload in: later standing
passes give way (their records become FAIL `duplicate_use` with `offline_conflict`) and each
displacement is an incident naming both gates and both times.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boxoffice.access.principal import Principal
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import IdempotencyMismatch, PermissionDenied, ValidationFailed
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.core.writes import Update
from boxoffice.events import outbox
from boxoffice.settings import service as settings
from boxoffice.tickets import changes
from boxoffice.tickets.keys import KeyRing
from boxoffice.tickets.qr import InvalidSignature, normalize_short_code, verify
from boxoffice.tickets.redemption import (
    REASON_CODES,
    GateRules,
    Scan,
    StandingPass,
    Verdict,
    decide,
    displace,
    make_way,
    offline_cap,
    remaining_of,
)
from boxoffice.tickets.repository import IncidentRepository, RedemptionRepository, TicketRepository

MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class Offline:
    """How a scan made offline is told apart: the op it came in, and what the gate decided."""

    op_id: str
    device_seq: int | None
    gate_result: str  # "pass" | "fail": what the gate showed at the time
    gate_reason: str | None = None
    flags: tuple[str, ...] = ()  # what the upload noticed: its time replaced, a long silence


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    ticket: Document | None
    redemption: Document


@dataclass(frozen=True)
class _Use:
    """What deciding (and using) the ticket came to."""

    verdict: Verdict
    ticket: Document
    incident: str | None = None  # the incident kind this scan is, if any
    displaced: tuple[Document, ...] = ()  # later PASS records this earlier one took the place of
    details: dict[str, Any] = field(default_factory=dict)


def offline_redemption_id(device_id: str, op_id: str) -> str:
    """An offline scan's record id: op ids are unique per device only."""
    return f"{op_id}.{device_id}"


def scan_field(device_id: str, redemption_id: str) -> str:
    """The key a PASS leaves in its ticket's `scans` (a retry finds its own use there): a digest, so
    any id a device made is a safe field name and one device's id never matches another's."""
    return "k" + hashlib.sha256(f"{device_id}/{redemption_id}".encode()).hexdigest()[:24]


def check_device(principal: Principal, device_id: str | None) -> None:
    """A scan that names its device (`device_id` in the body) must be made by that device."""
    if device_id is not None and device_id != principal.device_id:
        raise PermissionDenied(
            "device_id names another device than the one signed in; a gate scans as itself."
        )


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
        return await repo.by_ticket_id(ticket_id)
    return await repo.find_one({"short_code": normalize_short_code(short_code or "")}, with_id=True)


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
    """`scan_id` (or an offline op's id) makes the scan idempotent: sent again by the same device
    for the same ticket, it answers what it answered the first time and uses nothing more — a gate
    may retry a scan whose answer it lost. A scan_id already recorded for another ticket or device
    is refused (409 E_IDEMPOTENCY_MISMATCH) before anything is looked at or used.

    `ticket` is read with its `_id` (`find_ticket`); one read without it is addressed by its
    ticket_id as `_id` (tickets are issued so) and re-read once if that misses."""
    device = principal.device
    assert device is not None
    device_id = str(device["device_id"])
    records = RedemptionRepository(deps.db, Scope(principal.tenant_id))
    if offline is not None:
        redemption_id = offline_redemption_id(device_id, offline.op_id)
    elif scan_id is not None:
        redemption_id = scan_id
        replayed = await _replay(records, scan_id, device_id, ticket)
        if replayed is not None:
            return replayed
    else:
        redemption_id = new_id()
    tickets = TicketRepository(deps.db, Scope(principal.tenant_id))
    scan = Scan(
        at=at,
        device_id=device_id,
        store_id=str(device["store_id"]),
        zone=gate_zone(device, zone),
        amount=amount,
    )
    granted = offline is not None and offline.gate_result == "pass"
    use: _Use | None = None
    if ticket is None:
        verdict = Verdict("fail", "invalid_sig", None, {})
    elif offline is not None and not granted:  # nobody got in: nothing to use
        reason = offline.gate_reason if offline.gate_reason in REASON_CODES else "duplicate_use"
        verdict = Verdict("fail", reason, remaining_of(ticket, at), {})  # type: ignore[arg-type]
    else:
        device_cap = int((device.get("caps") or {}).get("offline_cap", 0)) if granted else None
        use = await _decide_and_use(
            tickets, records, ticket, scan, rules, redemption_id, deps.clock.now(), device_cap
        )
        verdict, ticket = use.verdict, use.ticket
    conflict = use is not None and use.incident is not None and verdict.result == "fail"
    redemption = {
        "redemption_id": redemption_id,
        "ticket_id": ticket["ticket_id"] if ticket else "",
        "device_id": device_id,
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
            "units": verdict.units if verdict.result == "pass" else 0,
            "server_reason": verdict.overridden,
            "flags": list(offline.flags) if offline else [],
        },
    }
    sequence = await _sequence(tickets, ticket, verdict.result) if ticket is not None else None
    redemption, verdict, first = await _record(
        deps, records, tickets, ticket, redemption, sequence, journal=offline is None
    )
    if ticket is not None and verdict.result == "pass":
        await _settle_displaced(deps, records, ticket, redemption, use.displaced if use else ())
    if first and use is not None and use.incident is not None and ticket is not None:
        await _record_incident(deps, principal.tenant_id, use, ticket, redemption)
    return Outcome(verdict, ticket, redemption)


def _verdict_of(record: Document) -> Verdict:
    return Verdict(record["result"], record["reason"], record["remaining_after"], {})


async def _replay(
    records: RedemptionRepository, scan_id: str, device_id: str, ticket: Document | None
) -> Outcome | None:
    """A scan_id seen before: the same device scanning the same ticket gets the stored answer;
    anything else (another ticket, a forged QR, a made-up code, another device) is refused."""
    stored = await records.find_one({"redemption_id": scan_id})
    if stored is None:
        return None
    ticket_id = ticket["ticket_id"] if ticket is not None else ""
    if stored["device_id"] != device_id or stored["ticket_id"] != ticket_id:
        raise IdempotencyMismatch("This scan_id belongs to another scan; make a new scan_id for a new scan.")
    return Outcome(_verdict_of(stored), ticket, stored)


async def _record(
    deps: Deps,
    records: RedemptionRepository,
    tickets: TicketRepository,
    ticket: Document | None,
    redemption: Document,
    sequence: int | None,
    *,
    journal: bool,
) -> tuple[Document, Verdict, bool]:
    """Store the attempt, after its event and, with `journal` (an online scan: an upload notes its
    batch's uses once, offline/sync.py), a PASS's note of its ticket in the store's change journal
    (tickets/changes.py: gates' allow-lists learn of the use), in one ordered write. Already
    stored by this device for this ticket (a retry): what it stored stands. Stored under this id by
    another scan (a race past `_replay`): this is a new scan, kept under a new id. Returns (record,
    verdict, whether this call wrote it)."""
    used = journal and ticket is not None and redemption["result"] == "pass"
    note = _journal_note(records, ticket) if used and ticket is not None else None
    stored_now, noted = await records.record(redemption, _event(deps, ticket, redemption, sequence), note)
    if not noted and ticket is not None:  # the store's first note: `changes.note` makes the journal
        await changes.note(deps.db, records.scope.tenant_id, str(ticket["store_id"]), [ticket["ticket_id"]])
    if stored_now:
        return redemption, _verdict_of(redemption), True
    stored = await records.find_one({"redemption_id": redemption["redemption_id"]})
    if (
        stored is not None
        and stored["device_id"] == redemption["device_id"]
        and stored["ticket_id"] == redemption["ticket_id"]
    ):
        return stored, _verdict_of(stored), False
    redemption = {**redemption, "redemption_id": new_id()}
    if ticket is not None and redemption["result"] == "fail":
        sequence = await _sequence(tickets, ticket, "fail")
    if not (await records.record(redemption, _event(deps, ticket, redemption, sequence)))[0]:
        raise RuntimeError(f"redemption id {redemption['redemption_id']} taken twice")
    return redemption, _verdict_of(redemption), True


def _journal_note(records: RedemptionRepository, ticket: Document) -> Update:
    """`changes.note` for one used ticket, as a write of the scan's ordered write (the journal's own
    update: one `$inc` and a capped `$push` on its `_id`); a journal not made yet is made by
    `changes.note` itself (`_record`)."""
    tenant_id = records.scope.tenant_id
    key, change = changes.note_write(tenant_id, str(ticket["store_id"]), [str(ticket["ticket_id"])])
    return Update(changes.GateListRepository(records.db, Scope(tenant_id)), key, change)


def _key(ticket: Document) -> dict[str, Any]:
    """How a ticket is addressed for a conditional write: by `_id` (a write filtered on anything
    else scans the collection on the embedded server). A ticket read without it is addressed by its
    ticket_id, which is its `_id` (tickets/issuance.py); one issued before that misses, and the
    caller re-reads it with its `_id`."""
    return {"_id": ticket.get("_id", ticket["ticket_id"])}


async def _standing(records: RedemptionRepository, ticket: Document) -> list[Document]:
    """The ticket's PASS records that still stand (one whose place a displacement took, and whose
    record is not yet turned, is left out: the ticket's `scans` names its successor)."""
    return [r for r in await _pass_records(records, ticket) if not isinstance(_mark(ticket, r), str)]


async def _pass_records(records: RedemptionRepository, ticket: Document) -> list[Document]:
    """The ticket's PASS records, with their `_id` (to turn one by a compare-and-set on it)."""
    return await records.find_many(
        {"ticket_id": {"$eq": ticket["ticket_id"]}, "result": "pass"},  # `$eq`: the index's prefix
        projection={"_id": 1, "redemption_id": 1, "device_id": 1, "ts": 1, "metadata": 1},
    )


def _mark(ticket: Document, record: Document) -> Any:
    """What the ticket's `scans` holds for a recorded scan: truthy when its use stands, the id of
    the scan that displaced it, or None."""
    return (ticket.get("scans") or {}).get(scan_field(record["device_id"], record["redemption_id"]))


def _as_standing(ticket: Document, record: Document) -> StandingPass:
    units = (record.get("metadata") or {}).get("units")
    if units is None:  # recorded before units were: a visit is one; a credit amount is unknown
        units = 1 if ticket["type"] in ("single", "multi") else 0
    return StandingPass(record["redemption_id"], record["device_id"], record["ts"], int(units))


async def _decide_and_use(
    tickets: TicketRepository,
    records: RedemptionRepository,
    ticket: Document,
    scan: Scan,
    rules: GateRules,
    redemption_id: str,
    now: datetime,
    device_cap: int | None,
) -> _Use:
    """Decide and compare-and-set until the decision was made on the ticket as it stood.
    `device_cap` is given for an offline PASS the gate granted (the device's `offline_cap`)."""
    granted = device_cap is not None
    mine = scan_field(scan.device_id, redemption_id)
    for _ in range(MAX_ATTEMPTS):
        mark = (ticket.get("scans") or {}).get(mine)
        if isinstance(mark, str):  # a retry of a PASS that an earlier one displaced
            return _Use(Verdict("fail", "duplicate_use", remaining_of(ticket, scan.at), {}), ticket)
        if mark:  # this very scan passed before (a retry): its pass stands, once
            return _Use(Verdict("pass", None, remaining_of(ticket, scan.at), {}), ticket)
        verdict = decide(ticket, scan, rules, granted=granted)
        gone: list[Document] = []
        if device_cap is not None:
            judged = await _judge_granted(records, ticket, scan, rules, verdict, device_cap)
            if isinstance(judged, _Use):
                return judged
            verdict, gone = judged
        elif verdict.result == "fail":
            return _Use(verdict, ticket)
        # updated_at is server time: gates fetch what changed since their last download
        changes = {**verdict.changes, "updated_at": now, f"scans.{mine}": True}
        for record in gone:
            changes[f"scans.{scan_field(record['device_id'], record['redemption_id'])}"] = redemption_id
        counters = {"event_seq": 1}
        if granted:
            counters[f"offline_passes.{scan.device_id}"] = 1
        used = await tickets.find_one_and_update(
            {**_key(ticket), "status": "active", "passes": int(ticket.get("passes", 0))},
            {"$set": changes, "$inc": counters},
        )
        if used is not None:
            incident = "offline_verdict_override" if verdict.overridden else None
            details = {"server_reason": verdict.overridden} if verdict.overridden else {}
            return _Use(verdict, {**used, **_key(ticket)}, incident, tuple(gone), details)
        fresh = await tickets.by_ticket_id(ticket["ticket_id"])
        assert fresh is not None
        ticket = fresh
    raise RuntimeError(f"ticket {ticket['ticket_id']}: too contended to redeem")


async def _judge_granted(
    records: RedemptionRepository,
    ticket: Document,
    scan: Scan,
    rules: GateRules,
    verdict: Verdict,
    device_cap: int,
) -> _Use | tuple[Verdict, list[Document]]:
    """An offline PASS the gate granted (`verdict` is the server's, judged as granted): it uses the
    ticket if a use is left and the device is within its offline cap, else it stands in place of
    later passes — the device's own when it is at its cap (`make_way`), anyone's when the ticket
    has no use left (`displace`). Returns the verdict and the PASS records it displaces, or what
    the scan is instead: a conflict (over the cap, after the passes that stand) or a void ticket."""
    if verdict.reason in ("refunded", "cancelled"):
        return _Use(verdict, ticket, "offline_pass_void", details={"status": ticket["status"]})
    cap = offline_cap(ticket, device_cap)
    given = int((ticket.get("offline_passes") or {}).get(scan.device_id, 0))
    standing: list[Document] | None = None
    if given >= cap:  # it may be over its cap: what of this device's offline passes still stands?
        standing = await _standing(records, ticket)
        own = [
            _as_standing(ticket, r)
            for r in standing
            if r["device_id"] == scan.device_id and (r.get("metadata") or {}).get("offline")
        ]
        if len(own) >= cap:
            plan = make_way(ticket, scan, rules, own, verdict)
            if plan is None:
                left = remaining_of(ticket, scan.at)
                refused = Verdict("fail", "duplicate_use", left, {}, verdict.overridden)
                return _Use(refused, ticket, "offline_cap", details={"offline_cap": cap, "given": given})
            return plan[0], _records_of(plan[1], standing)
    if verdict.result == "pass":
        return verdict, []
    if standing is None:
        standing = await _standing(records, ticket)
    plan = displace(ticket, scan, rules, [_as_standing(ticket, r) for r in standing], verdict)
    if plan is None:  # it came after the passes that stand: it is the conflict
        refused = Verdict("fail", "duplicate_use", verdict.remaining, {}, verdict.overridden)
        return _Use(refused, ticket, "offline_double_pass")
    return plan[0], _records_of(plan[1], standing)


def _records_of(passes: list[StandingPass], records: list[Document]) -> list[Document]:
    ids = {p.redemption_id for p in passes}
    return [r for r in records if r["redemption_id"] in ids]


async def _settle_displaced(
    deps: Deps, records: RedemptionRepository, ticket: Document, winner: Document, known: tuple[Document, ...]
) -> None:
    """Turn the records of the passes this one displaced into the conflicts they now are, each
    with an incident naming both gates and both times. Each record turns once (a compare-and-set
    on its `_id`), so a retry that finds the work half done finishes it without repeating it."""
    marks = ticket.get("scans") or {}
    if winner["redemption_id"] not in marks.values():
        return
    if not known:  # a retry: find them again
        found = await _pass_records(records, ticket)
        known = tuple(r for r in found if _mark(ticket, r) == winner["redemption_id"])
    for record in known:
        turned = await records.find_one_and_update(
            {"_id": record["_id"], "result": "pass"},
            {
                "$set": {
                    "result": "fail",
                    "reason": "duplicate_use",
                    "metadata.offline_conflict": True,
                    "metadata.displaced_by": winner["redemption_id"],
                    "metadata.units": 0,
                }
            },
        )
        if turned is None:
            continue
        await IncidentRepository(deps.db, records.scope).insert(
            {
                "incident_id": new_id(),
                "kind": "offline_double_pass",
                "ticket_id": ticket["ticket_id"],
                "store_id": ticket["store_id"],
                "device_id": record["device_id"],
                "created_at": deps.clock.now(),
                "passes": [_pass_of(winner), _pass_of(record)],
                "redemption_id": record["redemption_id"],
                "status": "open",
                "details": {"displaced_by": winner["redemption_id"]},
            }
        )


def _pass_of(record: Document) -> Document:
    return {"device_id": record["device_id"], "at": record["ts"], "redemption_id": record["redemption_id"]}


async def _sequence(tickets: TicketRepository, ticket: Document, result: str) -> int:
    """The event's place in the ticket's sequence: a PASS took it in the use itself (the ticket as
    the use left it); a FAIL takes the next one now, by `_id`."""
    if result == "pass":
        return int(ticket.get("event_seq", 1))
    bumped = await tickets.find_one_and_update(_key(ticket), {"$inc": {"event_seq": 1}})
    if bumped is None and "_id" not in ticket:  # issued before tickets took their id as `_id`
        fresh = await tickets.find_one({"ticket_id": ticket["ticket_id"]}, {"_id": 1})
        if fresh is not None:
            bumped = await tickets.find_one_and_update({"_id": fresh["_id"]}, {"$inc": {"event_seq": 1}})
    return int(bumped["event_seq"]) if bumped else int(ticket.get("event_seq", 1))


def _event(
    deps: Deps, ticket: Document | None, redemption: Document, sequence: int | None
) -> Document | None:
    """ticket.redeemed.pass|fail, under an id derived from the scan's (a retry writes the same one);
    a scan of no ticket (a forged QR, an unknown code) has none."""
    if ticket is None or sequence is None:
        return None
    shown = {
        k: redemption[k] for k in ("redemption_id", "device_id", "ts", "result", "reason", "remaining_after")
    }
    return outbox.event(
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


async def _record_incident(
    deps: Deps, tenant_id: str, use: _Use, ticket: Document, redemption: Document
) -> None:
    """For the fraud watch: an offline PASS that could not stand as the gate gave it (the ticket had
    no use left for it, the gate passed it beyond its offline cap, or the ticket was void), or that
    stands over the server's own verdict (the gate's clock or set-up differed)."""
    passes = [_pass_of(redemption)]
    if use.incident == "offline_double_pass":  # the pass that stands before it
        passes.insert(0, {"device_id": ticket.get("last_pass_device"), "at": ticket.get("last_pass_at")})
    await IncidentRepository(deps.db, Scope(tenant_id)).insert(
        {
            "incident_id": new_id(),
            "kind": use.incident,
            "ticket_id": ticket["ticket_id"],
            "store_id": ticket["store_id"],
            "device_id": redemption["device_id"],
            "created_at": deps.clock.now(),
            "passes": passes,
            "redemption_id": redemption["redemption_id"],
            "status": "open",
            "details": use.details,
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
        "server_reason": outcome.redemption["metadata"].get("server_reason"),
        "flags": list(outcome.redemption["metadata"].get("flags") or []),
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
