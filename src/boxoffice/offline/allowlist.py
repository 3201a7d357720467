"""Gates' allow-lists: kept per store in each API process, brought up to date from the store's
change journal (tickets/changes.py), so a bootstrap reads no tickets at all once a list is kept.

A list is computed as of the minute (`at`: now, floored to the minute), from each ticket's facts
(`Facts`: what decides whether it may pass, and its QR hash stored at issue). A ticket is listed
while it is active, has something left, its validity has not ended and starts within the gate's
window — and, when the gate serves some zones, it opens one of them. Expiry and coming into the
window are the only changes time makes; every other change is noted in the journal by its writer.

The list of a store is loaded from the tickets once (the active ones still valid: ~0.1 ms a ticket
on the embedded server) and kept: each later bootstrap reads the journal (one document by `_id`)
and only the tickets noted since (`_id $in`). A list further behind than the journal reaches (more
than tickets/changes.py KEEP ids) catches up from the tickets' change stamps instead (`updated_at`,
server time, written with every change: one range read of the store's tickets, which the embedded
server answers by reading them all, ~2 µs a ticket — still far cheaper than loading them); it is
loaded again every REBUILD_AFTER (a note lost to a crash between a write and its note heals then).

A download is named by a version `<seq>.<minute>.<tag>`: the journal's seq and the minute it was
made (`tag` ties it to the store, the zone order, the gate's zones and the window). Given back as
`since`, it yields a delta: the tickets noted since, plus those whose entry time changed (expired,
came into the window, a running timepass's minutes). The ETag needs no list: the content is fixed
by the seq and the last minute time changed it (`Lens.signature`), both known from the kept facts.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boxoffice.core.db import Database, Document
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.offline.repository import tickets_by_id
from boxoffice.offline.schemas import GateLayout
from boxoffice.settings import service as settings_service
from boxoffice.tickets.changes import Journal
from boxoffice.tickets.qr import qr_hash
from boxoffice.tickets.repository import TicketRepository

FIELDS = ["qr_hash", "type", "remaining", "valid_from", "valid_to", "zone_mask"]
TYPE_CODES = {"single": "s", "multi": "m", "timepass": "t", "credit": "c"}
MINUTE = 60_000  # times here are UNIX milliseconds
#: A delta reaches back at most this far (older `since`: the full list).
DELTA_REACH = 48 * 3_600_000
#: A kept list is loaded from the tickets again this often (seconds of process time).
REBUILD_AFTER = 6 * 3_600.0
#: Catching up from change stamps reads back this much before the last catch-up: a change is
#: stamped before its note (a sync batch's uses are noted at its end, within its lease).
STAMP_OVERLAP = 2 * MINUTE
#: Full lists kept serialized per store (per window, gate zones, layout and time), and time plans per lens.
BUILT_KEPT = 8
PLANS_KEPT = 32
#: What a list needs of a ticket.
FACT_FIELDS = {
    "_id": 0,
    "ticket_id": 1,
    "qr_hash": 1,
    "qr_token": 1,  # for a ticket issued before qr_hash was stored
    "type": 1,
    "status": 1,
    "quota_or_minutes": 1,
    "used": 1,
    "first_pass_at": 1,
    "valid_from": 1,
    "valid_to": 1,
    "zones": 1,
}


def unix_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def minute_of(at: datetime) -> int:
    """`at` floored to the minute, in UNIX milliseconds."""
    return unix_ms(at) // MINUTE * MINUTE


@dataclass(frozen=True, slots=True)
class Facts:
    """What decides whether a ticket may pass, times in UNIX milliseconds."""

    ticket_id: str
    qr_hash: str
    type: str
    active: bool
    quota: int
    used: int
    first_pass: int | None
    valid_from: int
    valid_to: int
    zones: frozenset[str]


def facts_of(ticket: Document) -> Facts:
    first = ticket.get("first_pass_at")
    return Facts(
        ticket_id=str(ticket["ticket_id"]),
        qr_hash=ticket.get("qr_hash") or qr_hash(ticket["qr_token"]),
        type=str(ticket["type"]),
        active=ticket["status"] == "active",
        quota=int(ticket.get("quota_or_minutes") or 0),
        used=int(ticket.get("used") or 0),
        first_pass=unix_ms(first) if first is not None else None,
        valid_from=unix_ms(ticket["valid_from"]),
        valid_to=unix_ms(ticket["valid_to"]),
        zones=frozenset(ticket.get("zones") or ()),
    )


def remaining(f: Facts, at: int) -> int | None:
    """As tickets/redemption.py `remaining_of`: visits, minutes or credit left; a single entry has
    None while unused, 0 once used."""
    if f.type == "single":
        return None if f.used == 0 else 0
    if f.type == "timepass":
        if f.first_pass is None:
            return f.quota
        left = f.quota * MINUTE - (at - f.first_pass)
        return min(f.quota, max(0, -(-left // MINUTE)))
    return max(0, f.quota - f.used)


def spent(f: Facts) -> bool:
    """Nothing left whatever the time (a running timepass still has minutes until they run out)."""
    if not f.active:
        return True
    return f.used > 0 if f.type == "single" else f.type != "timepass" and f.used >= f.quota


@dataclass(frozen=True)
class Lens:
    """What one gate sees of a store's tickets: its window, the store's zone order (for the zone
    mask) and the zones the gate serves (none: every zone)."""

    window: int  # milliseconds
    order: tuple[str, ...]
    gate_zones: frozenset[str]
    tag: str = field(init=False)
    bits: dict[str, int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        bits: dict[str, int] = {}
        for i, zone in enumerate(self.order):
            bits.setdefault(zone, 1 << i)
        object.__setattr__(self, "bits", bits)
        named = f"{self.window}|{','.join(self.order)}|{','.join(sorted(self.gate_zones))}"
        object.__setattr__(self, "tag", hashlib.sha256(named.encode()).hexdigest()[:8])

    def serves(self, f: Facts) -> bool:
        return not (self.gate_zones and f.zones and not f.zones & self.gate_zones)

    def entry(self, f: Facts, at: int) -> list[Any] | None:
        """The allow-list entry at `at`, or None when the ticket may not pass then."""
        if not f.active or f.valid_to <= at or f.valid_from >= at + self.window:
            return None
        left = remaining(f, at)
        if left == 0:
            return None
        mask = sum(self.bits.get(z, 0) for z in f.zones)
        return [f.qr_hash, TYPE_CODES[f.type], left, f.valid_from // 1000, f.valid_to // 1000, mask]

    def full(self, facts: Iterable[Facts], at: int) -> list[list[Any]]:
        entries = [e for f in facts if self.serves(f) and (e := self.entry(f, at)) is not None]
        entries.sort(key=_grouped)
        return entries

    def delta(
        self, facts: Mapping[str, Facts], noted: set[str], since: int, at: int
    ) -> tuple[list[list[Any]], list[str]]:
        """What changed for this gate between its download at `since` and `at`: the noted tickets
        as they are now, and those whose entry time changed. Returns (entries, removed hashes)."""
        entries: list[list[Any]] = []
        removed: list[str] = []
        for ticket_id in noted:
            f = facts.get(ticket_id)
            if f is None:
                continue
            now = self.entry(f, at) if self.serves(f) else None
            if now is None:
                removed.append(f.qr_hash)
            else:
                entries.append(now)
        for f in facts.values():
            if not f.active or f.valid_to <= since or f.valid_from >= at + self.window:
                continue  # listed at neither time
            steady = f.valid_to > at and f.valid_from < since + self.window
            if steady and not (f.type == "timepass" and f.first_pass is not None):
                continue  # listed at both, and only a running timepass changes while listed
            if f.ticket_id in noted or not self.serves(f):
                continue
            before, now = self.entry(f, since), self.entry(f, at)
            if now == before:
                continue
            if now is None:
                removed.append(f.qr_hash)
            else:
                entries.append(now)
        entries.sort()
        removed.sort()
        return entries, removed


def _grouped(entry: list[Any]) -> tuple[Any, ...]:
    """Entries alike side by side (a sale's tickets, the day's validity): the list compresses to
    ~20 bytes a ticket, little more than its hash (gzip level 6, ~8% smaller than by hash)."""
    qr, kind, left, valid_from, valid_to, mask = entry
    return (valid_to, valid_from, kind, -1 if left is None else left, mask, qr)


def packed(entries: Iterable[list[Any]], *, grouped: bool = False) -> list[list[Any]]:
    """The entries as groups `[type, remaining, valid_from, valid_to, zone_mask, hashes]`, one per
    set of equal values, their hashes sorted and end to end: a ticket then costs little more than
    its hash (16.5 incompressible bytes; 10,000 tickets gzip 10-15% smaller than as rows). Groups
    in `_grouped` order; `grouped`: the entries are in that order already (`Lens.full`'s)."""
    groups: list[list[Any]] = []
    hashes: list[str] = []
    for entry in entries if grouped else sorted(entries, key=_grouped):
        if not groups or groups[-1][:5] != entry[1:]:
            if groups:
                groups[-1].append("".join(hashes))
            groups.append(entry[1:])
            hashes = []
        hashes.append(entry[0])
    if groups:
        groups[-1].append("".join(hashes))
    return groups


@dataclass(frozen=True)
class Plan:
    """When time changes a list seen through one lens: the minutes a ticket expires or comes into
    the window, and the spans a running timepass's minutes tick."""

    points: list[int]
    running: list[tuple[int, int]]

    @classmethod
    def of(cls, facts: Iterable[Facts], lens: Lens) -> Plan:
        points: list[int] = []
        running: list[tuple[int, int]] = []
        for f in facts:
            if spent(f) or not lens.serves(f):
                continue
            expires = -(-f.valid_to // MINUTE) * MINUTE  # the first minute it is no longer listed
            enters = ((f.valid_from - lens.window) // MINUTE + 1) * MINUTE  # the first it is
            points += (expires, enters)
            if f.type == "timepass" and f.first_pass is not None:
                running.append((f.first_pass, min(f.first_pass + (f.quota + 1) * MINUTE, expires)))
        points.sort()
        return cls(points, running)

    def signature(self, at: int) -> int:
        """The last minute up to `at` at which time changed the list, or the start of `at`'s
        DELTA_REACH-long period if that is later (facts older than that may be dropped). Equal
        signatures at one seq: equal lists (no change lies between the two times)."""
        if any(start <= at <= end for start, end in self.running):
            return at
        i = bisect.bisect_right(self.points, at)
        return max(self.points[i - 1] if i else 0, at // DELTA_REACH * DELTA_REACH)


@dataclass
class StoreList:
    """One store's kept facts, as of the journal's `seq`; `floor`: every ticket whose validity
    ended after it is among them (older ones are dropped)."""

    seq: int
    facts: dict[str, Facts]
    floor: int
    synced: int  # before the journal read that gave `seq` (UNIX milliseconds, server time)
    loaded: float = field(default_factory=time.monotonic)
    plans: dict[Lens, Plan] = field(default_factory=dict)
    built: OrderedDict[tuple[Lens, GateLayout, int, int], bytes] = field(default_factory=OrderedDict)

    def plan(self, lens: Lens) -> Plan:
        if lens not in self.plans:
            if len(self.plans) >= PLANS_KEPT:  # gates asking with ever other windows
                self.plans.clear()
            self.plans[lens] = Plan.of(self.facts.values(), lens)
        return self.plans[lens]

    def full_json(self, lens: Lens, at: int, layout: GateLayout = "rows") -> bytes:
        """The serialized full list (rows, or groups with layout "packed"): built once per seq,
        lens, layout and signature."""
        key = (lens, layout, self.seq, self.plan(lens).signature(at))
        body = self.built.get(key)
        if body is None:
            entries = lens.full(self.facts.values(), at)
            body = json.dumps(
                entries if layout == "rows" else packed(entries, grouped=True), separators=(",", ":")
            ).encode()
            self.built[key] = body
            while len(self.built) > BUILT_KEPT:
                self.built.popitem(last=False)
        return body

    def update(self, docs: Iterable[Document], seq: int) -> None:
        for doc in docs:
            self.facts[doc["ticket_id"]] = facts_of(doc)
        self.seq = seq
        self.plans.clear()
        self.built.clear()

    def prune(self, at: int) -> None:
        floor = at - DELTA_REACH
        if floor - self.floor < 60 * MINUTE:
            return  # once an hour is enough
        self.facts = {k: f for k, f in self.facts.items() if f.valid_to > floor}
        self.floor = floor


class AllowLists:
    """What this API process keeps for gates' downloads (app.state.gate_lists): each store's list,
    its effective settings for a few seconds (as tickets/redeem.py RulesCache keeps gate rules: a
    changed setting reaches the gates within `settings_ttl`), and when each gate last downloaded."""

    def __init__(self, rebuild_after: float = REBUILD_AFTER, settings_ttl: float = 5.0) -> None:
        self.rebuild_after = rebuild_after
        self.settings_ttl = settings_ttl
        self._lists: dict[tuple[str, str], StoreList] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._settings: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        #: device_id → when this process last recorded its download (offline/bootstrap.py)
        self.contacts: dict[str, datetime] = {}

    async def settings(self, deps: Deps, tenant_id: str, store_id: str) -> dict[str, Any]:
        """The store's effective settings (settings/service.py `effective`), read at most every
        `settings_ttl` seconds."""
        key = (tenant_id, store_id)
        cached = self._settings.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        effective = await settings_service.effective(deps, tenant_id, store_id)
        self._settings[key] = (now + self.settings_ttl, effective)
        return effective

    async def current(
        self, db: Database, tenant_id: str, store_id: str, journal: Journal, at: int, read_at: int
    ) -> StoreList:
        """The store's list brought up to `journal`, read at or after `read_at` (loaded first if
        need be); `at`: the minute the list is for."""
        key = (tenant_id, store_id)
        async with self._locks.setdefault(key, asyncio.Lock()):
            kept = self._lists.get(key)
            if kept is None or time.monotonic() - kept.loaded > self.rebuild_after:
                kept = self._lists[key] = await _load(db, tenant_id, store_id, journal.seq, at, read_at)
            elif journal.seq > kept.seq:  # (a request that read the journal earlier has nothing to add)
                noted = journal.since(kept.seq)
                if noted is None:  # further behind than the journal reaches
                    docs = await _stamped_since(db, tenant_id, store_id, kept.synced - STAMP_OVERLAP)
                else:
                    docs = list((await _read(db, tenant_id, noted)).values())
                kept.update(docs, journal.seq)
            if journal.seq >= kept.seq:
                kept.synced = max(kept.synced, read_at)
            kept.prune(at)
            return kept

    async def reach_back(
        self, db: Database, tenant_id: str, store_id: str, kept: StoreList, since: int
    ) -> None:
        """Make sure the tickets whose validity ended after `since` are among the facts (a delta from
        before this process loaded the list needs those that expired meanwhile): one range read."""
        if since >= kept.floor:
            return
        async with self._locks.setdefault((tenant_id, store_id), asyncio.Lock()):
            if since >= kept.floor:
                return
            repo = TicketRepository(db, Scope(tenant_id))
            docs = await repo.find_many(
                {
                    "store_id": {"$eq": store_id},
                    "status": {"$eq": "active"},
                    "valid_to": {"$gt": _at(since), "$lte": _at(kept.floor)},
                },
                projection=FACT_FIELDS,
            )
            for doc in docs:
                kept.facts.setdefault(doc["ticket_id"], facts_of(doc))
            kept.floor = since

    async def facts_for(self, db: Database, tenant_id: str, kept: StoreList, ticket_ids: set[str]) -> None:
        """Add the facts of noted tickets the list does not hold (one refunded before it was loaded)."""
        missing = {t for t in ticket_ids if t not in kept.facts}
        if missing:
            for ticket_id, doc in (await _read(db, tenant_id, missing)).items():
                kept.facts.setdefault(ticket_id, facts_of(doc))


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


async def _read(db: Database, tenant_id: str, ticket_ids: set[str]) -> dict[str, Document]:
    return await tickets_by_id(TicketRepository(db, Scope(tenant_id)), ticket_ids, FACT_FIELDS)


async def _load(db: Database, tenant_id: str, store_id: str, seq: int, at: int, read_at: int) -> StoreList:
    """Every active ticket of the store whose validity has not ended (the journal was read first, so
    a change made meanwhile is read again at the next refresh)."""
    docs = await TicketRepository(db, Scope(tenant_id)).find_many(
        {"store_id": {"$eq": store_id}, "status": {"$eq": "active"}, "valid_to": {"$gt": _at(at)}},
        projection=FACT_FIELDS,
    )
    return StoreList(seq, {d["ticket_id"]: facts_of(d) for d in docs}, floor=at, synced=read_at)


async def _stamped_since(db: Database, tenant_id: str, store_id: str, since: int) -> list[Document]:
    """The store's tickets changed since `since` by their change stamp (any status: a refund too)."""
    return await TicketRepository(db, Scope(tenant_id)).find_many(
        {"store_id": {"$eq": store_id}, "updated_at": {"$gte": _at(since)}}, projection=FACT_FIELDS
    )
