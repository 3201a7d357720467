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

from boxoffice.app import create_app
from boxoffice.config import load_settings
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
            app = create_app(settings, db=db, background=False)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench", timeout=60
                ) as client:
                    yield Bench(client, deps, demo)
            await db.close()
        finally:
            server.stop()
