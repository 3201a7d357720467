"""Reading archives back before they count as backups: mongodump's archive framing (built here as
mongo-tools writes it: magic, prelude, namespace blocks with terminators, an EOF block per
collection), the tools' command lines (no password on them), and the operations settings."""

from __future__ import annotations

import gzip
import io
import struct
from datetime import time
from pathlib import Path

import bson
import pytest

from boxoffice.config import ConfigError
from boxoffice.ops import mongodump
from boxoffice.ops.archive import ArchiveError
from boxoffice.ops.settings import KeepPolicy, RetentionPolicy, load_ops_settings

TERMINATOR = struct.pack("<i", -1)


def mongodump_archive(blocks: list[tuple[str, list[dict[str, object]]]], *, finish: bool = True) -> bytes:
    """An archive as `mongodump --archive` writes one: blocks of collections may interleave."""
    names = list(dict.fromkeys(ns for ns, _ in blocks))
    out = io.BytesIO()
    out.write(struct.pack("<I", mongodump.MAGIC))
    out.write(
        bson.encode(
            {
                "concurrent_collections": 4,
                "version": "0.1",
                "server_version": "7.0.14",
                "tool_version": "100.10.0",
            }
        )
    )
    for ns in names:
        db, collection = ns.split(".", 1)
        out.write(
            bson.encode(
                {"db": db, "collection": collection, "metadata": "{}", "size": 0, "type": "collection"}
            )
        )
    out.write(TERMINATOR)
    for ns, docs in blocks:
        db, collection = ns.split(".", 1)
        out.write(bson.encode({"db": db, "collection": collection, "EOF": False, "CRC": bson.Int64(0)}))
        for doc in docs:
            out.write(bson.encode(doc))
        out.write(TERMINATOR)
    if finish:
        for ns in names:
            db, collection = ns.split(".", 1)
            out.write(bson.encode({"db": db, "collection": collection, "EOF": True, "CRC": bson.Int64(0)}))
            out.write(TERMINATOR)
    return out.getvalue()


def test_a_whole_archive_is_read_back_with_its_counts(tmp_path: Path) -> None:
    raw = mongodump_archive(
        [
            ("boxoffice.sales", [{"_id": 1}, {"_id": 2}]),
            ("boxoffice.tickets", [{"_id": "t1"}]),
            ("boxoffice.sales", [{"_id": 3}]),  # interleaved: a second block of the same collection
            ("boxoffice.leases", []),
        ]
    )
    path = tmp_path / "dump.archive.gz"
    path.write_bytes(gzip.compress(raw))
    assert mongodump.check_file(path) == {"boxoffice.sales": 3, "boxoffice.tickets": 1, "boxoffice.leases": 0}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: raw[: len(raw) // 2], "cut short|ends inside|never finished"),
        (lambda raw: b"\x00\x00\x00\x00" + raw[4:], "magic"),
        (lambda raw: mongodump_archive([("boxoffice.sales", [{"_id": 1}])], finish=False), "never finished"),
        (lambda raw: raw + b"\x01", "ends inside|a block"),
    ],
)
def test_a_damaged_archive_is_refused(tmp_path: Path, damage: object, message: str) -> None:
    raw = mongodump_archive([("boxoffice.sales", [{"_id": n} for n in range(50)])])
    path = tmp_path / "dump.archive.gz"
    path.write_bytes(gzip.compress(damage(raw)))  # type: ignore[operator]
    with pytest.raises(ArchiveError, match=message):
        mongodump.check_file(path)


def test_bytes_that_are_not_gzip_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dump.archive.gz"
    path.write_bytes(b"mongodump: error connecting to host")
    with pytest.raises(ArchiveError, match="gzip"):
        mongodump.check_file(path)
    whole = gzip.compress(mongodump_archive([("boxoffice.sales", [{"_id": 1}])]))
    path.write_bytes(whole[:-6])  # the gzip trailer (CRC, length) cut off
    with pytest.raises(ArchiveError):
        mongodump.check_file(path)


def test_the_tools_get_the_password_from_a_private_file_never_the_command_line() -> None:
    uri = "mongodb://boxoffice:s3cret-Pa55@mongo:27017/?authSource=admin"
    with mongodump._config(uri) as config:
        assert config.stat().st_mode & 0o777 == 0o600
        assert "s3cret-Pa55" in config.read_text()
        for argv in (
            mongodump.dump_argv(config, "boxoffice", Path("/backups/x")),
            mongodump.dry_restore_argv(config, "boxoffice", Path("/backups/x")),
            mongodump.restore_argv(config, "boxoffice", Path("/backups/x")),
        ):
            assert not any("s3cret" in part for part in argv)
            assert f"--config={config}" in argv
            assert "--gzip" in argv
    assert not config.exists()
    assert "--dryRun" in mongodump.dry_restore_argv(config, "boxoffice", Path("x"))
    assert "--drop" in mongodump.restore_argv(config, "boxoffice", Path("x"))


def test_operations_settings_defaults_and_overrides(tmp_path: Path) -> None:
    assert load_ops_settings({}).retention == RetentionPolicy(90, 90, 365, 365)
    assert load_ops_settings({}).keep == KeepPolicy(7, 4, 12)
    assert load_ops_settings({}).backup_time == time(2, 30)
    (tmp_path / "days").write_text("30\n")
    ops = load_ops_settings(
        {
            "BACKUP_TIME": "23:05",
            "BACKUP_KEEP_WEEKLY": "0",
            "ACCESS_LOG_RETENTION_DAYS_FILE": str(tmp_path / "days"),
            "REDEMPTION_RETENTION_DAYS": "180",
        }
    )
    assert ops.backup_time == time(23, 5)
    assert ops.keep.weekly == 0
    assert ops.retention.access_log_days == 30
    assert ops.retention.redemption_days == 180


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BACKUP_TIME": "2:30am"}, "BACKUP_TIME"),
        ({"BACKUP_TIME": "24:00"}, "BACKUP_TIME"),
        ({"AUDIT_RETENTION_DAYS": "3"}, "AUDIT_RETENTION_DAYS"),
        ({"REDEMPTION_RETENTION_DAYS": "7"}, "REDEMPTION_RETENTION_DAYS"),
        ({"SUMMARY_RETENTION_DAYS": "a year"}, "SUMMARY_RETENTION_DAYS"),
        ({"BACKUP_KEEP_DAILY": "-1"}, "BACKUP_KEEP_DAILY"),
        (
            {"BACKUP_KEEP_DAILY": "0", "BACKUP_KEEP_WEEKLY": "0", "BACKUP_KEEP_MONTHLY": "0"},
            "cannot all be 0",
        ),
        ({"BACKUP_STALE_HOURS": "0"}, "BACKUP_STALE_HOURS"),
    ],
)
def test_bad_operations_settings_say_which_and_why(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_ops_settings(env)
