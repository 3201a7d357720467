"""The hash chain, pure: `hash = sha256(prev_hash ‖ canonical(entry))`.

A chain alone cannot show that entries were cut from its end: what is left still links. So each
tenant also keeps a head (the last entry's seq, hash and audit_id), advanced with every append,
and a chain must reach its head.

Canonical form: JSON with sorted keys, no spaces, datetimes as UTC ISO-8601 milliseconds — the
precision MongoDB keeps — so an entry read back hashes exactly as it was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boxoffice.core.clock import isoformat_z

GENESIS_HASH = "0" * 64

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


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    audit_id: str
    reason: str


def first_broken_link(entries: Iterable[dict[str, Any]]) -> BrokenLink | None:
    """Walk entries in `seq` order; name the first one whose link or content does not hold."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        seq = int(entry.get("seq", -1))
        audit_id = str(entry.get("audit_id", ""))
        if seq != expected_seq:
            return BrokenLink(seq, audit_id, f"sequence gap: expected {expected_seq}")
        if entry.get("prev_hash") != prev_hash:
            return BrokenLink(seq, audit_id, "prev_hash does not match the previous entry")
        if entry.get("hash") != entry_hash(prev_hash, entry):
            return BrokenLink(seq, audit_id, "content does not match its hash")
        prev_hash = str(entry["hash"])
        expected_seq += 1
    return None


def head_mismatch(entries: Sequence[dict[str, Any]], head: dict[str, Any] | None) -> BrokenLink | None:
    """Check an intact chain (first_broken_link found nothing) against its head. The head may trail
    the chain (an append that stopped between writing its entry and moving the head) but never lead
    it, and the entry it names must be the one it recorded."""
    last = entries[-1] if entries else None
    if head is None:
        if last is None:
            return None
        return BrokenLink(
            int(last["seq"]),
            str(last.get("audit_id", "")),
            "the chain has no head, so entries cut from its end would go unnoticed "
            "(a chain written before heads existed gets one with its next entry)",
        )
    head_seq = int(head.get("seq", 0))
    last_seq = int(last["seq"]) if last else 0
    head_id = str(head.get("audit_id", ""))
    if head_seq > last_seq:
        return BrokenLink(
            head_seq,
            head_id,
            f"entries missing from the end: the head records seq {head_seq} (audit_id {head_id}) "
            f"but the chain ends at seq {last_seq}",
        )
    if head_seq >= 1:
        entry = entries[head_seq - 1]  # an intact chain numbers its entries 1..n
        if entry.get("hash") != head.get("hash") or str(entry.get("audit_id", "")) != head_id:
            return BrokenLink(head_seq, str(entry.get("audit_id", "")), "does not match the chain head")
    return None
