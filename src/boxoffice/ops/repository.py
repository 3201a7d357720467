"""Every query of the operations jobs. They work on the whole database, not on one tenant: the
archive reads and writes every collection exactly as stored (raw BSON, never decoded), and the
backup status and the daily jobs' last runs are one document each, addressed by `_id`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.asynchronous.collection import AsyncCollection

from boxoffice.core.db import C, Database, Document, decode_doc, encode

_RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)

#: The backup status document's `_id` (one per database: the stack's backup job writes it).
STATUS_ID = "backup"


def _raw(db: Database, name: str) -> AsyncCollection[RawBSONDocument]:
    collection: AsyncCollection[RawBSONDocument] = db.db.get_collection(name, codec_options=_RAW)  # type: ignore[assignment]
    return collection


async def collection_names(db: Database) -> list[str]:
    """Every collection of the database, sorted (system collections left out)."""
    return sorted(n for n in await db.db.list_collection_names() if not n.startswith("system."))


async def raw_documents(db: Database, name: str, batch: int = 1000) -> AsyncIterator[bytes]:
    """Each document of a collection as the BSON bytes it is stored as, in `_id` order."""
    async for doc in _raw(db, name).find({}, batch_size=batch).sort("_id", 1):
        yield bytes(doc.raw)


async def insert_raw(db: Database, name: str, documents: Sequence[bytes]) -> None:
    if documents:
        await _raw(db, name).insert_many([RawBSONDocument(d) for d in documents], ordered=True)


async def holding_data(db: Database) -> list[str]:
    """Collections that have at least one document (a restore refuses them unless told to wipe)."""
    return [name for name in await collection_names(db) if await db[name].find_one({}, {"_id": 1})]


async def ensure_collections(db: Database, names: Sequence[str]) -> None:
    present = set(await collection_names(db))
    for name in names:
        if name not in present:
            await db.db.create_collection(name)


async def drop_collections(db: Database) -> None:
    for name in await collection_names(db):
        await db.db.drop_collection(name)


# ---- the backup status: one document the backup job writes and every API replica reads ------------


async def read_status(db: Database) -> Document | None:
    return decode_doc(await db[C.BACKUP_STATUS].find_one({"_id": STATUS_ID}))


async def status_started(db: Database, *, now: datetime, method: str, environment: str) -> None:
    """A backup job (or the API's first watch, outside development) starts the clock: without a
    good backup, the age counts from here."""
    await db[C.BACKUP_STATUS].update_one(
        {"_id": STATUS_ID},
        {
            "$setOnInsert": encode({"since": now, "alerted": False}),
            "$set": {"method": method, "environment": environment},
        },
        upsert=True,
    )


async def record_good(
    db: Database, *, at: datetime, file: str, size: int, documents: int, method: str
) -> None:
    await db[C.BACKUP_STATUS].update_one(
        {"_id": STATUS_ID},
        {
            "$set": encode(
                {
                    "last_good_at": at,
                    "last_good_file": file,
                    "last_good_bytes": size,
                    "last_good_documents": documents,
                    "last_attempt_at": at,
                    "last_error": "",
                    "method": method,
                }
            ),
            "$setOnInsert": encode({"since": at, "alerted": False}),
        },
        upsert=True,
    )


async def record_failure(db: Database, *, at: datetime, error: str) -> None:
    await db[C.BACKUP_STATUS].update_one(
        {"_id": STATUS_ID},
        {
            "$set": encode({"last_attempt_at": at, "last_error": error[:500]}),
            "$setOnInsert": encode({"since": at, "alerted": False}),
        },
        upsert=True,
    )


async def set_alerted(db: Database, alerted: bool) -> None:
    await db[C.BACKUP_STATUS].update_one({"_id": STATUS_ID}, {"$set": {"alerted": alerted}})


# ---- daily jobs: the last day each ran, so a restart does not run one twice in a day ----------------


async def last_run_day(db: Database, job: str) -> str | None:
    doc: dict[str, Any] | None = await db[C.JOB_RUNS].find_one({"_id": job})
    return str(doc["day"]) if doc else None


async def mark_run(db: Database, job: str, *, day: str, at: datetime, summary: dict[str, int]) -> None:
    await db[C.JOB_RUNS].update_one(
        {"_id": job}, {"$set": encode({"day": day, "at": at, "summary": summary})}, upsert=True
    )
