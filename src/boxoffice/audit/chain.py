"""The hash chain, pure: `hash = sha256(prev_hash ‖ canonical(entry))`.

Canonical form: JSON with sorted keys, no spaces, datetimes as UTC ISO-8601 milliseconds — the
precision MongoDB keeps — so an entry read back hashes exactly as it was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
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
