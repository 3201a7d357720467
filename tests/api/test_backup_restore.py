"""`boxoffice backup` and `boxoffice restore` on the embedded server: a point-in-time copy taken while
sales go through the API, the database wiped, the copy restored — every sale, ticket and audit entry
made before the backup is back, and `boxoffice audit verify` passes."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.config import Settings, load_settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.embedded_db import EmbeddedMongo, free_port
from boxoffice.ops import archive
from boxoffice.ops import repository as store
from tests.factories.identity import bearer, data, make_tenant, owner_token
from tests.factories.sales import Till, open_till, sell


@dataclass
class Venue:
    server: EmbeddedMongo
    db_file: Path
    env: dict[str, str]
    settings: Settings
    db: Database
    client: httpx.AsyncClient
    app: FastAPI


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[EmbeddedMongo]:
    """A file-backed server of this test's own, as `make run` starts one."""
    server = EmbeddedMongo(str(tmp_path / "db" / "boxoffice.db"), free_port(), tmp_path / "run")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def venue(own_server: EmbeddedMongo, tmp_path: Path, base_env: dict[str, str]) -> AsyncIterator[Venue]:
    env = {**base_env, "MONGO_URI": own_server.uri, "MONGO_DB": "boxoffice", "VAR_DIR": str(tmp_path / "var")}
    settings = load_settings(env)
    db = Database(settings.mongo_uri, settings.mongo_db)
    await db.ensure_indexes()
    app = create_app(settings, clock=SystemClock(), db=db, background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield Venue(own_server, Path(own_server.db_path), env, settings, db, client, app)
    await db.close()


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def sell_one(venue: Venue, till: Till, key: str) -> dict[str, object]:
    sold: dict[str, object] = data(await sell(venue.client, till, key, [("single", 1), ("family", 1)]), 201)
    return sold


async def ids(db: Database, collection: str, field: str) -> set[str]:
    return {str(doc[field]) async for doc in db[collection].find({}, {field: 1})}


async def test_backup_under_live_sales_then_wipe_and_restore(venue: Venue, tmp_path: Path) -> None:
    world = await make_tenant(Deps(venue.db, SystemClock(), venue.settings))
    till = await open_till(venue.client, world)
    for n in range(5):
        await sell_one(venue, till, f"before-{n}")
    sales_before = await ids(venue.db, C.SALES, "sale_id")
    tickets_before = await ids(venue.db, C.TICKETS, "ticket_id")
    audits_before = await ids(venue.db, C.AUDITS, "audit_id")
    assert len(sales_before) == 5
    assert len(tickets_before) == 5 * 4  # a single and a family bundle (two singles and a pass)

    out = tmp_path / "backups" / "copy.archive.gz"
    backup = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "boxoffice.cli",
        "backup",
        "-o",
        str(out),
        "--db-file",
        str(venue.db_file),
        env={**os.environ, **venue.env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    during = 0
    while backup.returncode is None:  # the till keeps selling while the copy is taken
        await sell_one(venue, till, f"during-{during}")
        during += 1
        try:
            await asyncio.wait_for(asyncio.shield(backup.wait()), timeout=0.01)
        except TimeoutError:
            pass
    stdout, stderr = await backup.communicate()
    assert backup.returncode == 0, stderr.decode()
    assert "checked" in stdout.decode()
    assert during >= 3  # the backup really ran under traffic
    status = await store.read_status(venue.db)
    assert status is not None
    assert status["last_good_file"] == "copy.archive.gz"

    copied = archive.check(out)
    assert copied.collections[C.SALES] >= 5

    # Wipe: the venue's database is gone.
    await store.drop_collections(venue.db)
    assert await venue.db[C.SALES].count_documents({}) == 0

    restored = run_cli(venue.env, "restore", str(out))
    assert restored.returncode == 0, restored.stderr
    assert f"restored {copied.documents} documents" in restored.stdout

    assert sales_before <= await ids(venue.db, C.SALES, "sale_id")
    assert tickets_before <= await ids(venue.db, C.TICKETS, "ticket_id")
    assert audits_before <= await ids(venue.db, C.AUDITS, "audit_id")
    # A point-in-time copy: a completed sale is there with all its tickets, never half of it.
    async for sale in venue.db[C.SALES].find({"status": "completed"}):
        found = await venue.db[C.TICKETS].count_documents({"sale_id": sale["sale_id"]})
        assert found == len(sale["ticket_ids"]), sale["sale_id"]
    assert await venue.db.missing_indexes() == []

    verified = run_cli(venue.env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"tenant {world.tenant_id}:" in verified.stdout
    assert "chain intact" in verified.stdout

    # The restored venue works: its owner reads a sale made before the backup, the till sells on.
    owner = await owner_token(venue.client, world)
    first = sorted(sales_before)[0]
    shown = data(await venue.client.get(f"/v1/sales/{first}", headers=bearer(owner)))
    assert shown["sale"]["sale_id"] == first
    assert len(shown["tickets"]) == 4
    await sell_one(venue, till, "after-restore")


async def test_restore_refuses_a_database_holding_data_and_a_damaged_archive(
    venue: Venue, tmp_path: Path
) -> None:
    await make_tenant(Deps(venue.db, SystemClock(), venue.settings))
    out = tmp_path / "copy.archive.gz"
    made = run_cli(venue.env, "backup", "-o", str(out), "--db-file", str(venue.db_file))
    assert made.returncode == 0, made.stderr

    refused = run_cli(venue.env, "restore", str(out))
    assert refused.returncode == 1
    assert "holds data" in refused.stderr
    assert "--wipe" in refused.stderr

    damaged = tmp_path / "damaged.archive.gz"
    whole = gzip.decompress(out.read_bytes())
    damaged.write_bytes(gzip.compress(whole[: len(whole) - 40]))  # the trailer and a record's end lost
    tenants_before = await venue.db[C.TENANTS].count_documents({})
    broken = run_cli(venue.env, "restore", "--wipe", str(damaged))
    assert broken.returncode == 1
    assert "restore refused" in broken.stderr
    assert (
        await venue.db[C.TENANTS].count_documents({}) == tenants_before
    )  # checked before anything is dropped

    wiped = run_cli(venue.env, "restore", "--wipe", str(out))
    assert wiped.returncode == 0, wiped.stderr


def test_backup_names_a_missing_database_file(tmp_path: Path, base_env: dict[str, str]) -> None:
    result = run_cli({**base_env, "VAR_DIR": str(tmp_path)}, "backup")
    assert result.returncode == 1
    assert "no embedded database" in result.stderr
