"""Shared fixtures: one embedded MongoDB-wire server per session, a clean database per test.

Set BOXOFFICE_TEST_MONGO_URI to run the whole suite against a real MongoDB instead.
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import inspect
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from pymongo import monitoring

from boxoffice.app import create_app
from boxoffice.config import Settings, load_settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.logging import configure_logging
from boxoffice.embedded_db import EmbeddedMongo, free_port

# CI draws the same examples every run (`.ci/run` sets HYPOTHESIS_PROFILE=ci); a local run draws anew.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


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


@dataclass(frozen=True)
class Command:
    """One operation a command carried: a client-level bulkWrite carries several (one round trip)."""

    trip: int  # which round trip (command) of the recording it went in
    name: str  # find, update, findAndModify, delete, count, aggregate, distinct, insert, getMore, …
    collection: str
    filter: dict[str, Any] | None  # what it selects by (None: it selects nothing, e.g. an insert)


class CommandRecorder(monitoring.CommandListener):
    """Every command the app sends while `recording` (the scan guard: tests/api/test_scan_guard.py)."""

    def __init__(self) -> None:
        self.recording = False
        self.commands: list[Command] = []
        self.trips = 0

    def start(self) -> None:
        self.commands, self.trips, self.recording = [], 0, True

    def stop(self) -> list[Command]:
        self.recording = False
        return self.commands

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.recording:
            return
        self.trips += 1
        self.commands.extend(_operations(self.trips, event.command_name, event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _operations(trip: int, name: str, command: Any) -> list[Command]:
    """What one command does, per collection and filter."""
    target = command.get(name)
    coll = target if isinstance(target, str) else ""
    if name == "find":
        return [Command(trip, name, coll, dict(command.get("filter") or {}))]
    if name == "findAndModify":
        return [Command(trip, name, coll, dict(command.get("query") or {}))]
    if name in ("count", "distinct"):
        return [Command(trip, name, coll, dict(command.get("query") or {}))]
    if name == "update":
        return [Command(trip, name, coll, dict(u.get("q") or {})) for u in command.get("updates") or []]
    if name == "delete":
        return [Command(trip, name, coll, dict(d.get("q") or {})) for d in command.get("deletes") or []]
    if name == "aggregate":
        first = (command.get("pipeline") or [{}])[0]
        return [Command(trip, name, coll, dict(first.get("$match") or {}))]
    if name == "getMore":
        return [Command(trip, name, str(command.get("collection", "")), None)]
    if name == "bulkWrite":  # MongoDB 8's client-level write: operations on several collections
        spaces = [str(ns.get("ns", "")).partition(".")[2] for ns in command.get("nsInfo") or []]
        found: list[Command] = []
        for op in command.get("ops") or []:
            for kind in ("insert", "update", "delete"):
                if kind in op:
                    where = None if kind == "insert" else dict(op.get("filter") or {})
                    found.append(Command(trip, kind, spaces[int(op[kind])], where))
        return found
    return [Command(trip, name, coll, None)]


@pytest.fixture(scope="session")
def command_recorder() -> CommandRecorder:
    return CommandRecorder()


@pytest.fixture
def commands(command_recorder: CommandRecorder) -> Iterator[CommandRecorder]:
    """Records the commands the test's client sends between `start()` and `stop()`."""
    yield command_recorder
    command_recorder.stop()


@pytest.fixture(scope="session")
async def db(settings: Settings, command_recorder: CommandRecorder) -> AsyncIterator[Database]:
    database = Database(
        settings.mongo_uri,
        settings.mongo_db,
        timeout_ms=settings.mongo_timeout_ms,
        event_listeners=[command_recorder],
    )
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


#: A test still running after this long prints what every thread and asyncio task is waiting on
#: (pytest-timeout fails it later, `timeout` in pyproject.toml), so a hang names its cause.
HANG_REPORT_SECONDS = 180.0
_session_loop: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(scope="session", autouse=True)
async def _remember_loop() -> None:
    _session_loop.append(asyncio.get_running_loop())


def _report_hang(nodeid: str) -> None:
    out = sys.__stderr__
    if out is None:
        return
    print(f"\n=== {nodeid} still running after {HANG_REPORT_SECONDS:.0f} s ===", file=out)
    faulthandler.dump_traceback(file=out, all_threads=True)
    for loop in _session_loop:
        for task in asyncio.all_tasks(loop):
            print(f"--- {task.get_name()} awaits:", file=out)
            for line in _await_chain(task.get_coro()):
                print(f"    {line}", file=out)
    # A task awaiting an async generator (a fixture's teardown, a lifespan's exit) shows no further
    # than `__anext__`: the generators suspended in an await carry the rest.
    for obj in gc.get_objects():
        if inspect.isasyncgen(obj) and obj.ag_await is not None:
            print(f"--- async generator {obj.ag_code.co_name} awaits:", file=out)
            for line in _await_chain(obj):
                print(f"    {line}", file=out)
    out.flush()


def _await_chain(awaitable: object) -> list[str]:
    """Where a coroutine is suspended, outermost first (a task's own stack shows only its top)."""
    lines = []
    while awaitable is not None and len(lines) < 60:
        frame = _first_attr(awaitable, "cr_frame", "ag_frame", "gi_frame")
        if frame is not None:
            lines.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        awaitable = _first_attr(awaitable, "cr_await", "ag_await", "gi_yieldfrom")
    return lines


def _first_attr(obj: object, *names: str) -> Any:
    return next((getattr(obj, n) for n in names if getattr(obj, n, None) is not None), None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[object]:
    watchdog = threading.Timer(HANG_REPORT_SECONDS, _report_hang, args=(item.nodeid,))
    watchdog.daemon = True
    watchdog.start()
    try:
        return (yield)
    finally:
        watchdog.cancel()
