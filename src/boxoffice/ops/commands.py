"""The operations commands: `boxoffice backup | restore` (the embedded server), `boxoffice backups
serve | now | list | restore` (a stack's backup service, mongodump) and `boxoffice migrate`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pymongo.errors import PyMongoError

from boxoffice.config import ENVIRONMENTS, ConfigError, Settings, _read
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.lease import holder_id
from boxoffice.core.logging import configure_logging
from boxoffice.migrations import runner
from boxoffice.migrations.steps import STEPS
from boxoffice.ops import archive, backup_rotation
from boxoffice.ops import repository as store
from boxoffice.ops.archive import ArchiveError
from boxoffice.ops.backup_service import ArchiveDump, BackupJob, Dumper
from boxoffice.ops.mongodump import MongoDump
from boxoffice.ops.settings import OpsSettings, load_ops_settings

SettingsLoader = Callable[[], Settings]


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the command's output


def _open(settings: Settings, timeout_ms: int | None = None) -> Database:
    return Database(settings.mongo_uri, settings.mongo_db, timeout_ms=timeout_ms or settings.mongo_timeout_ms)


# ---- the embedded server: boxoffice backup / restore -------------------------------------------------


async def _backup(settings: Settings, db_file: Path, out: Path) -> int:
    now = datetime.now(UTC)
    try:
        summary = await archive.backup_embedded(db_file, settings.mongo_db, out, created_at=now)
    except ArchiveError as exc:
        sys.stderr.write(f"boxoffice: backup failed: {exc}\n")
        return 1
    _say(f"{out}: {summary.documents} documents in {len(summary.collections)} collections, checked")
    size = (await asyncio.to_thread(out.stat)).st_size
    db = _open(settings, timeout_ms=1000)
    try:  # the running server learns its last good backup (the API's backup-age metric)
        await store.record_good(
            db, at=now, file=out.name, size=size, documents=summary.documents, method="snapshot"
        )
    except PyMongoError:
        _say("(the database server is not running: the backup status was not recorded)")
    finally:
        await db.close()
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    db_file = Path(args.db_file) if args.db_file else settings.var_dir / "db" / "boxoffice.db"
    stamp = backup_rotation.archive_name(f"boxoffice-{settings.environment}", datetime.now(UTC))
    out = Path(args.output) if args.output else settings.var_dir / "backups" / stamp
    out.parent.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_backup(settings, db_file, out))


async def _restore(settings: Settings, path: Path, wipe: bool) -> int:
    db = _open(settings)
    try:
        summary = await archive.restore(db, path, wipe=wipe)
        await db.ensure_indexes()
    except ArchiveError as exc:
        sys.stderr.write(f"boxoffice: restore refused: {exc}\n")
        return 1
    finally:
        await db.close()
    _say(
        f"restored {summary.documents} documents in {len(summary.collections)} collections "
        f"into {settings.mongo_db} (archive of {summary.created_at}); indexes created"
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_restore(settings, Path(args.archive), args.wipe))


# ---- a stack's backup service: boxoffice backups ... -------------------------------------------------


def database_settings(env: Mapping[str, str] | None = None) -> Settings:
    """What the backup service needs, and nothing more: the database (MONGO_URI, MONGO_DB), the time
    zone its schedule and rotation follow, the environment its archives are named after. It is
    given no signing or encryption key, so none is asked for."""
    env = os.environ if env is None else env
    environment = (_read(env, "ENVIRONMENT") or "development").lower()
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    tz = _read(env, "TZ") or "Asia/Bangkok"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"TZ must be an IANA time zone such as Asia/Bangkok, got {tz!r}") from exc
    uri = _read(env, "MONGO_URI")
    if not uri and environment != "development":
        raise ConfigError(f"Refusing to start in {environment}: MONGO_URI (or MONGO_URI_FILE) is required")
    return Settings(
        environment=environment,  # checked against ENVIRONMENTS above
        mongo_uri=uri or Settings().mongo_uri,
        mongo_db=_read(env, "MONGO_DB") or "boxoffice",
        tz=tz,
        log_level=(_read(env, "LOG_LEVEL") or "INFO").upper(),
    )


def _job(settings: Settings, ops: OpsSettings, db: Database, method: str) -> BackupJob:
    dumper: Dumper = (
        MongoDump(settings.mongo_uri, settings.mongo_db)
        if method == "mongodump"
        else ArchiveDump(db, SystemClock())
    )
    return BackupJob(
        db, SystemClock(), ops, dumper, tz=ZoneInfo(settings.tz), environment=settings.environment
    )


async def _backups(args: argparse.Namespace, settings: Settings, ops: OpsSettings) -> int:
    db = _open(settings)
    job = _job(settings, ops, db, args.method)
    try:
        if args.backups_command == "serve":
            await job.serve()
            return 0
        if args.backups_command == "now":
            outcome = await job.run_once()
            if not outcome.ok:
                sys.stderr.write(f"boxoffice: backup failed: {outcome.error}\n")
                return 1
            _say(f"{outcome.file}: {outcome.size} bytes, {outcome.documents} documents, checked")
            for name in outcome.deleted:
                _say(f"  rotated out: {name}")
            return 0
        if args.backups_command == "list":
            rotation = job.archives()
            for name in rotation.keep:
                _say(f"{name}  kept")
            for name in rotation.delete:
                _say(f"{name}  rotated out at the next backup")
            return 0
        path: Path = args.archive_path
        await MongoDump(settings.mongo_uri, settings.mongo_db).restore(path)
        _say(f"restored {path.name} into {settings.mongo_db} (each collection in it replaced)")
        return 0
    except ArchiveError as exc:
        sys.stderr.write(f"boxoffice: {exc}\n")
        return 1
    finally:
        await db.close()


# ---- boxoffice migrate --------------------------------------------------------------------------------


async def _migrate(settings: Settings, ops: OpsSettings, *, show_status: bool, dry_run: bool) -> int:
    db = _open(settings)
    try:
        await db.ensure_indexes()
        context = runner.Context(Deps(db, SystemClock(), settings), ops)
        if show_status:
            for state in await runner.status(context, STEPS):
                when = f"applied {state.applied_at.isoformat()}" if state.applied_at else "pending"
                note = f" — {state.note}" if state.note else ""
                _say(f"{state.step.id}  {when}: {state.step.description}{note}")
            return 0
        if dry_run:
            planned = await runner.plans(context, STEPS)
            if not planned:
                _say("nothing to do: every step is applied")
            for step, plan in planned:
                _say(f"{step.id}  would {plan}")
            return 0
        applied = await runner.migrate(
            context,
            STEPS,
            holder_id(),
            on_applied=lambda a: _say(f"{a.step_id}  applied in {a.took_ms} ms: {a.note}"),
        )
        if not applied:
            _say("nothing to do: every step is applied")
        return 0
    finally:
        await db.close()


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], settings: SettingsLoader) -> None:
    def run(command: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: command(args, settings())

    backup = sub.add_parser(
        "backup",
        help="the embedded server (make run): a point-in-time copy of its database file into a checked, "
        "gzipped archive, while it runs",
    )
    backup.add_argument("-o", "--output", help="the archive to write (default: VAR_DIR/backups/<name>)")
    backup.add_argument(
        "--db-file", help="the embedded server's database file (default: VAR_DIR/db/boxoffice.db)"
    )
    backup.set_defaults(func=run(cmd_backup))

    restore = sub.add_parser("restore", help="load an archive written by `boxoffice backup` into MONGO_URI")
    restore.add_argument("archive", help="the .archive.gz file")
    restore.add_argument(
        "--wipe", action="store_true", help="drop every collection first (required when it holds data)"
    )
    restore.set_defaults(func=run(cmd_restore))

    backups = sub.add_parser("backups", help="a stack's backup service: mongodump into BACKUP_DIR, rotated")
    backups_sub = backups.add_subparsers(dest="backups_command", required=True)
    for name, text in (
        ("serve", "run forever: a backup daily at BACKUP_TIME (and at once if the last is over a day old)"),
        ("now", "one backup now: dump, check, rotate, record"),
        ("list", "the archives in BACKUP_DIR and which the rotation keeps"),
    ):
        command = backups_sub.add_parser(name, help=text)
        command.add_argument(
            "--method",
            choices=("mongodump", "archive"),
            default="mongodump",
            help="mongodump (MongoDB, the default) or the driver-level BoxOffice archive",
        )
    replay = backups_sub.add_parser("restore", help="mongorestore --drop an archive from BACKUP_DIR")
    replay.add_argument("archive", help="a file name in BACKUP_DIR, or a path")
    replay.set_defaults(method="mongodump")

    def run_backups(args: argparse.Namespace) -> int:
        try:
            loaded, ops = database_settings(), load_ops_settings()
        except ConfigError as exc:
            sys.stderr.write(f"boxoffice: configuration error: {exc}\n")
            return 2
        configure_logging(loaded.log_level)
        if args.backups_command == "restore":
            path = Path(args.archive)
            args.archive_path = path if path.is_absolute() or path.exists() else ops.backup_dir / path
            if not args.archive_path.exists():
                sys.stderr.write(f"boxoffice: no archive {args.archive_path}\n")
                return 2
        return asyncio.run(_backups(args, loaded, ops))

    backups.set_defaults(func=run_backups)

    migrate = sub.add_parser("migrate", help="apply the pending data migrations (one process at a time)")
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument("--status", action="store_true", help="list every step: applied (when) or pending")
    mode.add_argument(
        "--dry-run", action="store_true", help="say what each pending step would do; change nothing"
    )

    def run_migrate(args: argparse.Namespace) -> int:
        configure_logging("WARNING")  # the command says what it did; its log lines would repeat it
        return asyncio.run(
            _migrate(settings(), load_ops_settings(), show_status=args.status, dry_run=args.dry_run)
        )

    migrate.set_defaults(func=run_migrate)
