"""Append to, link and verify the audit chain — without ever failing the caller over contention.

Appending takes the tenant's next sequence number with one atomic `$inc` on its counter document
(`audit_heads`, by `_id`; the document also holds the head: the last linked entry) and inserts the
entry under that number. When the head stood right before it, the entry is hashed and inserted
linked, and the head moved on to it: three round trips, none of them retried (two writers in step
read the one entry between first: four). Otherwise it is inserted unlinked and linked later, in
seq order, by a linker: whoever moves the head next goes on to link every entry already written
after it (so a writer that finds the head further back leaves its entry to them), and a writer
that finds the head stalled for a grace links itself.
A number handed out but never written (its writer died) stops the linking until the grace has run
out; then it is filled with a gap entry, linked and reported as such. Readers of the log and
`verify` link what they can before reading.

Linking is catch-up work: once the entry is stored, no failure of it reaches the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from boxoffice.access.principal import Principal
from boxoffice.audit.chain import (
    GENESIS,
    GENESIS_HASH,
    Anchor,
    BrokenLink,
    ChainCheck,
    ChainStart,
    check_chain,
    entry_hash,
    gap_entry,
    is_linked,
)
from boxoffice.audit.repository import (
    AnchorRepository,
    AuditHeadRepository,
    AuditRepository,
    entry_key,
    iterate_chain,
)
from boxoffice.core.clock import Clock, SystemClock
from boxoffice.core.db import Database, Document, decode, encode
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.logging import get_logger
from boxoffice.core.repository import Scope
from boxoffice.core.writes import Insert

log = get_logger(__name__)

#: How long a sequence number may stay handed out but unwritten before it is filled as a gap. A
#: writer needs milliseconds between the two; one slower than this (or whose clock is this far
#: behind) finds its number filled and takes another, so nothing is lost either way.
GAP_GRACE = timedelta(seconds=10)
#: Entries read per linker round trip, and rounds per call (a request links at most 2,000).
LINK_BATCH = 100
LINK_ROUNDS = 20
#: Numbers a writer may find between the head and its own and still link itself at once (more
#: would mostly find them still being written).
PEEK = 1
#: Numbers one append may take: more than one only when a number was filled as a gap first.
MAX_TAKES = 5


def _to_millis(at: datetime) -> datetime:
    """MongoDB keeps milliseconds; hash what will be read back."""
    at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


@dataclass
class Linked:
    """What one linker call did."""

    linked: int = 0
    gaps: list[int] = field(default_factory=list)


class _Chain:
    """One tenant's entries and counter, and the clock that decides graces."""

    def __init__(self, db: Database, clock: Clock, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.clock = clock
        self.entries = AuditRepository(db, Scope(tenant_id))
        self.heads = AuditHeadRepository(db, Scope(tenant_id))

    async def take(self) -> Document:
        """The next sequence number (the counter document after the `$inc`)."""
        for _ in range(3):
            state = await self.heads.take(self.clock.now())
            if state is not None:
                return state
            await self._start()
        raise RuntimeError(f"audit counter of tenant {self.tenant_id} could not be set up")

    async def _start(self) -> None:
        """Set up the counter once per tenant, from what is there: numbering goes on after the
        highest entry; the head stays where it is unless the chain's last linked entry is further
        on (a chain written before heads existed, or a head left one behind by an older append)."""
        head = await self.heads.head()
        if head is not None and "taken" in head:
            return
        last = await self.entries.last()
        linked = last if last is None or is_linked(last) else await self.entries.last(linked=True)
        start: Document = head or {"seq": 0, "hash": GENESIS_HASH, "audit_id": None}
        if linked is not None and int(linked["seq"]) > int(start["seq"]):
            start = linked
        taken = max(int(start["seq"]), int(last["seq"]) if last else 0)
        await self.heads.start(taken=taken, head=start, now=self.clock.now())

    async def link(self, state: Document, *, rounds: int = LINK_ROUNDS) -> Linked:
        """Link, in seq order from the head, every entry already written, filling numbers whose
        grace has run out with gap entries, and move the head along. Stops at a number still
        within its grace (its writer, once it has written, finds the head right before it and
        links on), or when another linker has moved the head (it goes on from there)."""
        done = Linked()
        for _ in range(rounds):
            head_seq, taken = int(state["seq"]), int(state.get("taken", 0))
            if head_seq >= taken:
                break
            upto = min(taken, head_seq + LINK_BATCH)
            found = await self.entries.stored(range(head_seq + 1, upto + 1))
            prev_hash = str(state["hash"])
            links: list[tuple[Any, str, str]] = []
            gaps: list[int] = []
            last: tuple[int, str, str] | None = None
            for seq in range(head_seq + 1, upto + 1):
                doc = found.get(seq)
                if doc is None:
                    if not self._grace_over(seq, found, upto, state):
                        break
                    doc, filled = await self._fill_gap(seq, prev_hash)
                    if doc is None:
                        break
                    if filled:
                        gaps.append(seq)
                if is_linked(doc):
                    if doc.get("prev_hash") != prev_hash or doc.get("hash") != entry_hash(prev_hash, doc):
                        log.error("audit_chain_does_not_link", tenant_id=self.tenant_id, seq=seq)
                        break  # left as it is for verify to report
                    hash_ = str(doc["hash"])
                else:
                    hash_ = entry_hash(prev_hash, {**doc, "prev_hash": prev_hash})
                    links.append((doc["_id"], prev_hash, hash_))
                prev_hash = hash_
                last = (seq, hash_, str(doc["audit_id"]))
            if links:
                await self.entries.set_links(links)
            if last is None:
                break
            moved = await self.heads.advance(
                head_seq, seq=last[0], hash_=last[1], audit_id=last[2], now=self.clock.now()
            )
            done.linked += len(links)
            done.gaps.extend(gaps)
            if moved is None:
                break  # another linker moved the head on, and carries on from there
            state = moved
        return done

    async def hash_before(self, state: Document, seq: int) -> str | None:
        """The hash `seq` links to, when it can be had now: the head's, when the head stands right
        before it; else, when no more than `PEEK` numbers lie between and all are written (two
        writers in step: the other one's entry is in), theirs — linked on the way, before `seq`
        is, so that a linked entry never follows one that is not."""
        head_seq, prev_hash = int(state["seq"]), str(state["hash"])
        if head_seq == seq - 1:
            return prev_hash
        if seq - 1 - head_seq > PEEK:
            return None
        found = await self.entries.stored(range(head_seq + 1, seq))
        links: list[tuple[Any, str, str]] = []
        for before in range(head_seq + 1, seq):
            doc = found.get(before)
            if doc is None:
                return None  # still being written: this entry waits for the linker
            if is_linked(doc):
                if doc.get("prev_hash") != prev_hash or doc.get("hash") != entry_hash(prev_hash, doc):
                    return None  # does not link: left to the linker (and verify)
                prev_hash = str(doc["hash"])
            else:
                hash_ = entry_hash(prev_hash, {**doc, "prev_hash": prev_hash})
                links.append((doc["_id"], prev_hash, hash_))
                prev_hash = hash_
        if links:
            await self.entries.set_links(links)
        return prev_hash

    def _grace_over(self, seq: int, found: dict[int, Document], upto: int, state: Document) -> bool:
        """Has `seq` been handed out for longer than the grace? It was handed out before any later
        number, so before the first later entry was written (entries are stamped after taking
        their number); with none written yet, before the counter last handed one out."""
        later = next((found[s] for s in range(seq + 1, upto + 1) if s in found), None)
        since = decode(later["ts"]) if later is not None else state.get("taken_at")
        return isinstance(since, datetime) and self.clock.now() - since >= GAP_GRACE

    async def _fill_gap(self, seq: int, prev_hash: str) -> tuple[Document | None, bool]:
        """Insert the gap entry for `seq` (and True), or, if its writer (or another linker) got
        there first after all, read what is there."""
        at = _to_millis(self.clock.now())
        gap = gap_entry(tenant_id=self.tenant_id, seq=seq, prev_hash=prev_hash, at=at, audit_id=new_id())
        try:
            await self.entries.insert_entry(gap)
        except DuplicateKeyError:
            return await self.entries.stored_at(seq), False
        log.warning("audit_gap_filled", tenant_id=self.tenant_id, seq=seq)
        return encode(gap), True

    def stalled(self, state: Document) -> bool:
        """The head has not moved for a grace while numbers wait: a writer or linker stopped."""
        since = state.get("linked_at")
        return not isinstance(since, datetime) or self.clock.now() - since >= GAP_GRACE

    async def catch_up(self) -> Linked:
        state = await self.heads.head()
        if state is None or int(state["seq"]) >= int(state.get("taken", 0)):
            return Linked()
        return await self.link(state)


def _fields(
    tenant_id: str,
    event_type: str,
    payload: dict[str, Any] | None,
    store_id: str | None,
    actor_id: str | None,
    device_id: str | None,
    ip: str | None,
    subjects: list[str] | None,
) -> dict[str, Any]:
    """What an entry records, as `append` and `prepare` are given it (and `settle` appends anew)."""
    return {
        "tenant_id": tenant_id,
        "event_type": event_type,
        "payload": payload,
        "store_id": store_id,
        "actor_id": actor_id,
        "device_id": device_id,
        "ip": ip,
        "subjects": subjects,
    }


def _entry(fields: dict[str, Any], audit_id: str, seq: int, at: datetime) -> Document:
    entry: Document = {
        "audit_id": audit_id,
        "seq": seq,
        "ts": _to_millis(at),  # after taking the number: see _Chain._grace_over
        "tenant_id": fields["tenant_id"],
        "store_id": fields.get("store_id"),
        "actor_id": fields.get("actor_id"),
        "device_id": fields.get("device_id"),
        "event_type": fields["event_type"],
        "payload": fields.get("payload") or {},
        "ip": fields.get("ip"),
    }
    if fields.get("subjects"):
        entry["subjects"] = sorted(set(fields["subjects"]))
    return entry


async def append(
    db: Database,
    clock: Clock,
    *,
    tenant_id: str,
    event_type: str,
    payload: dict[str, Any] | None = None,
    store_id: str | None = None,
    actor_id: str | None = None,
    device_id: str | None = None,
    ip: str | None = None,
    subjects: list[str] | None = None,
) -> Document:
    """Write one entry (linked now, or by the next linker). `subjects`: the ids the entry is about
    (a sale, its tickets), so the explorer can tell one ticket's whole story. Raises only when the
    database does not take the entry at all."""
    fields = _fields(tenant_id, event_type, payload, store_id, actor_id, device_id, ip, subjects)
    chain = _Chain(db, clock, tenant_id)
    audit_id = new_id()
    for _ in range(MAX_TAKES):
        state = await chain.take()
        seq = int(state["taken"])
        entry = _entry(fields, audit_id, seq, clock.now())
        try:
            prev_hash = await chain.hash_before(state, seq)
        except Exception:  # linking is never what stops an entry being written
            log.warning("audit_link_deferred", tenant_id=tenant_id, seq=seq, exc_info=True)
            prev_hash = None
        if prev_hash is not None:  # link now
            entry["prev_hash"] = prev_hash
            entry["hash"] = entry_hash(prev_hash, encode(entry))
        try:
            await chain.entries.insert_entry(entry)
        except DuplicateKeyError:
            # Slower than the grace: a linker filled our number as a gap. Take another.
            log.warning("audit_number_filled_before_written", tenant_id=tenant_id, seq=seq)
            continue
        try:
            await _link_after(chain, entry, int(state["seq"]))
        except Exception:  # the entry is stored; whoever links next links it
            log.warning("audit_link_deferred", tenant_id=tenant_id, seq=seq, exc_info=True)
        return entry
    raise RuntimeError(f"audit entry of tenant {tenant_id}: every number taken was filled as a gap first")


@dataclass
class Prepared:
    """An entry numbered (and linked, when the head stood right before it), to be written in one
    round trip with the change it records (`write`), then `settle`d. The change and its entry
    reach the database together or, the writes being ordered, the entry not without the change."""

    chain: _Chain
    fields: dict[str, Any]
    entry: Document
    head_seq: int

    @property
    def write(self) -> Insert:
        return Insert(
            self.chain.entries, {**self.entry, "_id": entry_key(self.chain.tenant_id, self.entry["seq"])}
        )


async def prepare(
    db: Database,
    clock: Clock,
    *,
    tenant_id: str,
    event_type: str,
    payload: dict[str, Any] | None = None,
    store_id: str | None = None,
    actor_id: str | None = None,
    device_id: str | None = None,
    ip: str | None = None,
    subjects: list[str] | None = None,
) -> Prepared:
    """Take the entry's number (one round trip; `append` without the write)."""
    fields = _fields(tenant_id, event_type, payload, store_id, actor_id, device_id, ip, subjects)
    chain = _Chain(db, clock, tenant_id)
    state = await chain.take()
    seq = int(state["taken"])
    entry = _entry(fields, new_id(), seq, clock.now())
    if int(state["seq"]) == seq - 1:  # the head stands right before it: link now
        entry["prev_hash"] = str(state["hash"])
        entry["hash"] = entry_hash(entry["prev_hash"], encode(entry))
    return Prepared(chain, fields, entry, int(state["seq"]))


async def settle(prepared: Prepared, written: bool) -> Document:
    """After the write: move the head on (never raises: linking is catch-up work) or, when the
    entry was not written (a linker filled its number after the grace), append it anew."""
    chain = prepared.chain
    if not written:
        return await append(chain.entries.db, chain.clock, **prepared.fields)
    try:
        await _link_after(chain, prepared.entry, prepared.head_seq)
    except Exception:  # the entry is stored; whoever links next links it
        log.warning(
            "audit_link_deferred", tenant_id=chain.tenant_id, seq=prepared.entry["seq"], exc_info=True
        )
    return prepared.entry


async def _link_after(chain: _Chain, entry: Document, head_seq: int) -> None:
    """After an entry is stored (`head_seq`: where the head stood when it took its number): move
    the head onto it and link on, or leave it to whoever will."""
    seq = int(entry["seq"])
    if not is_linked(entry):
        state = await chain.heads.head()  # read after the insert: see below
        if state is None or int(state["seq"]) >= seq:
            return  # linked already
        if int(state["seq"]) != seq - 1:
            # The head is further back: whoever moves it links on through this entry (it was written
            # before this read, so before the head reached its predecessor), unless it has stalled.
            if chain.stalled(state):
                await chain.link(state)
            return
        entry["prev_hash"] = str(state["hash"])
        entry["hash"] = entry_hash(entry["prev_hash"], encode(entry))
        await chain.entries.set_links([(entry_key(chain.tenant_id, seq), entry["prev_hash"], entry["hash"])])
        head_seq = seq - 1
    moved = await chain.heads.advance(
        head_seq, seq=seq, hash_=entry["hash"], audit_id=entry["audit_id"], now=chain.clock.now()
    )
    # Not moved: a linker linked this entry and moved past it, and goes on from there. Moved, with
    # numbers handed out meanwhile: their writers found the head behind them and left linking on to
    # whoever moves it.
    if moved is not None and int(moved["taken"]) > seq:
        await chain.link(moved)


async def catch_up(db: Database, clock: Clock, tenant_id: str) -> Linked:
    """Link what is waiting (before the log is read). Never raises: readers see unlinked entries
    without a hash instead."""
    try:
        return await _Chain(db, clock, tenant_id).catch_up()
    except Exception:
        log.warning("audit_link_deferred", tenant_id=tenant_id, exc_info=True)
        return Linked()


async def chain_start(db: Database, tenant_id: str, head: Document | None) -> tuple[ChainStart, list[Anchor]]:
    """Where a walk starts — the anchor retention pruned the chain up to (recorded on the head
    before anything was deleted), else seq 0 and the genesis hash — and the tenant's daily anchors,
    to check those still within the chain against it."""
    found = await AnchorRepository(db, Scope(tenant_id)).all()
    anchors = [Anchor(str(a["day"]), int(a["seq"]), str(a["hash"])) for a in found]
    if head is None or not head.get("pruned_seq"):
        return GENESIS, anchors
    return ChainStart(int(head["pruned_seq"]), str(head["pruned_hash"]), str(head["pruned_day"])), anchors


def _start_missing(start: ChainStart, anchors: list[Anchor]) -> BrokenLink | None:
    """The anchor a pruned chain starts at is kept while it is; gone or changed, the start is not
    to be believed."""
    if start.day is None:
        return None
    anchor = next((a for a in anchors if a.day == start.day), None)
    if anchor is None:
        return BrokenLink(start.seq, "", f"the anchor of {start.day} the chain starts at is missing")
    if (anchor.seq, anchor.hash) != (start.seq, start.hash):
        return BrokenLink(start.seq, "", f"the anchor of {start.day} does not match where the chain starts")
    return None


@dataclass(frozen=True)
class Verification:
    """`check`: the walk over the chain (from `check.start`: seq 1 and the genesis hash, or the
    anchor retention pruned up to); `linked`: what verify linked first."""

    check: ChainCheck
    linked: Linked

    @property
    def checked(self) -> int:
        return self.check.checked

    @property
    def broken(self) -> BrokenLink | None:
        return self.check.broken


async def verify(db: Database, tenant_id: str, clock: Clock | None = None) -> Verification:
    """Link what is waiting (filling numbers past their grace as gaps), then walk the whole chain:
    every link, the head, the counter. A walk that races live writers may see an entry linked
    after reading its predecessor unlinked; a finding is only reported if a second walk agrees."""
    chain = _Chain(db, clock or SystemClock(), tenant_id)
    linked = Linked()
    check: ChainCheck | None = None
    for _ in range(2):
        done = await chain.catch_up()
        linked.linked += done.linked
        linked.gaps.extend(done.gaps)
        head = await chain.heads.head()  # before the entries: everything it names is written
        start, anchors = await chain_start(db, tenant_id, head)
        entries = [entry async for entry in iterate_chain(db, tenant_id)]
        after = await chain.heads.head()  # after: numbers handed out during the walk count
        check = check_chain(
            entries, head, taken=int(after.get("taken", 0)) if after else None, start=start, anchors=anchors
        )
        missing = _start_missing(start, anchors)
        if missing is not None and check.broken is None:
            check = replace(check, broken=missing)
        if check.broken is None:
            break
    assert check is not None
    return Verification(check, linked)


async def record(
    deps: Deps,
    principal: Principal,
    event_type: str,
    payload: dict[str, Any] | None = None,
    *,
    store_id: str | None = None,
    device_id: str | None = None,
    subjects: list[str] | None = None,
) -> Document:
    """Audit what a signed-in caller did: actor, IP and (unless a target device is named) device
    come from the principal."""
    return await append(
        deps.db,
        deps.clock,
        tenant_id=principal.tenant_id,
        store_id=store_id,
        actor_id=principal.actor_id,
        device_id=device_id or principal.device_id,
        ip=principal.ip,
        event_type=event_type,
        payload=payload,
        subjects=subjects,
    )
