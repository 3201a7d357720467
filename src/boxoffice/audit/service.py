"""Append to and verify the audit chain.

Appending reads the last entry and inserts `seq + 1`; the unique (tenant_id, seq) index makes a
concurrent writer fail and retry on the new last entry, so the chain never forks (no transactions).
Then the tenant's head is moved to the new entry (one conditional upsert that never moves it back),
so verify can tell a chain cut short from one that simply ends: three round trips per entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from boxoffice.access.principal import Principal
from boxoffice.audit.chain import GENESIS_HASH, BrokenLink, entry_hash, first_broken_link, head_mismatch
from boxoffice.audit.repository import AuditHeadRepository, AuditRepository, iterate_chain
from boxoffice.core.clock import Clock
from boxoffice.core.db import Database, Document
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope

MAX_APPEND_ATTEMPTS = 50


def _to_millis(at: datetime) -> datetime:
    """MongoDB keeps milliseconds; hash what will be read back."""
    at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


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
    """`subjects`: the ids the entry is about (a sale, its tickets), so the explorer can tell one
    ticket's whole story."""
    repo = AuditRepository(db, Scope(tenant_id))
    ts = _to_millis(clock.now())
    for _ in range(MAX_APPEND_ATTEMPTS):
        head = await repo.last()
        entry: Document = {
            "audit_id": new_id(),
            "seq": (int(head["seq"]) + 1) if head else 1,
            "ts": ts,
            "tenant_id": tenant_id,
            "store_id": store_id,
            "actor_id": actor_id,
            "device_id": device_id,
            "event_type": event_type,
            "payload": payload or {},
            "ip": ip,
            "prev_hash": str(head["hash"]) if head else GENESIS_HASH,
        }
        if subjects:
            entry["subjects"] = sorted(set(subjects))
        entry["hash"] = entry_hash(entry["prev_hash"], entry)
        try:
            await repo.insert(entry)
        except DuplicateKeyError:
            continue  # another writer took this seq; chain onto theirs
        await AuditHeadRepository(db, Scope(tenant_id)).advance(entry)
        return entry
    raise RuntimeError("audit chain is too contended to append")


async def verify(db: Database, tenant_id: str) -> tuple[int, BrokenLink | None]:
    """(entries checked, the first broken link or None): every link, then the end against the head."""
    entries = [entry async for entry in iterate_chain(db, tenant_id)]
    broken = first_broken_link(entries)
    if broken is None:
        broken = head_mismatch(entries, await AuditHeadRepository(db, Scope(tenant_id)).head())
    return len(entries), broken


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
