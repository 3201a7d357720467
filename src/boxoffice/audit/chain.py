"""The hash chain, pure: `hash = sha256(prev_hash ‖ canonical(entry))`.

Entries are numbered 1, 2, 3… per tenant and are written before they are linked: an entry is stored
with its content and `seq`, and gets its `prev_hash` and `hash` when its predecessor is linked (at
once, by its own writer, when it already is). So a chain is a linked run from seq 1 followed by
entries still waiting to be linked; a sequence number that was handed out but never written (its
writer died) is filled, after a grace, with a gap entry (`GAP_EVENT`), linked like any other and
reported as such.

A chain alone cannot show that entries were cut from its end: what is left still links. So each
tenant also keeps a head (the last linked entry's seq, hash and audit_id, beside the counter that
hands out sequence numbers), and a chain must reach its head.

Retention prunes a chain only from its front, and only up to a daily anchor (the hash of the last
entry of a day, kept in `audit_anchors` for as long as report summaries): a pruned chain is walked
from that anchor (`ChainStart`) instead of seq 1 and the genesis hash, and every anchor still
within the chain must match the entry it names. Access-log entries (`auth.*`) kept for less time
than the chain are redacted in place: their content is dropped, their `prev_hash` and `hash` stay,
so the chain still links through them (their own content can no longer be checked).

Canonical form: JSON with sorted keys, no spaces, datetimes as UTC ISO-8601 milliseconds — the
precision MongoDB keeps — so an entry read back hashes exactly as it was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boxoffice.core.clock import isoformat_z

GENESIS_HASH = "0" * 64

#: The event of an entry that fills a sequence number whose writer never wrote it.
GAP_EVENT = "audit.gap"

#: Access-log entries (sign-ins and their failures): the only ones retention may redact.
ACCESS_PREFIX = "auth."
#: What redaction drops from an access-log entry (who, from where, what they typed).
REDACTED_FIELDS = ("payload", "ip", "actor_id", "device_id", "subjects")

#: The fields covered by the hash, in the stored document.
CHAINED_FIELDS = (
    "audit_id",
    "seq",
    "ts",
    "tenant_id",
    "store_id",
    "actor_id",
    "device_id",
    "event_type",
    "payload",
    "ip",
    "prev_hash",
)


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return isoformat_z(value)
    raise TypeError(f"audit entries hold JSON values and datetimes only, not {type(value).__name__}")


#: Covered when present: entries written before the field existed still verify.
OPTIONAL_CHAINED_FIELDS = ("subjects",)


def canonical(entry: dict[str, Any]) -> bytes:
    covered = {field: entry.get(field) for field in CHAINED_FIELDS}
    covered.update({field: entry[field] for field in OPTIONAL_CHAINED_FIELDS if field in entry})
    return json.dumps(
        covered, sort_keys=True, separators=(",", ":"), default=_default, ensure_ascii=False
    ).encode()


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(entry)).hexdigest()


def is_linked(entry: dict[str, Any]) -> bool:
    return entry.get("hash") is not None


def gap_entry(*, tenant_id: str, seq: int, prev_hash: str, at: datetime, audit_id: str) -> dict[str, Any]:
    """The linked entry that fills a sequence number nobody wrote: says so, and who noticed."""
    entry: dict[str, Any] = {
        "audit_id": audit_id,
        "seq": seq,
        "ts": at,
        "tenant_id": tenant_id,
        "store_id": None,
        "actor_id": None,
        "device_id": None,
        "event_type": GAP_EVENT,
        "payload": {"reason": "sequence number handed out but never written (its writer stopped)"},
        "ip": None,
        "prev_hash": prev_hash,
    }
    entry["hash"] = entry_hash(prev_hash, entry)
    return entry


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    audit_id: str
    reason: str


@dataclass(frozen=True)
class ChainStart:
    """Where a walk starts: seq 0 and the genesis hash, or the daily anchor retention pruned up to
    (`day`), whose entry and everything before it may be gone."""

    seq: int = 0
    hash: str = GENESIS_HASH
    day: str | None = None


GENESIS = ChainStart()


def describe_start(start: ChainStart) -> str:
    """Where a walk started, as `boxoffice audit verify` says it."""
    if start.day is None:
        return "from seq 1 and the genesis hash"
    return f"from the anchor of {start.day} (seq {start.seq}; the entries before it were pruned by retention)"


@dataclass(frozen=True)
class Anchor:
    """A day's last linked entry, as retention recorded it."""

    day: str
    seq: int
    hash: str


@dataclass(frozen=True)
class ChainCheck:
    """What a walk over a whole chain found. `linked` is the last seq of the linked run from seq 1
    (0: none); `pending` were written but are not linked yet, `missing` were handed out but are not
    written yet (both normal for a moment, or until a missing number's grace runs out)."""

    checked: int
    first_seq: int | None
    linked: int
    head_seq: int
    taken: int
    gaps: tuple[int, ...]
    pending: tuple[int, ...]
    missing: tuple[int, ...]
    broken: BrokenLink | None
    start: ChainStart = GENESIS
    redacted: int = 0  # access-log entries whose content retention dropped (linked through)
    anchors: int = 0  # daily anchors checked against the entries they name


@dataclass
class _Walk:
    checked: int = 0
    first_seq: int | None = None
    linked: int = 0
    last_seq: int = 0
    last_audit_id: str = ""
    broken: BrokenLink | None = None
    linked_entries: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    redacted: int = 0


def _walk(entries: Iterable[dict[str, Any]], start: ChainStart = GENESIS) -> _Walk:
    """Entries in `seq` order: the linked run from `start` (each link and content checked; only the
    link of a redacted access-log entry), then only entries not linked yet. Entries at or before
    `start` (pruning deletes them in batches after moving the start) are passed over. The first
    thing that does not hold ends the walk."""
    walk = _Walk(linked=start.seq)
    prev_hash = start.hash
    for entry in entries:
        seq = int(entry.get("seq", -1))
        audit_id = str(entry.get("audit_id", ""))
        if seq <= start.seq:
            continue
        walk.checked += 1
        walk.first_seq = seq if walk.first_seq is None else walk.first_seq
        walk.last_seq, walk.last_audit_id = seq, audit_id
        if not is_linked(entry):
            walk.pending.append(seq)
            continue
        if walk.pending:
            walk.broken = BrokenLink(seq, audit_id, f"linked although seq {walk.pending[0]} before it is not")
            break
        if seq != walk.linked + 1:
            walk.broken = BrokenLink(seq, audit_id, f"sequence gap: expected {walk.linked + 1}")
            break
        if entry.get("prev_hash") != prev_hash:
            walk.broken = BrokenLink(seq, audit_id, "prev_hash does not match the previous entry")
            break
        if entry.get("redacted"):
            if not str(entry.get("event_type", "")).startswith(ACCESS_PREFIX):
                walk.broken = BrokenLink(seq, audit_id, "redacted, but only access-log entries may be")
                break
            walk.redacted += 1
        elif entry.get("hash") != entry_hash(prev_hash, entry):
            walk.broken = BrokenLink(seq, audit_id, "content does not match its hash")
            break
        if entry.get("event_type") == GAP_EVENT:
            walk.gaps.append(seq)
        prev_hash = str(entry["hash"])
        walk.linked = seq
        walk.linked_entries.append(entry)
    return walk


def first_broken_link(entries: Iterable[dict[str, Any]], start: ChainStart = GENESIS) -> BrokenLink | None:
    """Walk entries in `seq` order; name the first one whose link or content does not hold."""
    return _walk(entries, start).broken


def check_chain(
    entries: Iterable[dict[str, Any]],
    head: dict[str, Any] | None,
    *,
    taken: int | None = None,
    start: ChainStart = GENESIS,
    anchors: Iterable[Anchor] = (),
) -> ChainCheck:
    """The whole of a chain against its head: every link from `start`; the head never ahead of the
    linked run and naming the entry it recorded (it may trail: a writer stopped between linking and
    moving it); nothing numbered past the counter (`taken`, read after the entries so that entries
    written during the walk count; else the head's own); every daily anchor past `start` matching
    the entry it names. Entries waiting to be linked are fine."""
    walk = _walk(entries, start)
    head_seq = int(head.get("seq", 0)) if head else 0
    taken = max(taken if taken is not None else int((head or {}).get("taken", 0)), head_seq)
    if head is not None and "taken" not in head:  # a head from before the counter existed
        taken = max(taken, walk.last_seq)
    within = [a for a in anchors if start.seq < a.seq <= walk.linked]
    broken = (
        walk.broken
        or _head_mismatch(walk, head, head_seq, start)
        or _past_counter(walk, taken)
        or _anchor_mismatch(walk, within, start)
    )
    waiting = set(walk.pending)
    missing = tuple(s for s in range(walk.linked + 1, taken + 1) if s not in waiting)
    return ChainCheck(
        checked=walk.checked,
        first_seq=walk.first_seq,
        linked=walk.linked,
        head_seq=head_seq,
        taken=taken,
        gaps=tuple(walk.gaps),
        pending=tuple(walk.pending),
        missing=missing,
        broken=broken,
        start=start,
        redacted=walk.redacted,
        anchors=len(within),
    )


def _head_mismatch(
    walk: _Walk, head: dict[str, Any] | None, head_seq: int, start: ChainStart = GENESIS
) -> BrokenLink | None:
    if head is None:
        if not walk.checked:
            return None
        return BrokenLink(
            walk.last_seq,
            walk.last_audit_id,
            "the chain has no head, so entries cut from its end would go unnoticed "
            "(a chain written before heads existed gets one with its next entry)",
        )
    head_id = str(head.get("audit_id") or "")
    if head_seq > walk.linked:
        return BrokenLink(
            head_seq,
            head_id,
            f"entries missing from the end: the head records seq {head_seq} (audit_id {head_id}) "
            f"but the linked chain ends at seq {walk.linked}",
        )
    if head_seq < start.seq:
        return BrokenLink(
            head_seq, head_id, f"the head is behind the anchor the chain starts at (seq {start.seq})"
        )
    if head_seq == start.seq:
        if start.seq and head.get("hash") != start.hash:
            return BrokenLink(head_seq, head_id, "the head does not match the anchor the chain starts at")
        return None
    entry = walk.linked_entries[head_seq - start.seq - 1]  # the linked run numbers them start+1..n
    if entry.get("hash") != head.get("hash") or str(entry.get("audit_id", "")) != head_id:
        return BrokenLink(head_seq, str(entry.get("audit_id", "")), "does not match the chain head")
    return None


def _anchor_mismatch(walk: _Walk, anchors: list[Anchor], start: ChainStart) -> BrokenLink | None:
    for anchor in sorted(anchors, key=lambda a: a.seq):
        entry = walk.linked_entries[anchor.seq - start.seq - 1]
        if entry.get("hash") != anchor.hash:
            return BrokenLink(
                anchor.seq, str(entry.get("audit_id", "")), f"does not match the daily anchor of {anchor.day}"
            )
    return None


def _past_counter(walk: _Walk, taken: int) -> BrokenLink | None:
    if walk.last_seq > taken:
        return BrokenLink(
            walk.last_seq, walk.last_audit_id, f"numbered past the last sequence number handed out ({taken})"
        )
    return None
