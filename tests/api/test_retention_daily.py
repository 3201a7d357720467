"""The daily retention job, on an injected clock: audit chains pruned from the front up to a daily
anchor (and verified from it), access logs after their own setting (redacted in the chain, or kept
past it), raw scans after theirs, summaries after a year — one replica, once a day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from boxoffice.audit import service as audit
from boxoffice.audit.repository import AuditHeadRepository
from boxoffice.cli import _verify_audit
from boxoffice.config import Settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.core.lease import Lease
from boxoffice.core.repository import Scope
from boxoffice.ops import repository as store
from boxoffice.ops import retention as daily
from boxoffice.ops.settings import OpsSettings, RetentionPolicy
from tests.conftest import TEST_START
from tests.factories.identity import make_tenant


def ops_with(**days: int) -> OpsSettings:
    return OpsSettings(retention=replace(RetentionPolicy(), **days))


async def live_days(
    deps: Deps, clock: FixedClock, tenant_id: str, days: int, ops: OpsSettings, *, first: int = 0
) -> None:
    """`days` days of a venue: in the afternoon a sale and a failed sign-in are audited; just after
    midnight (UTC) the daily job runs."""
    for day in range(first, first + days):
        midday = datetime(2031, 3, 14, 9, 0, tzinfo=UTC) + timedelta(days=day)
        clock.set(midday)
        await audit.append(
            deps.db, clock, tenant_id=tenant_id, event_type="sale.completed", payload={"day": day}
        )
        await audit.append(
            deps.db,
            clock,
            tenant_id=tenant_id,
            event_type="auth.employee.login_failed",
            payload={"email": f"guess{day}@x.test"},
            ip="203.0.113.9",
            actor_id="E1",
            device_id="D1",
        )
        clock.set(midday.replace(hour=0, minute=30) + timedelta(days=1))
        await daily.daily_pass(deps, ops)


async def entries(db: Database, tenant_id: str) -> list[dict[str, Any]]:
    return [doc async for doc in db[C.AUDITS].find({"tenant_id": tenant_id}).sort("seq", 1)]


async def test_a_chain_is_pruned_to_a_daily_anchor_and_verified_from_it(
    deps: Deps, clock: FixedClock, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await make_tenant(deps)
    ops = ops_with(audit_days=90)
    await live_days(deps, clock, world.tenant_id, 100, ops)

    now = clock.now()
    kept = await entries(deps.db, world.tenant_id)
    oldest = min(datetime.fromisoformat(e["ts"]) for e in kept)
    assert now - oldest <= timedelta(days=91)  # nothing older than 90 days and a day...
    assert now - oldest >= timedelta(days=89)  # ...and nothing younger was taken
    anchors = [a async for a in deps.db[C.AUDIT_ANCHORS].find({"tenant_id": world.tenant_id}).sort("day", 1)]
    assert len(anchors) == 100  # one a day, kept as long as summaries
    head = await AuditHeadRepository(deps.db, Scope(world.tenant_id)).head()
    assert head is not None
    start = next(a for a in anchors if a["day"] == head["pruned_day"])
    assert start["seq"] == head["pruned_seq"] == kept[0]["seq"] - 1
    assert kept[0]["prev_hash"] == start["hash"]

    result = await audit.verify(deps.db, world.tenant_id, clock)
    assert result.broken is None
    assert result.check.start.day == start["day"]
    assert result.check.anchors == sum(1 for a in anchors if a["seq"] > start["seq"])
    assert result.check.checked == len(kept)

    assert await _verify_audit(settings, world.tenant_id) == 0
    said = capsys.readouterr().out
    assert f"walked from the anchor of {start['day']} (seq {start['seq']}" in said
    assert "chain intact" in said


async def test_tampering_after_pruning_is_still_found(deps: Deps, clock: FixedClock) -> None:
    world = await make_tenant(deps)
    await live_days(deps, clock, world.tenant_id, 15, ops_with(audit_days=10, access_log_days=10))
    head = await AuditHeadRepository(deps.db, Scope(world.tenant_id)).head()
    assert head is not None
    kept = await entries(deps.db, world.tenant_id)

    # An anchor within the chain that no longer matches its entry.
    later = await deps.db[C.AUDIT_ANCHORS].find_one(
        {"tenant_id": world.tenant_id, "seq": {"$gt": head["pruned_seq"]}}
    )
    assert later is not None
    await deps.db[C.AUDIT_ANCHORS].update_one({"_id": later["_id"]}, {"$set": {"hash": "0" * 64}})
    broken = (await audit.verify(deps.db, world.tenant_id, clock)).broken
    assert broken is not None
    assert f"daily anchor of {later['day']}" in broken.reason
    await deps.db[C.AUDIT_ANCHORS].update_one({"_id": later["_id"]}, {"$set": {"hash": later["hash"]}})

    # The first kept entry changed.
    await deps.db[C.AUDITS].update_one({"_id": kept[0]["_id"]}, {"$set": {"payload": {"day": -1}}})
    broken = (await audit.verify(deps.db, world.tenant_id, clock)).broken
    assert broken is not None
    assert broken.seq == kept[0]["seq"]
    await deps.db[C.AUDITS].update_one({"_id": kept[0]["_id"]}, {"$set": {"payload": kept[0]["payload"]}})
    assert (await audit.verify(deps.db, world.tenant_id, clock)).broken is None

    # The anchor the chain starts at removed: the start is not to be believed.
    await deps.db[C.AUDIT_ANCHORS].delete_one({"tenant_id": world.tenant_id, "day": head["pruned_day"]})
    broken = (await audit.verify(deps.db, world.tenant_id, clock)).broken
    assert broken is not None
    assert "missing" in broken.reason


async def test_a_run_that_stopped_between_moving_the_start_and_deleting_is_finished_next_day(
    deps: Deps, clock: FixedClock
) -> None:
    world = await make_tenant(deps)
    ops = ops_with(audit_days=10, access_log_days=10)
    await live_days(deps, clock, world.tenant_id, 12, ops)
    head = await AuditHeadRepository(deps.db, Scope(world.tenant_id)).head()
    assert head is not None
    # As if the entries up to the start had not been deleted yet: they are back, cleared_seq behind.
    leftovers = [
        {
            "_id": f"{world.tenant_id}:{seq}",
            "tenant_id": world.tenant_id,
            "seq": seq,
            "ts": "2031-03-14T09:00:00.000Z",
            "event_type": "x",
        }
        for seq in range(1, head["pruned_seq"] + 1)
    ]
    await deps.db[C.AUDITS].insert_many(leftovers)
    await AuditHeadRepository(deps.db, Scope(world.tenant_id)).set_retention({"cleared_seq": 0})
    assert (await audit.verify(deps.db, world.tenant_id, clock)).broken is None  # passed over

    await live_days(deps, clock, world.tenant_id, 1, ops, first=12)
    assert await deps.db[C.AUDITS].count_documents({"_id": {"$in": [d["_id"] for d in leftovers]}}) == 0
    assert (await audit.verify(deps.db, world.tenant_id, clock)).broken is None


async def test_access_logs_kept_for_less_than_the_chain_are_redacted_and_still_link(
    deps: Deps, clock: FixedClock
) -> None:
    world = await make_tenant(deps)
    await live_days(deps, clock, world.tenant_id, 45, ops_with(audit_days=90, access_log_days=30))
    now = clock.now()
    chain = await entries(deps.db, world.tenant_id)
    signins = [e for e in chain if e["event_type"] == "auth.employee.login_failed"]
    old = [e for e in signins if e.get("redacted")]
    young = [e for e in signins if not e.get("redacted")]
    # Redacted once the day they were written is over and 30 days old; never a day later.
    assert all(now - datetime.fromisoformat(e["ts"]) >= timedelta(days=30) for e in old)
    assert all(now - datetime.fromisoformat(e["ts"]) < timedelta(days=31) for e in young)
    assert len(old) == 15
    assert len(young) == 30
    for entry in old:
        assert entry["payload"] == {}
        assert entry["ip"] is None
        assert entry["actor_id"] is None
        assert entry["device_id"] is None
        assert entry["hash"]  # the link stays
    for entry in young:
        assert entry["ip"] == "203.0.113.9"
        assert entry["payload"]["email"].startswith("guess")
    sales = [e for e in chain if e["event_type"] == "sale.completed"]
    assert len(sales) == 45  # nothing else is touched
    assert not any(e.get("redacted") for e in sales)

    result = await audit.verify(deps.db, world.tenant_id, clock)
    assert result.broken is None
    assert result.check.redacted == len(old)

    # Redaction is for access logs only: a sale marked redacted breaks the chain.
    await deps.db[C.AUDITS].update_one({"_id": sales[0]["_id"]}, {"$set": {"redacted": True, "payload": {}}})
    broken = (await audit.verify(deps.db, world.tenant_id, clock)).broken
    assert broken is not None
    assert "only access-log entries" in broken.reason


async def test_access_logs_kept_longer_than_the_chain_outlive_its_pruning(
    deps: Deps, clock: FixedClock
) -> None:
    world = await make_tenant(deps)
    ops = ops_with(audit_days=10, access_log_days=20)
    await live_days(deps, clock, world.tenant_id, 15, ops)
    head = await AuditHeadRepository(deps.db, Scope(world.tenant_id)).head()
    assert head is not None
    before_start = [
        e
        async for e in deps.db[C.AUDITS].find(
            {"tenant_id": world.tenant_id, "seq": {"$lte": head["pruned_seq"]}}
        )
    ]
    assert before_start  # left behind by pruning...
    assert all(e["event_type"].startswith("auth.") for e in before_start)  # ...access logs only
    assert (await audit.verify(deps.db, world.tenant_id, clock)).broken is None

    await live_days(deps, clock, world.tenant_id, 10, ops, first=15)
    now = clock.now()
    signins = [
        e
        async for e in deps.db[C.AUDITS].find(
            {"tenant_id": world.tenant_id, "event_type": "auth.employee.login_failed"}
        )
    ]
    assert min(now - datetime.fromisoformat(e["ts"]) for e in signins) >= timedelta(0)
    assert max(now - datetime.fromisoformat(e["ts"]) for e in signins) <= timedelta(days=21)
    assert min(
        now - datetime.fromisoformat(e["ts"]) for e in await entries(deps.db, world.tenant_id)
    ) <= timedelta(days=1)
    assert (await audit.verify(deps.db, world.tenant_id, clock)).broken is None


async def test_raw_scans_and_summaries_go_after_their_settings(deps: Deps, clock: FixedClock) -> None:
    now = clock.now()
    scans = [
        {
            "_id": f"r{n}",
            "tenant_id": "T1",
            "store_id": "S1",
            "redemption_id": f"r{n}",
            "ts": (now - timedelta(days=age)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        for n, age in enumerate((400, 40, 31, 29, 1))
    ]
    scans.append({"_id": "r-no-time", "tenant_id": "T1", "store_id": "S1", "redemption_id": "r-no-time"})
    await deps.db[C.REDEMPTIONS].insert_many(scans)
    periods = ["2029-12", "2030-03", "2030-03-13", "2030-03-14", "2030-03-15", "2030-04", "2031-03-13"]
    await deps.db[C.REPORT_SUMMARIES].insert_many(
        [
            {"_id": f"T1|sales|S1|{p}", "tenant_id": "T1", "day": p, "bucket": f"T1|sales|S1|{p}"}
            for p in periods
        ]
    )

    result = await daily.run_daily(deps, ops_with(redemption_days=30))

    assert result.redemptions_stamped == 6
    assert result.redemptions_deleted == 3
    assert sorted([d["_id"] async for d in deps.db[C.REDEMPTIONS].find({})]) == ["r-no-time", "r3", "r4"]
    stamped = await deps.db[C.REDEMPTIONS].find_one({"_id": "r4"})
    assert stamped is not None
    assert stamped["ts_s"] == int((now - timedelta(days=1)).timestamp())
    # A year of summaries: 2030-03-14 on (today is 2031-03-14); a month goes when all of it is past.
    left = sorted([d["day"] async for d in deps.db[C.REPORT_SUMMARIES].find({})])
    assert left == ["2030-03", "2030-03-14", "2030-03-15", "2030-04", "2031-03-13"]
    assert result.summaries_deleted == 2

    # A setting changed later applies to every row: the rows are stamped with their time, not a date.
    assert (await daily.run_daily(deps, ops_with(redemption_days=365))).redemptions_deleted == 0
    clock.advance(timedelta(days=2))
    assert (await daily.run_daily(deps, ops_with(redemption_days=30))).redemptions_deleted == 1


async def test_the_daily_job_runs_once_a_day_on_one_replica(deps: Deps, clock: FixedClock) -> None:
    await make_tenant(deps)
    ops = ops_with()
    first = daily.background(deps, Lease(deps.db, clock, daily.JOB, "replica-a"), ops)
    second = daily.background(deps, Lease(deps.db, clock, daily.JOB, "replica-b"), ops)
    await first.step()
    await second.step()
    assert second.standing_by
    assert await store.last_run_day(deps.db, daily.JOB) == TEST_START.date().isoformat()
    ran = await deps.db[C.JOB_RUNS].find_one({"_id": daily.JOB})
    assert ran is not None
    await first.step()  # the same day: nothing runs again
    assert await deps.db[C.JOB_RUNS].find_one({"_id": daily.JOB}) == ran
    clock.advance(timedelta(days=1))
    await first.step()
    assert await store.last_run_day(deps.db, daily.JOB) == (TEST_START + timedelta(days=1)).date().isoformat()
