"""The app in process on a fresh embedded server with the demo tenant: what the in-process
benchmarks drive."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.config import Settings, load_settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.logging import configure_logging
from boxoffice.embedded_db import EmbeddedMongo, free_port
from boxoffice.seed import seed_demo


@dataclass
class Bench:
    client: httpx.AsyncClient
    deps: Deps
    demo: dict[str, Any]


@asynccontextmanager
async def in_process_app() -> AsyncIterator[Bench]:
    """Background work (sweeper, webhook worker) is left out: the request paths alone."""
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedMongo("memory", free_port(), Path(tmp))
        server.start()
        try:
            settings = load_settings({"MONGO_URI": server.uri, "VAR_DIR": tmp, "LOG_LEVEL": "WARNING"})
            db = Database(settings.mongo_uri, settings.mongo_db)
            await db.ensure_indexes()
            deps = Deps(db, SystemClock(), settings)
            demo = await seed_demo(deps)
            app = create_app(settings, db=db, background=False, migrate=False)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench", timeout=60
                ) as client:
                    yield Bench(client, deps, demo)
            await db.close()
        finally:
            server.stop()


# ---- a sized database: its own server, the app on it as often as needed ---------------------------


@dataclass
class Env:
    """A fresh embedded server (file-backed or in memory, in a temp dir) with the demo tenant.
    `db` has long timeouts, for seeding; the apps get their own connection, as configured."""

    server: EmbeddedMongo
    settings: Settings
    db: Database
    deps: Deps
    demo: dict[str, Any]
    db_path: str

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid


@asynccontextmanager
async def embedded_env(storage: str = "file") -> AsyncIterator[Env]:
    """`storage`: "file" (a SQLite file in the temp dir, like `make run`) or "memory"."""
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="boxoffice-bench-") as tmp:
        db_path = "memory" if storage == "memory" else str(Path(tmp) / "bench.db")
        server = EmbeddedMongo(db_path, free_port(), Path(tmp))
        server.start()
        try:
            settings = load_settings({"MONGO_URI": server.uri, "VAR_DIR": tmp, "LOG_LEVEL": "WARNING"})
            db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=120_000)
            await db.ensure_indexes()
            deps = Deps(db, SystemClock(), settings)
            demo = await seed_demo(deps)
            try:
                yield Env(server, settings, db, deps, demo, db_path)
            finally:
                await db.close()
        finally:
            server.stop()


@dataclass
class RunningApp:
    app: FastAPI
    db: Database
    deps: Deps
    clients: list[httpx.AsyncClient]

    def client(self, ip: str) -> httpx.AsyncClient:
        """An API client seen from `ip` (a loopback address; nothing goes on the network: requests
        go straight into the app). Rate limits count per address, so each device gets its own."""
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40_000))
        made = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120)
        self.clients.append(made)
        return made


@asynccontextmanager
async def running_app(env: Env, *, background: bool) -> AsyncIterator[RunningApp]:
    """The API in process on the env's server, with its configured database timeouts;
    `background=True` runs the sweeper and the webhook worker as `make run` does."""
    db = Database(env.settings.mongo_uri, env.settings.mongo_db, timeout_ms=env.settings.mongo_timeout_ms)
    db.indexes_ready = True  # the env made them
    app = create_app(env.settings, db=db, background=background, migrate=False)
    running = RunningApp(app, db, Deps(db, SystemClock(), env.settings), [])
    try:
        async with app.router.lifespan_context(app):
            yield running
    finally:
        for made in running.clients:
            await made.aclose()
        await db.close()
