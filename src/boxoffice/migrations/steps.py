"""The migration steps, in order. Add a step at the end with the next number; never renumber, edit
or remove one that has been released (a database records the ids it ran). See docs/MIGRATIONS.md."""

from __future__ import annotations

from boxoffice.audit import retention as audit_retention
from boxoffice.audit.repository import tenants_with_audits
from boxoffice.migrations.runner import Context, Step
from boxoffice.ops.settings import rebuildable_from
from boxoffice.reports.rebuild import rebuild_tenant
from boxoffice.reports.repository import tenant_ids_unscoped


def _first_rebuilt_day(ctx: Context) -> str:
    return rebuildable_from(ctx.ops.retention, ctx.deps.clock.now())


async def _summaries_plan(ctx: Context) -> str:
    tenants = await tenant_ids_unscoped(ctx.deps.db)
    return f"rebuild the report summaries of {len(tenants)} tenants from {_first_rebuilt_day(ctx)} on"


async def _summaries_apply(ctx: Context) -> str:
    first = _first_rebuilt_day(ctx)
    written = events = 0
    tenants = await tenant_ids_unscoped(ctx.deps.db)
    for tenant_id in tenants:
        done = await rebuild_tenant(ctx.deps, tenant_id, first_day=first, owner="migration")
        written += done.written
        events += done.events
    return f"{len(tenants)} tenants: {events} records counted, {written} summaries written (from {first})"


async def _anchors_plan(ctx: Context) -> str:
    tenants = await tenants_with_audits(ctx.deps.db)
    return (
        f"walk {len(tenants)} audit chains once and write the anchor of each of the last "
        f"{ctx.ops.retention.anchor_days} days that has entries"
    )


async def _anchors_apply(ctx: Context) -> str:
    written = 0
    tenants = await tenants_with_audits(ctx.deps.db)
    for tenant_id in tenants:
        written += await audit_retention.backfill_anchors(
            ctx.deps.db, ctx.deps.clock, tenant_id, ctx.ops.retention
        )
    return f"{written} daily anchors written for {len(tenants)} chains"


STEPS: tuple[Step, ...] = (
    Step(
        "0001_report_summaries_backfill",
        "Report summaries from the raw records, for databases from before summaries were kept on write",
        _summaries_apply,
        _summaries_plan,
    ),
    Step(
        "0002_audit_daily_anchors",
        "Daily anchors for the past days of existing audit chains, so retention can prune them now",
        _anchors_apply,
        _anchors_plan,
    ),
    Step(
        "0003_report_summary_views",
        "Report summaries again: the views by one dimension, ticket and shift rollups and shift figures "
        "that reports read from now on",
        _summaries_apply,
        _summaries_plan,
    ),
)
