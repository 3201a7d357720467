"""`mongodump --archive --gzip` and its check, for the stacks' backup service (real MongoDB).

The password never reaches a command line (where `ps` shows it): the connection string goes in a
config file readable by this user only (`--config`, which the tools read `uri` and `password` from).
The check reads the archive back whole — gzip's CRC over every byte, then mongo-tools' archive
framing: the magic number, the prelude (a header and one document per collection, then a
terminator), and every namespace block (a header, its documents, a terminator) until each
collection's end-of-file block — and then asks `mongorestore --dryRun` to read it too.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import bson

from boxoffice.ops.archive import ArchiveError

#: mongo-tools `archive.MagicNumber`, little-endian at the start of the (decompressed) stream.
MAGIC = 0x8199E26D
TERMINATOR = -1


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _int32(stream: Readable) -> int | None:
    raw = stream.read(4)
    if not raw:
        return None
    if len(raw) < 4:
        raise ArchiveError("the archive ends inside a length")
    value: int = struct.unpack("<i", raw)[0]
    return value


def _document(stream: Readable, size: int) -> dict[str, Any]:
    if size < 5 or size > 48 * 1024 * 1024:
        raise ArchiveError(f"a document claims an impossible size ({size})")
    body = stream.read(size - 4)
    if len(body) < size - 4:
        raise ArchiveError("the archive ends inside a document")
    decoded: dict[str, Any] = bson.decode(struct.pack("<i", size) + body)
    return decoded


def read_archive(stream: Readable) -> dict[str, int]:
    """Walk a (decompressed) mongodump archive; documents per `db.collection`. Raises ArchiveError
    where the framing does not hold, or when a collection named in the prelude never ends."""
    if _int32(stream) != struct.unpack("<i", struct.pack("<I", MAGIC))[0]:
        raise ArchiveError("not a mongodump archive (no magic number)")
    size = _int32(stream)
    if size is None or size == TERMINATOR:
        raise ArchiveError("the archive has no header")
    _document(stream, size)  # the header: format version, server and tool versions
    named: set[str] = set()
    while (size := _int32(stream)) != TERMINATOR:
        if size is None:
            raise ArchiveError("the prelude never ends")
        meta = _document(stream, size)
        named.add(f"{meta.get('db')}.{meta.get('collection')}")
    counts: dict[str, int] = dict.fromkeys(named, 0)
    ended: set[str] = set()
    while (size := _int32(stream)) is not None:
        if size == TERMINATOR:
            raise ArchiveError("a block without a namespace header")
        header = _document(stream, size)
        namespace = f"{header.get('db')}.{header.get('collection')}"
        if header.get("EOF"):
            ended.add(namespace)
        while (size := _int32(stream)) != TERMINATOR:
            if size is None:
                raise ArchiveError(f"the block of {namespace} is cut short")
            _document(stream, size)
            counts[namespace] = counts.get(namespace, 0) + 1
    unfinished = sorted(named - ended)
    if unfinished:
        raise ArchiveError(f"collections never finished: {', '.join(unfinished[:5])}")
    return counts


def check_file(path: Path) -> dict[str, int]:
    try:
        with gzip.open(path, "rb") as stream:
            counts = read_archive(stream)
            if stream.read(1):
                raise ArchiveError("bytes after the archive's end")
            return counts
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ArchiveError(f"not a readable gzip file: {exc}") from exc


@contextmanager
def _config(uri: str) -> Iterator[Path]:
    """The tools' `--config` file with the connection string, mode 0600, removed afterwards."""
    fd, name = tempfile.mkstemp(prefix="mongotools-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"uri: {json.dumps(uri)}\n")  # a JSON string is a YAML string
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


async def _run(argv: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise ArchiveError(f"{argv[0]} exited with {process.returncode}: {' | '.join(tail)}")


def dump_argv(config: Path, database: str, archive: Path) -> list[str]:
    return ["mongodump", f"--config={config}", f"--db={database}", f"--archive={archive}", "--gzip"]


def dry_restore_argv(config: Path, database: str, archive: Path) -> list[str]:
    return [
        "mongorestore",
        f"--config={config}",
        f"--nsInclude={database}.*",
        f"--archive={archive}",
        "--gzip",
        "--dryRun",
    ]


def restore_argv(config: Path, database: str, archive: Path) -> list[str]:
    """Replace each collection in the archive (`--drop`), indexes included."""
    return [
        "mongorestore",
        f"--config={config}",
        f"--nsInclude={database}.*",
        f"--archive={archive}",
        "--gzip",
        "--drop",
    ]


class MongoDump:
    """The backup service's dumper against real MongoDB."""

    method = "mongodump"

    def __init__(self, uri: str, database: str) -> None:
        self._uri = uri
        self.database = database

    async def dump(self, path: Path) -> None:
        with _config(self._uri) as config:
            await _run(dump_argv(config, self.database, path))

    async def check(self, path: Path) -> int:
        counts = await asyncio.to_thread(check_file, path)
        if not any(ns.startswith(f"{self.database}.") for ns in counts):
            raise ArchiveError(f"the archive holds no collection of {self.database}")
        with _config(self._uri) as config:
            await _run(dry_restore_argv(config, self.database, path))
        return sum(counts.values())

    async def restore(self, path: Path) -> None:
        with _config(self._uri) as config:
            await _run(restore_argv(config, self.database, path))
