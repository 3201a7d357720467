"""What the benchmarks read their figures from: database commands counted by a pymongo
CommandListener, the database process's CPU time from /proc, and percentiles."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

# Commands a client sends on its own (handshakes, heartbeats): not the app's round trips.
_HOUSEKEEPING = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"})
#: Where each command keeps its filter.
_FILTER_OF = {
    "find": lambda c: c.get("filter"),
    "findAndModify": lambda c: c.get("query"),
    "count": lambda c: c.get("query"),
    "distinct": lambda c: c.get("query"),
    "update": lambda c: (c.get("updates") or [{}])[0].get("q"),
    "delete": lambda c: (c.get("deletes") or [{}])[0].get("q"),
    "aggregate": lambda c: next((s["$match"] for s in c.get("pipeline") or [] if "$match" in s), None),
}


def _shape(value: Any) -> str:
    """A filter without its values: `{tenant_id, valid_to:$gt}`."""
    if not isinstance(value, dict):
        return "" if value is None else "…"
    parts = []
    for key, inner in value.items():
        if key in ("$and", "$or") and isinstance(inner, list):
            parts.append(f"{key}[" + " ".join(_shape(v) for v in inner) + "]")
        elif isinstance(inner, dict) and inner and all(k.startswith("$") for k in inner):
            parts.append(f"{key}:" + "".join(sorted(inner)))
        else:
            parts.append(key)
    return "{" + ", ".join(parts) + "}"


def describe_command(name: str, command: Any) -> str:
    """`findAndModify tickets {_id, status, passes}`, `insert events`, `find tickets {…} sort seq`."""
    collection = command.get(name) if isinstance(command.get(name), str) else ""
    text = f"{name} {collection}".strip()
    if name in _FILTER_OF:
        text += " " + _shape(_FILTER_OF[name](command))
    if name == "find" and command.get("sort"):
        text += " sort " + ",".join(str(k) for k in command["sort"])
    if name in ("insert",):
        text += f" x{len(command.get('documents') or [])}"
    return text


@dataclass
class Stat:
    count: int = 0
    micros: int = 0

    @property
    def mean_ms(self) -> float:
        return self.micros / self.count / 1000 if self.count else 0.0


@dataclass
class CommandCounter(monitoring.CommandListener):
    """Counts every command the app's clients send, and how long each kind took (by command,
    collection and filter shape). Register it before the clients are made (`monitoring.register`).
    `trace` keeps the commands of a window in order."""

    total: int = 0
    stats: dict[str, Stat] = field(default_factory=dict)
    trace: list[str] | None = None
    _names: dict[int, str] = field(default_factory=dict)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _HOUSEKEEPING:
            return
        self.total += 1
        shape = describe_command(event.command_name, event.command)
        self._names[event.request_id] = shape
        if self.trace is not None:
            self.trace.append(shape)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event.request_id, event.duration_micros)

    def _done(self, request_id: int, micros: int) -> None:
        shape = self._names.pop(request_id, None)
        if shape is None:
            return
        stat = self.stats.setdefault(shape, Stat())
        stat.count += 1
        stat.micros += micros

    def reset(self) -> dict[str, Stat]:
        taken, self.stats = self.stats, {}
        return taken

    @contextmanager
    def tracing(self) -> Iterator[list[str]]:
        self.trace = []
        try:
            yield self.trace
        finally:
            self.trace = None


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime: fields 14 and 15


def pct(samples: list[float], p: float) -> float:
    """The p-quantile (nearest rank) of samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered) + 0.5) - 1))]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")
