"""The BoxOffice archive: every collection of a database, as stored, in one gzipped file — what
`boxoffice backup` writes from the embedded server and `boxoffice restore` loads into any server.

Consistency: the embedded server keeps everything in one SQLite file in WAL mode, so SQLite's
online backup copies it as of one instant while the server goes on taking writes (readers never
block writers there). A private server is started on that copy and dumped; the live server only
ever sees the file copy. The archive is therefore a point-in-time copy: every write acknowledged
before the copy began is in it, nothing after it is, and no multi-document write is cut in a way
the write discipline could not already roll forward.

Format (gzip): records of one tag byte and one BSON document — `H` the header (format, version,
database, time, source), then per collection `C` {name}, `D` each document exactly as stored, `E`
{name, count}, and finally `T` {collections, documents}. A reader knows the file is whole when the
trailer is there, every `E` count matches the documents read, and gzip's own CRC holds.
"""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import bson

from boxoffice.core.db import Database
from boxoffice.core.logging import get_logger
from boxoffice.embedded_db import EmbeddedMongo, free_port
from boxoffice.ops import repository as store

log = get_logger(__name__)

FORMAT = "boxoffice-archive"
VERSION = 1
_INSERT_BATCH = 500


class ArchiveError(Exception):
    """The archive cannot be read back whole; the message says where it stops making sense."""


@dataclass(frozen=True)
class ArchiveSummary:
    database: str
    created_at: str
    collections: dict[str, int] = field(default_factory=dict)

    @property
    def documents(self) -> int:
        return sum(self.collections.values())


def _record(out: gzip.GzipFile, tag: bytes, document: bytes) -> None:
    out.write(tag)
    out.write(document)


async def dump(db: Database, path: Path, *, created_at: datetime, source: str) -> ArchiveSummary:
    """Write every collection of `db` to `path` (replaced whole only once complete)."""
    tmp = path.with_name(path.name + ".partial")
    counts: dict[str, int] = {}
    with gzip.open(tmp, "wb", compresslevel=6) as out:
        header = {
            "format": FORMAT,
            "version": VERSION,
            "database": db.db.name,
            "created_at": created_at,
            "source": source,
        }
        _record(out, b"H", bson.encode(header))
        for name in await store.collection_names(db):
            _record(out, b"C", bson.encode({"name": name}))
            count = 0
            async for raw in store.raw_documents(db, name):
                _record(out, b"D", raw)
                count += 1
            _record(out, b"E", bson.encode({"name": name, "count": count}))
            counts[name] = count
        _record(out, b"T", bson.encode({"collections": len(counts), "documents": sum(counts.values())}))
    tmp.replace(path)
    return ArchiveSummary(db.db.name, created_at.isoformat(), counts)


def _read_records(path: Path) -> Iterator[tuple[bytes, bytes]]:
    try:
        with gzip.open(path, "rb") as stream:
            while True:
                tag = stream.read(1)
                if not tag:
                    return
                size_bytes = stream.read(4)
                if len(size_bytes) < 4:
                    raise ArchiveError("the archive ends inside a record")
                (size,) = struct.unpack("<i", size_bytes)
                if size < 5:
                    raise ArchiveError(f"a record claims an impossible size ({size})")
                body = stream.read(size - 4)
                if len(body) < size - 4:
                    raise ArchiveError("the archive ends inside a record")
                yield tag, size_bytes + body
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ArchiveError(f"not a readable gzip file: {exc}") from exc


def iterate(path: Path, counts: dict[str, int] | None = None) -> Iterator[tuple[str, bytes]]:
    """(collection, raw document) for every document, checking the frame as it goes; raises
    ArchiveError at the first thing that does not hold, and at the end unless the trailer is there
    and agrees. `counts` is filled with each collection's documents (empty ones too) as they end."""
    counts = {} if counts is None else counts
    records = _read_records(path)
    first = next(records, None)
    if first is None or first[0] != b"H" or bson.decode(first[1]).get("format") != FORMAT:
        raise ArchiveError("not a BoxOffice archive (no header)")
    current: str | None = None
    count = 0
    for tag, raw in records:
        if tag == b"D":
            if current is None:
                raise ArchiveError("a document outside any collection")
            count += 1
            yield current, raw
            continue
        doc: dict[str, Any] = bson.decode(raw)
        if tag == b"C":
            if current is not None:
                raise ArchiveError(f"collection {current} has no end record")
            current, count = str(doc["name"]), 0
        elif tag == b"E":
            if current != doc.get("name") or count != doc.get("count"):
                raise ArchiveError(
                    f"collection {current}: {count} documents read, the archive says {doc.get('count')}"
                )
            counts[str(current)] = count
            current = None
        elif tag == b"T":
            if current is not None or doc.get("documents") != sum(counts.values()):
                raise ArchiveError("the trailer does not match the collections read")
            return
        else:
            raise ArchiveError(f"unknown record tag {tag!r}")
    raise ArchiveError("the archive is cut short (no trailer)")


def check(path: Path) -> ArchiveSummary:
    """Read the whole archive back: gzip's CRC, every record, every count. Raises ArchiveError."""
    first = next(_read_records(path), None)
    if first is None or first[0] != b"H":
        raise ArchiveError("not a BoxOffice archive (no header)")
    header: dict[str, Any] = bson.decode(first[1])
    counts: dict[str, int] = {}
    for _ in iterate(path, counts):
        pass
    return ArchiveSummary(str(header.get("database", "")), str(header.get("created_at", "")), counts)


async def restore(db: Database, path: Path, *, wipe: bool) -> ArchiveSummary:
    """Load an archive into `db`. The archive is checked whole first; a database that holds data is
    refused unless `wipe` (then every collection is dropped before loading). Indexes are not in the
    archive: the caller creates them from the specs in code (`Database.ensure_indexes`)."""
    summary = check(path)
    holding = await store.holding_data(db)
    if holding and not wipe:
        shown = ", ".join(holding[:5]) + ("…" if len(holding) > 5 else "")
        raise ArchiveError(
            f"the database {db.db.name!r} holds data ({shown}); "
            "restore into an empty database, or pass --wipe to drop everything first"
        )
    if wipe:
        await store.drop_collections(db)
    batch: list[bytes] = []
    current: str | None = None
    for name, raw in iterate(path):
        if name != current or len(batch) >= _INSERT_BATCH:
            if current is not None:
                await store.insert_raw(db, current, batch)
            batch, current = [], name
        batch.append(raw)
    if current is not None:
        await store.insert_raw(db, current, batch)
    await store.ensure_collections(db, list(summary.collections))  # empty ones exist again too
    return summary


def snapshot(db_file: Path, into: Path) -> None:
    """SQLite's online backup, in one step: a copy as of one instant, taken beside a running server
    (WAL mode: the copy is a read, and readers never block the server's writes)."""
    if not db_file.exists():
        raise ArchiveError(f"no embedded database at {db_file} (is VAR_DIR right?)")
    source = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(into)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


async def backup_embedded(db_file: Path, database: str, out: Path, *, created_at: datetime) -> ArchiveSummary:
    """A point-in-time archive of the embedded server's database file, while the server runs: copy
    the file (`snapshot`), start a private server on the copy, dump it, check the archive."""
    with tempfile.TemporaryDirectory(prefix="boxoffice-backup-") as work:
        copy = Path(work) / "snapshot.db"
        await asyncio.to_thread(snapshot, db_file, copy)
        server = EmbeddedMongo(str(copy), free_port(), Path(work) / "run")
        await asyncio.to_thread(server.start)
        try:
            db = Database(server.uri, database)
            try:
                summary = await dump(db, out, created_at=created_at, source=f"snapshot of {db_file}")
            finally:
                await db.close()
        finally:
            await asyncio.to_thread(server.stop)
    await asyncio.to_thread(check, out)
    return summary
