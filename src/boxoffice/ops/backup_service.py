"""The stack's backup job (`boxoffice backups serve`, the `backup` service): once a day at
BACKUP_TIME (local time), dump the database into the backup volume, read the archive back, give it
its real name only once it passed, rotate (`backup_rotation.py`), and record the outcome in the
`backup_status` document the API reads (its backup-age metric and the `backup_stale` alert).

Why a document in MongoDB rather than a status file: every API replica can read it without
mounting the backup volume (which would hand the API every archive), it needs no shared disk
between services, and a job that cannot reach the database cannot claim a good backup either.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from pymongo.errors import PyMongoError

from boxoffice.core.clock import Clock
from boxoffice.core.db import Database
from boxoffice.core.logging import get_logger
from boxoffice.ops import archive, backup_rotation
from boxoffice.ops import repository as store
from boxoffice.ops.archive import ArchiveError
from boxoffice.ops.settings import OpsSettings

log = get_logger(__name__)

#: At start-up, a last good backup older than this is made up at once rather than at BACKUP_TIME.
CATCH_UP_AFTER = timedelta(hours=24)
#: After a failed backup, the next attempt (not a day later: the alert would fire first).
RETRY_AFTER = timedelta(minutes=30)


class Dumper(Protocol):
    method: str

    async def dump(self, path: Path) -> None: ...

    async def check(self, path: Path) -> int:
        """Read the archive back whole; the documents it holds. Raises ArchiveError."""
        ...


class ArchiveDump:
    """A driver-level dump in the BoxOffice archive format (`archive.py`): no tools needed. On a
    live MongoDB it reads collection after collection (not one instant); the embedded server's
    point-in-time copy is `boxoffice backup`."""

    method = "archive"

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def dump(self, path: Path) -> None:
        await archive.dump(self.db, path, created_at=self.clock.now(), source="boxoffice backups")

    async def check(self, path: Path) -> int:
        return (await asyncio.to_thread(archive.check, path)).documents


def next_run(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The next `at` (local wall time in `tz`) strictly after `now`."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate.astimezone(now.tzinfo)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    file: str | None = None
    size: int = 0
    documents: int = 0
    deleted: tuple[str, ...] = ()
    error: str = ""


class BackupJob:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ops: OpsSettings,
        dumper: Dumper,
        *,
        tz: ZoneInfo,
        environment: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.ops = ops
        self.dumper = dumper
        self.tz = tz
        self.environment = environment
        self.prefix = f"boxoffice-{environment}"

    @property
    def directory(self) -> Path:
        return self.ops.backup_dir

    async def run_once(self) -> Outcome:
        """One backup: dump, check, name, rotate, record. Never raises for a failed backup: the
        failure is recorded (and logged) and the last good backup keeps ageing."""
        started = self.clock.now()
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / backup_rotation.archive_name(self.prefix, started)
        partial = self.directory / f".{final.name}.partial"
        try:
            await self.dumper.dump(partial)
            documents = await self.dumper.check(partial)
            partial.replace(final)
        except (ArchiveError, OSError) as exc:
            partial.unlink(missing_ok=True)
            error = f"{type(exc).__name__}: {exc}"
            log.error("backup_failed", error=error)
            with contextlib.suppress(PyMongoError):
                await store.record_failure(self.db, at=started, error=error)
            return Outcome(ok=False, error=error)
        size = final.stat().st_size
        deleted = self.rotate()
        await store.record_good(
            self.db, at=started, file=final.name, size=size, documents=documents, method=self.dumper.method
        )
        log.info("backup_done", file=final.name, bytes=size, documents=documents, deleted=len(deleted))
        return Outcome(ok=True, file=final.name, size=size, documents=documents, deleted=deleted)

    def rotate(self) -> tuple[str, ...]:
        names = [p.name for p in self.directory.iterdir() if p.is_file()]
        plan = backup_rotation.rotate(names, self.prefix, self.ops.keep, self.tz)
        for name in plan.delete:
            (self.directory / name).unlink(missing_ok=True)
        return plan.delete

    def archives(self) -> backup_rotation.Rotation:
        return backup_rotation.rotate(
            [p.name for p in self.directory.iterdir() if p.is_file()] if self.directory.exists() else [],
            self.prefix,
            self.ops.keep,
            self.tz,
        )

    async def due_now(self) -> bool:
        """At start-up: no good backup within a day (a fresh stack, or one that was down)."""
        status = await store.read_status(self.db)
        last = (status or {}).get("last_good_at")
        return not isinstance(last, datetime) or self.clock.now() - last >= CATCH_UP_AFTER

    async def serve(self) -> None:
        """Run forever: a backup at start-up when one is due, then daily at BACKUP_TIME; a failed
        one is tried again after RETRY_AFTER."""
        await store.status_started(
            self.db, now=self.clock.now(), method=self.dumper.method, environment=self.environment
        )
        log.info("backup_service_started", directory=str(self.directory), at=self.ops.backup_time.isoformat())
        run = await self.due_now()
        while True:
            if run:
                outcome = await self.run_once()
                if not outcome.ok:
                    await asyncio.sleep(RETRY_AFTER.total_seconds())
                    continue
            now = self.clock.now()
            wake = next_run(now, self.ops.backup_time, self.tz)
            await asyncio.sleep(max((wake - now).total_seconds(), 1.0))
            run = True
