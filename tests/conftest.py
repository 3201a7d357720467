"""Shared fixtures: one embedded MongoDB-wire server per session, a clean database per test.

Set BOXOFFICE_TEST_MONGO_URI to run the whole suite against a real MongoDB instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.config import Settings, load_settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.logging import configure_logging
from boxoffice.embedded_db import EmbeddedMongo, free_port


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("BOXOFFICE_TEST_MONGO_URI")
    if external:
        yield external
        return
    server = EmbeddedMongo("memory", free_port(), tmp_path_factory.mktemp("nx"))
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def db_name() -> str:
    return f"boxoffice_test_{new_id().lower()}"


@pytest.fixture(scope="session")
def base_env(mongo_uri: str, db_name: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        "ENVIRONMENT": "development",
        "MONGO_URI": mongo_uri,
        "MONGO_DB": db_name,
        "VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="session")
def settings(base_env: dict[str, str]) -> Settings:
    return load_settings(base_env)


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
    await database.ensure_indexes()
    yield database
    await database.client.drop_database(settings.mongo_db)
    await database.close()


@pytest.fixture
async def clean_db(db: Database) -> Database:
    """Empty every collection (indexes stay: they are behaviour) so counts are exact."""
    for name in await db.db.list_collection_names():
        await db[name].delete_many({})
    return db


#: Tests run on a clock in the future: TTL indexes expire on real time, so a past clock would see
#: its rate-limit windows vanish as they are written.
TEST_START = datetime(2031, 3, 14, 5, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_START)


@pytest.fixture
async def app(settings: Settings, clean_db: Database, clock: FixedClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock, db=clean_db, background=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
        yield c


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def deps(clean_db: Database, clock: FixedClock, settings: Settings) -> Deps:
    return Deps(clean_db, clock, settings)


@pytest.fixture(scope="session", autouse=True)
def _json_logs() -> None:
    """The app's own log setup (JSON lines), not structlog's console renderer."""
    configure_logging("WARNING")
