"""Migrations: ordered steps, each applied once and recorded, by one process under a lease while
the others wait (also when several API replicas start together); `boxoffice migrate --status` and
`--dry-run`; the real steps (summaries backfill, daily anchors) do what they say."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from boxoffice.app import create_app
from boxoffice.audit import service as audit
from boxoffice.config import Settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.core.lease import Lease
from boxoffice.migrations import runner
from boxoffice.migrations.steps import STEPS
from boxoffice.ops.commands import _migrate
from boxoffice.ops.settings import OpsSettings
from tests.factories.identity import make_tenant
from tests.factories.sales import open_till, sell


def counting_steps(calls: Counter[str], *, fail: set[str] | None = None) -> tuple[runner.Step, ...]:
    """Two steps that count their runs and take a moment, as real ones do."""

    def step(step_id: str) -> runner.Step:
        async def apply(_: runner.Context) -> str:
            calls[step_id] += 1
            await asyncio.sleep(0.05)
            if fail and step_id in fail:
                raise RuntimeError(f"{step_id} failed")
            return f"{step_id} done"

        async def plan(_: runner.Context) -> str:
            return f"do {step_id}"

        return runner.Step(step_id, f"the {step_id} step", apply, plan)

    return step("0001_first"), step("0002_second")


async def test_concurrent_start_ups_apply_each_step_once(deps: Deps) -> None:
    calls: Counter[str] = Counter()
    steps = counting_steps(calls)
    ctx = runner.Context(deps, OpsSettings())
    results = await asyncio.gather(*(runner.migrate(ctx, steps, f"replica-{n}", poll=0.01) for n in range(5)))
    assert calls == {"0001_first": 1, "0002_second": 1}
    assert sorted(len(applied) for applied in results) == [0, 0, 0, 0, 2]  # one applied, four waited
    recorded = [doc async for doc in deps.db[C.SCHEMA_MIGRATIONS].find({}).sort("_id", 1)]
    assert [d["_id"] for d in recorded] == ["0001_first", "0002_second"]
    assert len({d["holder"] for d in recorded}) == 1
    assert recorded[0]["note"] == "0001_first done"
    assert await runner.migrate(ctx, steps, "replica-late") == []  # nothing left: a no-op
    assert calls == {"0001_first": 1, "0002_second": 1}


async def test_a_failed_step_is_not_recorded_and_runs_again_next_time(deps: Deps) -> None:
    calls: Counter[str] = Counter()
    ctx = runner.Context(deps, OpsSettings())
    with pytest.raises(RuntimeError, match="0002_second failed"):
        await runner.migrate(ctx, counting_steps(calls, fail={"0002_second"}), "replica-a")
    assert [d["_id"] async for d in deps.db[C.SCHEMA_MIGRATIONS].find({})] == ["0001_first"]
    applied = await runner.migrate(ctx, counting_steps(calls), "replica-b")
    assert [a.step_id for a in applied] == ["0002_second"]
    assert calls == {"0001_first": 1, "0002_second": 2}


async def test_waiters_take_over_when_the_holder_died(deps: Deps, clock: FixedClock) -> None:
    dead = Lease(deps.db, clock, runner.LEASE, "replica-that-died")
    assert await dead.hold()
    calls: Counter[str] = Counter()
    ctx = runner.Context(deps, OpsSettings())
    waiting = asyncio.create_task(runner.migrate(ctx, counting_steps(calls), "replica-b", poll=0.01))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    assert calls == {}
    clock.advance(timedelta(seconds=61))  # its lease runs out
    assert len(await asyncio.wait_for(waiting, timeout=5)) == 2


def test_steps_are_listed_once_in_order() -> None:
    runner.check_order(STEPS)
    with pytest.raises(ValueError, match="in id order"):
        runner.check_order((STEPS[1], STEPS[0]))


async def test_replicas_starting_together_migrate_once_before_serving(
    settings: Settings, clean_db: Database, clock: FixedClock
) -> None:
    apps = [create_app(settings, clock=clock, db=clean_db, background=False, migrate=True) for _ in range(3)]
    contexts = [app.router.lifespan_context(app) for app in apps]
    await asyncio.gather(*(c.__aenter__() for c in contexts))
    try:
        recorded = [doc async for doc in clean_db[C.SCHEMA_MIGRATIONS].find({}).sort("_id", 1)]
        assert [d["_id"] for d in recorded] == [s.id for s in STEPS]
        assert len({d["holder"] for d in recorded}) == 1
    finally:
        for context in contexts:
            await context.__aexit__(None, None, None)


async def test_status_and_dry_run_say_what_is_applied_and_what_would_run(
    client: httpx.AsyncClient, deps: Deps, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await make_tenant(deps)
    till = await open_till(client, world)
    assert (await sell(client, till, "key-0001", [("single", 2)])).status_code == 201
    await deps.db[C.REPORT_SUMMARIES].delete_many({})  # a database from before summaries were kept

    assert await _migrate(settings, OpsSettings(), show_status=True, dry_run=False) == 0
    said = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in said] == [[s.id, "pending:"] for s in STEPS]

    assert await _migrate(settings, OpsSettings(), show_status=False, dry_run=True) == 0
    said = capsys.readouterr().out
    assert "0001_report_summaries_backfill  would rebuild the report summaries of 1 tenants" in said
    assert "0002_audit_daily_anchors  would walk 1 audit chains once" in said
    assert await deps.db[C.SCHEMA_MIGRATIONS].count_documents({}) == 0  # a dry run changes nothing
    assert await deps.db[C.REPORT_SUMMARIES].count_documents({}) == 0

    assert await _migrate(settings, OpsSettings(), show_status=False, dry_run=False) == 0
    said = capsys.readouterr().out
    assert "0001_report_summaries_backfill  applied in" in said
    assert "0002_audit_daily_anchors  applied in" in said
    assert await deps.db[C.REPORT_SUMMARIES].count_documents({}) > 0  # the backfill rebuilt them

    assert await _migrate(settings, OpsSettings(), show_status=True, dry_run=False) == 0
    said = capsys.readouterr().out.splitlines()
    assert all(" applied 20" in line for line in said)
    assert await _migrate(settings, OpsSettings(), show_status=False, dry_run=False) == 0
    assert "nothing to do" in capsys.readouterr().out


async def test_the_anchor_backfill_anchors_each_past_day_of_a_chain(deps: Deps, clock: FixedClock) -> None:
    world = await make_tenant(deps)
    for _ in range(4):
        clock.advance(timedelta(days=1))
        await audit.append(deps.db, clock, tenant_id=world.tenant_id, event_type="sale.completed")
    ctx = runner.Context(deps, OpsSettings())
    await runner.migrate(ctx, [s for s in STEPS if s.id == "0002_audit_daily_anchors"], "replica-a")
    anchors = [a async for a in deps.db[C.AUDIT_ANCHORS].find({"tenant_id": world.tenant_id}).sort("day", 1)]
    assert [a["day"] for a in anchors] == [
        "2031-03-14",
        "2031-03-15",
        "2031-03-16",
        "2031-03-17",
    ]  # not today
    last = await deps.db[C.AUDITS].find_one({"tenant_id": world.tenant_id, "seq": anchors[-1]["seq"]})
    assert last is not None
    assert last["hash"] == anchors[-1]["hash"]
    assert last["ts"].startswith("2031-03-17")
    assert (await audit.verify(deps.db, world.tenant_id, clock)).check.anchors == 4
