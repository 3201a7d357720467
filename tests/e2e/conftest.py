"""Real servers for the browser: the API and the admin service on free ports (uvicorn in threads),
the demo tenant seeded, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from boxoffice.admin.app import create_admin_app
from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.embedded_db import free_port
from boxoffice.seed import seed_demo
from tests.live import ThreadedServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def e2e_settings(settings: Settings, repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    dist = repo_root / "admin-ui" / "dist"
    if not (dist / "index.html").exists():
        pytest.fail("admin-ui/dist is missing: `make test` builds it (npm run build in admin-ui)")
    return replace(
        settings,
        mongo_db=settings.mongo_db + "_e2e",
        admin_dist=dist,
        var_dir=tmp_path_factory.mktemp("e2e-var"),
    )


@pytest.fixture(scope="session")
def demo(e2e_settings: Settings) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        db = Database(e2e_settings.mongo_uri, e2e_settings.mongo_db)
        try:
            await db.ensure_indexes()
            return await seed_demo(Deps(db, SystemClock(), e2e_settings))
        finally:
            await db.close()

    return asyncio.run(run())


@pytest.fixture(scope="session")
def servers(e2e_settings: Settings, demo: dict[str, Any]) -> Iterator[dict[str, str]]:
    api_port, admin_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    admin_settings = replace(e2e_settings, api_url=api_url)
    with (
        ThreadedServer(create_app(e2e_settings), api_port) as api,
        ThreadedServer(create_admin_app(admin_settings), admin_port),
    ):
        yield {"api": api.url, "admin": f"http://localhost:{admin_port}"}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


def register_device(api_url: str, site_key: str, name: str) -> dict[str, Any]:
    """What the Android POS does when a cashier types the site key."""
    response = httpx.post(
        f"{api_url}/v1/auth/device/register",
        json={"site_key": site_key, "type": "POS", "name": name},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()["data"]
    return body
