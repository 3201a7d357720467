"""Every query of the Fraud Watch outside the report summaries: what was checked and raised per store
and day, and the one cross-tenant read the daily check starts from. All by `_id` or indexed
equality."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from boxoffice.core.db import C, Database, Document, encode
from boxoffice.core.repository import ScopedRepository


class FraudDayRepository(ScopedRepository):
    """One document per store and local day (`_id` derived from them): `checked_at` once the daily
    check judged the closed day, and `raised_<cause>` = the alert raised for each flag, so a flag
    becomes an alert once however often the day is judged again (a re-check, the report)."""

    collection_name = C.FRAUD_DAYS
    store_scoped = False  # reached only through a store the caller was already allowed

    def _id(self, store_id: str, day: str) -> str:
        return "|".join((self.scope.tenant_id, quote(store_id, safe=""), day))

    async def load(self, store_id: str, day: str) -> Document | None:
        return await self.find_one({"_id": self._id(store_id, day)})

    async def note_raised(self, store_id: str, day: str, cause_key: str, alert_id: str) -> None:
        await self._upsert(store_id, day, {raised_field(cause_key): alert_id})

    async def mark_checked(self, store_id: str, day: str, at: datetime) -> None:
        await self._upsert(store_id, day, {"checked_at": at})

    async def _upsert(self, store_id: str, day: str, fields: Document) -> None:
        await self.collection.update_one(
            {"_id": self._id(store_id, day)},
            encode(
                {
                    "$setOnInsert": {"tenant_id": self.scope.tenant_id, "store_id": store_id, "day": day},
                    "$set": fields,
                }
            ),
            upsert=True,
        )


def raised_field(cause_key: str) -> str:
    """A cause key as a field name (no dots, no leading `$`)."""
    return "raised_" + quote(cause_key, safe=":-_").replace(".", "%2E")


async def stores_unscoped(db: Database) -> list[Document]:
    """Every active store of every tenant, with its zone (the daily check's one cross-tenant read;
    each store is then judged in its own tenant's scope)."""
    cursor = db[C.STORES].find({}, {"_id": 0, "tenant_id": 1, "store_id": 1, "tz": 1, "active": 1})
    return [doc for doc in await cursor.to_list() if doc.get("active", True)]
