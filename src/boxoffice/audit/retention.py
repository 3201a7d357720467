"""Retention of the audit chain: daily anchors, pruning from the front, redacting access logs.

- **Anchors.** Once a day, each tenant's chain gets an anchor for the day before: its last linked
  entry stamped before the day ended (found by a binary search over seq, each probe one read by
  `_id`). Anchors are kept as long as report summaries.
- **Pruning.** Entries older than AUDIT_RETENTION_DAYS go, but only whole: up to the newest anchor
  whose day ended before the cutoff. The head records that anchor first (`pruned_*`: where verify
  starts from now on), then the entries up to it are deleted by `_id` in batches (`cleared_seq`
  says how far; a crash in between leaves entries verify passes over, and the next run finishes).
- **Access logs** (`auth.*` entries) follow ACCESS_LOG_RETENTION_DAYS. Shorter than the chain:
  past their own anchor they are redacted in place (content dropped, links kept). Longer: pruning
  leaves them behind, outside the chain, until their own anchor passes the cutoff.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from boxoffice.audit.chain import ACCESS_PREFIX, Anchor, is_linked
from boxoffice.audit.repository import AnchorRepository, AuditHeadRepository, AuditRepository, iterate_chain
from boxoffice.audit.service import catch_up
from boxoffice.core.clock import Clock
from boxoffice.core.db import Database, Document, decode
from boxoffice.core.logging import get_logger
from boxoffice.core.repository import Scope, purge_after
from boxoffice.ops.settings import RetentionPolicy

log = get_logger(__name__)

BATCH = 500
PAUSE_SECONDS = 0.05
#: `purge_after` of the anchor a chain starts at: never, while it is.
KEEP_WHILE_START = 2**62


def day_end(day: str | date) -> datetime:
    start = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(start + timedelta(days=1), time(0), tzinfo=UTC)


def _anchor(doc: Document) -> Anchor:
    return Anchor(str(doc["day"]), int(doc["seq"]), str(doc["hash"]))


class _Tenant:
    def __init__(self, db: Database, clock: Clock, tenant_id: str, policy: RetentionPolicy) -> None:
        scope = Scope(tenant_id)
        self.db, self.clock, self.tenant_id, self.policy = db, clock, tenant_id, policy
        self.entries = AuditRepository(db, scope)
        self.heads = AuditHeadRepository(db, scope)
        self.anchors = AnchorRepository(db, scope)

    def anchor_purge_after(self, day: str) -> int:
        return purge_after(day_end(day) + timedelta(days=self.policy.anchor_days))

    async def ts_of(self, seq: int) -> datetime | None:
        doc = await self.entries.stored_at(seq)
        if doc is None:
            return None
        ts = decode(doc.get("ts"))
        return ts if isinstance(ts, datetime) else None

    async def last_before(self, low: int, high: int, end: datetime) -> int | None:
        """The highest seq in (low, high] stamped before `end` (entries are stamped in about the
        order they are numbered), or None when the first one is already past it."""
        first = await self.ts_of(low + 1)
        if first is None or first >= end:
            return None
        lo, hi = low + 1, high
        while lo < hi:
            mid = (lo + hi + 1) // 2
            ts = await self.ts_of(mid)
            if ts is not None and ts < end:
                lo = mid
            else:
                hi = mid - 1
        return lo

    async def anchor_day(self, day: date) -> Anchor | None:
        """Record `day`'s anchor (once); None when the chain has nothing linked from before its end."""
        found = await self.anchors.of_day(day.isoformat())
        if found is not None:
            return _anchor(found)
        await catch_up(self.db, self.clock, self.tenant_id)
        head = await self.heads.head()
        if head is None or int(head.get("seq", 0)) == 0:
            return None
        low = int(head.get("pruned_seq", 0))
        seq = await self.last_before(low, int(head["seq"]), day_end(day))
        if seq is None:
            return None
        entry = await self.entries.stored_at(seq)
        if entry is None or not is_linked(entry):
            return None
        await self.anchors.put(
            day=day.isoformat(),
            seq=seq,
            hash_=str(entry["hash"]),
            audit_id=str(entry.get("audit_id") or ""),
            purge_after=self.anchor_purge_after(day.isoformat()),
        )
        return Anchor(day.isoformat(), seq, str(entry["hash"]))

    async def boundary(self, cutoff: datetime) -> Anchor | None:
        """The newest anchor whose day ended at or before `cutoff`."""
        eligible = [_anchor(a) for a in await self.anchors.all() if day_end(str(a["day"])) <= cutoff]
        return eligible[-1] if eligible else None

    async def prune(self) -> tuple[int, int]:
        """Move the chain's start to the newest anchor past the audit cutoff and delete what lies
        before it. Returns (entries deleted, access-log entries left behind for longer)."""
        head = await self.heads.head()
        if head is None:
            return 0, 0
        now = self.clock.now()
        policy = self.policy
        start = int(head.get("pruned_seq", 0))
        anchor = await self.boundary(now - timedelta(days=policy.audit_days))
        if anchor is not None and start < anchor.seq <= int(head.get("seq", 0)):
            await self.anchors.keep_until(anchor.day, KEEP_WHILE_START)
            await self.heads.set_retention(
                {"pruned_seq": anchor.seq, "pruned_hash": anchor.hash, "pruned_day": anchor.day}
            )
            if head.get("pruned_day"):
                old = str(head["pruned_day"])
                await self.anchors.keep_until(old, self.anchor_purge_after(old))
            log.info("audit_chain_start_moved", tenant_id=self.tenant_id, seq=anchor.seq, day=anchor.day)
            start = anchor.seq
        keep_access = policy.access_log_days > policy.audit_days
        access_cutoff = now - timedelta(days=policy.access_log_days)
        deleted = left = 0
        cleared = int(head.get("cleared_seq", 0))
        for low in range(cleared + 1, start + 1, BATCH):
            seqs = range(low, min(low + BATCH, start + 1))
            doomed: list[int] = list(seqs)
            if keep_access:
                docs = await self.entries.stored(seqs)
                young = {s for s, d in docs.items() if _is_access(d) and _ts(d) >= access_cutoff}
                doomed = [s for s in seqs if s not in young]
                left += len(young)
            deleted += await self.entries.delete_seqs(doomed)
            await self.heads.set_retention({"cleared_seq": seqs[-1]})
            await asyncio.sleep(PAUSE_SECONDS)
        if keep_access:
            deleted += await self._clear_access(head, start, access_cutoff)
        return deleted, left

    async def _clear_access(self, head: Document, start: int, cutoff: datetime) -> int:
        """Access-log entries left behind by pruning, once their own anchor passes their cutoff:
        everything else before the chain's start is gone already, so a delete by key will do."""
        anchor = await self.boundary(cutoff)
        upto = min(anchor.seq, start) if anchor else 0
        done = int(head.get("access_cleared_seq", 0))
        deleted = 0
        for low in range(done + 1, upto + 1, BATCH):
            seqs = range(low, min(low + BATCH, upto + 1))
            deleted += await self.entries.delete_seqs(seqs)
            await self.heads.set_retention({"access_cleared_seq": seqs[-1]})
            await asyncio.sleep(PAUSE_SECONDS)
        return deleted

    async def redact_access(self) -> int:
        """Access logs kept for less time than the chain: redact those up to the newest anchor past
        their cutoff (each entry read once: `redacted_seq` says how far)."""
        policy = self.policy
        if policy.access_log_days >= policy.audit_days:
            return 0
        head = await self.heads.head()
        if head is None:
            return 0
        now = self.clock.now()
        anchor = await self.boundary(now - timedelta(days=policy.access_log_days))
        if anchor is None:
            return 0
        done = max(int(head.get("redacted_seq", 0)), int(head.get("pruned_seq", 0)))
        upto = min(anchor.seq, int(head.get("seq", 0)))
        redacted = 0
        for low in range(done + 1, upto + 1, BATCH):
            seqs = range(low, min(low + BATCH, upto + 1))
            docs = await self.entries.stored(seqs)
            keys = [
                d["_id"] for d in docs.values() if _is_access(d) and not d.get("redacted") and is_linked(d)
            ]
            if keys:
                await self.entries.redact(keys, now)
            redacted += len(keys)
            await self.heads.set_retention({"redacted_seq": seqs[-1]})
            await asyncio.sleep(PAUSE_SECONDS)
        return redacted


def _is_access(entry: Document) -> bool:
    return str(entry.get("event_type", "")).startswith(ACCESS_PREFIX)


def _ts(entry: Document) -> datetime:
    ts = decode(entry.get("ts"))
    return ts if isinstance(ts, datetime) else datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TenantRetention:
    anchor: Anchor | None
    deleted: int
    left_for_access: int
    redacted: int


async def run_tenant(db: Database, clock: Clock, tenant_id: str, policy: RetentionPolicy) -> TenantRetention:
    """The daily work on one chain: yesterday's anchor, pruning, access-log redaction."""
    tenant = _Tenant(db, clock, tenant_id, policy)
    yesterday = clock.now().astimezone(UTC).date() - timedelta(days=1)
    anchor = await tenant.anchor_day(yesterday)
    deleted, left = await tenant.prune()
    redacted = await tenant.redact_access()
    return TenantRetention(anchor, deleted, left, redacted)


async def backfill_anchors(db: Database, clock: Clock, tenant_id: str, policy: RetentionPolicy) -> int:
    """Anchors for the past days of an existing chain (a migration step): one walk over the linked
    run, the last entry of each UTC day that ended within the anchors' keep. Returns how many were
    written (days already anchored are left as they are)."""
    tenant = _Tenant(db, clock, tenant_id, policy)
    await catch_up(db, clock, tenant_id)
    today = clock.now().astimezone(UTC).date()
    oldest = today - timedelta(days=policy.anchor_days)
    last_of_day: dict[date, Document] = {}
    async for entry in iterate_chain(db, tenant_id):
        if not is_linked(entry):
            break
        day = _ts(entry).astimezone(UTC).date()
        if oldest <= day < today:
            last_of_day[day] = entry
    written = 0
    for day, entry in sorted(last_of_day.items()):
        if await tenant.anchors.of_day(day.isoformat()) is None:
            await tenant.anchors.put(
                day=day.isoformat(),
                seq=int(entry["seq"]),
                hash_=str(entry["hash"]),
                audit_id=str(entry.get("audit_id") or ""),
                purge_after=tenant.anchor_purge_after(day.isoformat()),
            )
            written += 1
    return written
