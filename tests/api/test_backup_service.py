"""The stack's backup job and what the API makes of it: a checked archive a day, rotated; the last
good backup's age as metrics; the `backup_stale` alert in every tenant past 26 hours, resolved when a
good backup arrives. Times come from the injected clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from boxoffice.core.clock import FixedClock
from boxoffice.core.deps import Deps
from boxoffice.ops import archive, backup_watch
from boxoffice.ops import repository as store
from boxoffice.ops.backup_service import ArchiveDump, BackupJob, next_run
from boxoffice.ops.mongodump import MongoDump
from boxoffice.ops.settings import KeepPolicy, OpsSettings
from tests.factories.identity import TenantWorld, bearer, data, make_tenant, owner_token

BANGKOK = ZoneInfo("Asia/Bangkok")


def job(deps: Deps, clock: FixedClock, directory: Path, **keep: int) -> BackupJob:
    ops = OpsSettings(backup_dir=directory, keep=KeepPolicy(**keep) if keep else KeepPolicy())
    return BackupJob(deps.db, clock, ops, ArchiveDump(deps.db, clock), tz=BANGKOK, environment="staging")


async def alerts_of(client: httpx.AsyncClient, world: TenantWorld) -> list[dict[str, object]]:
    """What the owner sees (signing in again: the clock has moved past the last token)."""
    world.tokens.pop("owner", None)
    token = await owner_token(client, world)
    items: list[dict[str, object]] = data(await client.get("/v1/alerts", headers=bearer(token)))["items"]
    return [a for a in items if a["kind"] == "backup_stale"]


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def gauge(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2031, 3, 14, 5, 0, tzinfo=UTC), datetime(2031, 3, 14, 19, 30, tzinfo=UTC)),  # 12:00 → 02:30
        (
            datetime(2031, 3, 14, 19, 30, tzinfo=UTC),
            datetime(2031, 3, 15, 19, 30, tzinfo=UTC),
        ),  # at 02:30 → next
        (datetime(2031, 3, 14, 19, 29, tzinfo=UTC), datetime(2031, 3, 14, 19, 30, tzinfo=UTC)),
    ],
)
def test_the_next_backup_is_at_backup_time_local(now: datetime, expected: datetime) -> None:
    assert next_run(now, time(2, 30), BANGKOK) == expected


async def test_a_backup_a_day_is_checked_named_recorded_and_rotated(
    deps: Deps, clock: FixedClock, tmp_path: Path
) -> None:
    await make_tenant(deps)
    foreign = tmp_path / "notes.txt"
    foreign.write_text("kept by hand")
    backups = job(deps, clock, tmp_path, daily=2, weekly=0, monthly=0)
    assert await backups.due_now()  # never backed up: one is due at start-up

    names = []
    for day in range(4):
        clock.advance(timedelta(days=1 if day else 0))
        outcome = await backups.run_once()
        assert outcome.ok, outcome.error
        assert outcome.file is not None
        names.append(outcome.file)
        summary = archive.check(tmp_path / outcome.file)
        assert summary.documents == outcome.documents
        assert summary.collections["tenants"] == 1

    assert names[0] == "boxoffice-staging-20310314T050000Z.archive.gz"
    assert listing(tmp_path) == sorted([*names[-2:], "notes.txt"])  # no `.partial` left either
    status = await store.read_status(deps.db)
    assert status is not None
    assert status["last_good_file"] == names[-1]
    assert status["last_good_at"] == clock.now()
    assert status["last_error"] == ""
    assert status["method"] == "archive"
    assert not await backups.due_now()


async def test_a_failed_backup_is_recorded_and_the_last_good_one_keeps_ageing(
    deps: Deps, clock: FixedClock, tmp_path: Path
) -> None:
    good = await job(deps, clock, tmp_path).run_once()
    assert good.ok
    clock.advance(timedelta(days=1))
    ops = OpsSettings(backup_dir=tmp_path)
    # The database tools are not installed here: mongodump cannot run, as when its binary is broken.
    failing = BackupJob(
        deps.db, clock, ops, MongoDump("mongodb://x/", "boxoffice"), tz=BANGKOK, environment="staging"
    )
    outcome = await failing.run_once()
    assert not outcome.ok
    assert "mongodump" in outcome.error
    status = await store.read_status(deps.db)
    assert status is not None
    assert status["last_good_file"] == good.file  # still the last good one
    assert status["last_attempt_at"] == clock.now()
    assert "mongodump" in status["last_error"]
    assert listing(tmp_path) == [good.file]  # no half archive left behind


async def test_a_stale_backup_alerts_every_tenant_and_a_fresh_one_resolves_it(
    client: httpx.AsyncClient, deps: Deps, clock: FixedClock, tmp_path: Path
) -> None:
    first, second = await make_tenant(deps, "A"), await make_tenant(deps, "B")
    ops = OpsSettings(backup_dir=tmp_path)
    staging = Deps(deps.db, clock, replace(deps.settings, environment="staging"))
    await job(deps, clock, tmp_path).run_once()

    clock.advance(timedelta(hours=25))
    await backup_watch.watch(staging, ops)
    for world in (first, second):
        assert await alerts_of(client, world) == []
    metrics = (await client.get("/metrics")).text
    assert gauge(metrics, "boxoffice_backup_age_seconds") == 25 * 3600
    assert (
        gauge(metrics, "boxoffice_backup_last_success_timestamp_seconds")
        == datetime(2031, 3, 14, 5, 0, tzinfo=UTC).timestamp()
    )

    clock.advance(timedelta(hours=2))  # 27 hours: past the 26-hour limit
    await backup_watch.watch(staging, ops)
    await backup_watch.watch(staging, ops)  # a second pass: still one alert per tenant
    for world in (first, second):
        raised = await alerts_of(client, world)
        assert len(raised) == 1
        assert raised[0]["status"] == "open"
        assert raised[0]["cause_key"] == "backup"
        assert raised[0]["store_id"] is None
        assert "27 hours ago" in str(raised[0]["detail"])

    await job(deps, clock, tmp_path).run_once()
    await backup_watch.watch(staging, ops)
    for world in (first, second):
        raised = await alerts_of(client, world)
        assert [a["status"] for a in raised] == ["resolved"]
    status = await store.read_status(deps.db)
    assert status is not None
    assert not status["alerted"]


async def test_a_stack_whose_backup_job_never_reported_alerts_a_day_on(deps: Deps, clock: FixedClock) -> None:
    world = await make_tenant(deps)
    production = Deps(deps.db, clock, replace(deps.settings, environment="production"))
    ops = OpsSettings()
    await backup_watch.watch(production, ops)  # starts counting
    status = await store.read_status(deps.db)
    assert status is not None
    assert status["since"] == clock.now()
    clock.advance(timedelta(hours=27))
    await backup_watch.watch(production, ops)
    alerts = [a async for a in deps.db["alerts"].find({"tenant_id": world.tenant_id, "kind": "backup_stale"})]
    assert len(alerts) == 1
    assert "No good backup has been recorded in 27 hours" in alerts[0]["detail"]


async def test_development_without_a_backup_job_expects_none(
    client: httpx.AsyncClient, deps: Deps, clock: FixedClock
) -> None:
    await make_tenant(deps)
    await backup_watch.watch(deps, OpsSettings())  # ENVIRONMENT=development in the suite
    clock.advance(timedelta(days=3))
    await backup_watch.watch(deps, OpsSettings())
    assert await store.read_status(deps.db) is None
    assert await deps.db["alerts"].count_documents({"kind": "backup_stale"}) == 0
    assert "boxoffice_backup_age_seconds NaN" in (await client.get("/metrics")).text
