"""Counting what a client sends the database: a PyMongo CommandListener (core/db.py's Database takes
`event_listeners`), and whether a find's filter is served by an index (the server's explain)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pymongo import monitoring

from boxoffice.core.db import Database

#: Commands a client sends on its own (session bookkeeping), not asked for by our code.
HOUSEKEEPING = {"endSessions", "hello", "isMaster", "ismaster", "ping"}


@dataclass(frozen=True)
class Command:
    at: float  # time.monotonic()
    name: str
    collection: str
    body: dict[str, Any]


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.log: list[Command] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in HOUSEKEEPING:
            return
        target = event.command.get(event.command_name)
        self.log.append(
            Command(
                time.monotonic(),
                event.command_name,
                target if isinstance(target, str) else "",
                dict(event.command),
            )
        )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def clear(self) -> None:
        self.log.clear()

    def shapes(self) -> list[tuple[str, str]]:
        return [(c.name, c.collection) for c in self.log]

    def passes(self, gap: float = 0.1) -> list[list[Command]]:
        """Commands grouped into bursts (a loop's passes): a new one after `gap` seconds of quiet."""
        bursts: list[list[Command]] = []
        for command in self.log:
            if bursts and command.at - bursts[-1][-1].at <= gap:
                bursts[-1].append(command)
            else:
                bursts.append([command])
        return bursts


def listening_database(uri: str, name: str, log: CommandLog) -> Database:
    return Database(uri, name, event_listeners=[log])


async def served_by_an_index(db: Database, collection: str, filters: dict[str, Any]) -> bool:
    """The server's plan for `find(filters)` reads an index, not the whole collection: IXSCAN on
    MongoDB, `SEARCH … USING INDEX` (SQLite's plan) on the embedded server."""
    explained = await db.db.command("explain", {"find": collection, "filter": filters})
    plan = json.dumps(explained["queryPlanner"]["winningPlan"])
    if "IXSCAN" in plan or "IDHACK" in plan or "EXPRESS" in plan:
        return "COLLSCAN" not in plan
    return "SEARCH" in plan and "USING" in plan and f"SCAN {collection}" not in plan
