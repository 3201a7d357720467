"""The daily retention job: one replica (a lease), once per UTC day, checked hourly.

- audit chains: yesterday's anchor, pruning to the newest anchor older than AUDIT_RETENTION_DAYS,
  access logs after ACCESS_LOG_RETENTION_DAYS (audit/retention.py);
- raw redemptions after REDEMPTION_RETENTION_DAYS (each stamped with its time as an int first);
- report summaries after SUMMARY_RETENTION_DAYS (by their period).
Anchors themselves go by their `purge_after` (core/retention.py), the chain's start never. The day it
last ran is kept (`job_runs`), so a restart or a new lease holder does not run it twice in a day.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, timedelta

from boxoffice.audit import retention as audit_retention
from boxoffice.audit.repository import tenants_with_audits
from boxoffice.core import retention as core_retention
from boxoffice.core.background import Background, Pass
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.core.lease import Lease
from boxoffice.core.logging import get_logger
from boxoffice.ops import repository as store
from boxoffice.ops.settings import OpsSettings

log = get_logger(__name__)

JOB = "retention_daily"
CHECK_EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class DailyResult:
    anchors: int = 0
    anchors_dropped: int = 0
    audits_deleted: int = 0
    access_logs_kept_longer: int = 0
    access_logs_redacted: int = 0
    redemptions_stamped: int = 0
    redemptions_deleted: int = 0
    summaries_deleted: int = 0


async def run_daily(deps: Deps, ops: OpsSettings) -> DailyResult:
    """One day's pruning, whatever day it is (the loop decides when)."""
    now = deps.clock.now()
    policy = ops.retention
    anchors = deleted = left = redacted = 0
    for tenant_id in await tenants_with_audits(deps.db):
        done = await audit_retention.run_tenant(deps.db, deps.clock, tenant_id, policy)
        anchors += done.anchor is not None
        deleted += done.deleted
        left += done.left_for_access
        redacted += done.redacted
    stamped = await core_retention.stamp_seconds(
        deps.db, C.REDEMPTIONS, stamp_field="ts", seconds_field="ts_s", now=now
    )
    scans = await core_retention.delete_before(
        deps.db, C.REDEMPTIONS, seconds_field="ts_s", cutoff=now - timedelta(days=policy.redemption_days)
    )
    anchors_dropped = await core_retention.delete_expired(deps.db, C.AUDIT_ANCHORS, now)
    first_kept = (now.astimezone(UTC) - timedelta(days=policy.summary_days)).date().isoformat()
    summaries = await core_retention.delete_periods_before(
        deps.db, C.REPORT_SUMMARIES, first_kept_day=first_kept
    )
    return DailyResult(anchors, anchors_dropped, deleted, left, redacted, stamped, scans, summaries)


async def daily_pass(deps: Deps, ops: OpsSettings) -> Pass:
    """The loop's pass: run when today's run has not happened yet (one read by `_id` otherwise)."""
    today = deps.clock.now().astimezone(UTC).date().isoformat()
    if await store.last_run_day(deps.db, JOB) == today:
        return Pass(busy=False)
    result = await run_daily(deps, ops)
    await store.mark_run(deps.db, JOB, day=today, at=deps.clock.now(), summary=asdict(result))
    log.info("retention_daily_done", day=today, **asdict(result))
    return Pass(busy=False)


def background(deps: Deps, lease: Lease, ops: OpsSettings) -> Background:
    return Background(
        lease,
        lambda: daily_pass(deps, ops),
        first_idle=CHECK_EVERY_SECONDS,
        most_idle=CHECK_EVERY_SECONDS,
        initial_delay=90.0,
    )
