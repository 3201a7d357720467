"""Every query on `schema_migrations`: one document per applied step, `_id` = the step's id."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from boxoffice.core.db import C, Database, Document, decode, encode


async def applied(db: Database) -> dict[str, Document]:
    """Applied steps by id (a handful of documents: read whole)."""
    docs: list[Document] = decode(await db[C.SCHEMA_MIGRATIONS].find({}).to_list())
    return {str(doc["_id"]): doc for doc in docs}


async def record(
    db: Database, *, step_id: str, description: str, at: datetime, took_ms: int, holder: str, note: str
) -> bool:
    """Mark a step applied; False when it already was (the record is written once)."""
    try:
        await db[C.SCHEMA_MIGRATIONS].insert_one(
            encode(
                {
                    "_id": step_id,
                    "description": description,
                    "applied_at": at,
                    "took_ms": took_ms,
                    "holder": holder,
                    "note": note,
                }
            )
        )
    except DuplicateKeyError:
        return False
    return True
