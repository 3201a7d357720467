"""Newman runs the whole Postman collection (docs/api/) against a live API on a fresh database, as a
device team would against their test server: every request's Postman tests must pass."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.contract.examples import webhook_receiver
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.embedded_db import free_port
from boxoffice.seed import seed_demo
from tests.live import ThreadedServer


@pytest.fixture(scope="module")
def newman(repo_root: Path) -> Path:
    found = repo_root / "contract" / "node_modules" / ".bin" / "newman"
    if not found.exists():
        if os.environ.get("CI"):
            pytest.fail("newman is required in CI (`make test` runs npm ci in contract/)")
        pytest.skip("newman is not installed: cd contract && npm ci")
    return found


@pytest.fixture(scope="module")
def live_api(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh database with the demo tenant (its site key pairs devices without approval), the API
    on a free port with its background loops, and a webhook receiver."""
    api_settings = replace(
        settings, mongo_db=settings.mongo_db + "_newman", var_dir=tmp_path_factory.mktemp("newman")
    )

    async def seed() -> dict[str, Any]:
        db = Database(api_settings.mongo_uri, api_settings.mongo_db)
        try:
            await db.ensure_indexes()
            return await seed_demo(Deps(db, SystemClock(), api_settings))
        finally:
            await db.close()

    demo = asyncio.run(seed())
    with webhook_receiver() as hooks, ThreadedServer(create_app(api_settings), free_port()) as server:
        yield {"url": server.url, "demo": demo, "hooks": hooks}

    async def drop() -> None:
        db = Database(api_settings.mongo_uri, api_settings.mongo_db)
        try:
            await db.client.drop_database(api_settings.mongo_db)
        finally:
            await db.close()

    asyncio.run(drop())


def test_the_collection_runs_green(
    newman: Path, live_api: dict[str, Any], repo_root: Path, tmp_path: Path
) -> None:
    demo = live_api["demo"]
    given = {
        "base_url": live_api["url"],
        "site_key": demo["site_key"],
        "owner_email": demo["owner"]["email"],
        "owner_password": demo["owner"]["password"],
        "cashier_name": demo["cashier"]["name"],
        "cashier_pin": demo["cashier"]["pin"],
        "supervisor_name": demo["supervisor"]["name"],
        "supervisor_pin": demo["supervisor"]["pin"],
        "webhook_url": f"{live_api['hooks']}/ok",
    }
    report = tmp_path / "newman.json"
    command = [
        str(newman),
        "run",
        str(repo_root / "docs" / "api" / "boxoffice.postman_collection.json"),
        "--environment",
        str(repo_root / "docs" / "api" / "boxoffice.postman_environment.json"),
        "--bail",
        "--reporters",
        "cli,json",
        "--reporter-json-export",
        str(report),
        "--timeout-request",
        "20000",
    ]
    for key, value in given.items():
        command += ["--env-var", f"{key}={value}"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    stats = json.loads(report.read_text())["run"]["stats"]
    assert stats["requests"]["failed"] == 0, stats
    assert stats["assertions"]["failed"] == 0, stats
    assert stats["requests"]["total"] >= 100, stats  # the whole collection ran, not a folder of it
