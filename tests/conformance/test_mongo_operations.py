"""Exactly the MongoDB operations the code relies on (DESIGN.md, "write discipline").

Runs against the embedded server, and against a real MongoDB when BOXOFFICE_TEST_MONGO_URI is
set; anything not listed here must not be relied on by the code.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import ASCENDING, DESCENDING, InsertOne, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, ClientBulkWriteException, DuplicateKeyError, InvalidOperation

from boxoffice.core.db import INDEX_SPECS, Database, decode_doc, encode, stamp
from boxoffice.core.query import whole_seconds
from boxoffice.core.repository import Scope
from boxoffice.core.writes import Insert, Update, write_in_order
from boxoffice.events.outbox import EventRepository
from boxoffice.tickets.repository import RedemptionRepository, TicketRepository
from tests.commands import served_by_an_index


async def test_start_up_indexes_are_all_present(clean_db: Database) -> None:
    assert await clean_db.missing_indexes() == []
    await clean_db.ensure_indexes()  # a second start-up changes nothing and does not fail
    assert await clean_db.missing_indexes() == []
    assert len(INDEX_SPECS) >= 20


async def test_unique_index_rejects_duplicates(clean_db: Database) -> None:
    tickets = clean_db["tickets"]
    await tickets.insert_one(
        {"ticket_id": "T1", "tenant_id": "A", "short_code": "AAAA1111", "qr_token": "q1"}
    )
    with pytest.raises(DuplicateKeyError):
        await tickets.insert_one({"ticket_id": "T1", "tenant_id": "A", "short_code": "B", "qr_token": "q2"})


async def test_compound_unique_is_per_tenant(clean_db: Database) -> None:
    tickets = clean_db["tickets"]
    await tickets.insert_one(
        {"ticket_id": "T1", "tenant_id": "A", "short_code": "SAME0001", "qr_token": "q1"}
    )
    await tickets.insert_one(
        {"ticket_id": "T2", "tenant_id": "B", "short_code": "SAME0001", "qr_token": "q2"}
    )
    with pytest.raises(DuplicateKeyError):
        await tickets.insert_one(
            {"ticket_id": "T3", "tenant_id": "A", "short_code": "SAME0001", "qr_token": "q3"}
        )
    assert await tickets.count_documents({"short_code": "SAME0001"}) == 2


async def test_find_sort_limit_projection(clean_db: Database) -> None:
    coll = clean_db["conf_find"]
    await coll.insert_many([{"tenant_id": "A", "n": n, "secret": "x"} for n in (5, 1, 4, 2, 3)])
    await coll.insert_one({"tenant_id": "B", "n": 99})
    cursor = coll.find({"tenant_id": "A", "n": {"$gt": 1}}, {"_id": 0, "n": 1}).sort("n", DESCENDING).limit(3)
    assert await cursor.to_list() == [{"n": 5}, {"n": 4}, {"n": 3}]
    page = await coll.find({"tenant_id": "A"}).sort([("n", ASCENDING)]).skip(1).limit(2).to_list()
    assert [d["n"] for d in page] == [2, 3]


async def test_conditional_increment_stops_at_the_limit_under_concurrency(clean_db: Database) -> None:
    """Fifty concurrent uses of a 3-use ticket: exactly three succeed."""
    coll = clean_db["conf_counter"]
    await coll.insert_one({"ticket_id": "T", "used": 0, "quota": 3})

    async def use() -> bool:
        doc = await coll.find_one_and_update(
            {"ticket_id": "T", "$expr": {"$lt": ["$used", "$quota"]}},
            {"$inc": {"used": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return doc is not None

    results = await asyncio.gather(*(use() for _ in range(50)))
    assert sum(results) == 3
    assert (await coll.find_one({"ticket_id": "T"}) or {})["used"] == 3


async def test_conditional_update_with_plain_comparison(clean_db: Database) -> None:
    coll = clean_db["conf_counter"]
    await coll.insert_one({"k": "pin", "failures": 4})
    first = await coll.find_one_and_update(
        {"k": "pin", "failures": {"$lt": 5}}, {"$inc": {"failures": 1}}, return_document=ReturnDocument.AFTER
    )
    second = await coll.find_one_and_update({"k": "pin", "failures": {"$lt": 5}}, {"$inc": {"failures": 1}})
    assert first is not None
    assert first["failures"] == 5
    assert second is None


async def test_upsert_with_set_on_insert_keeps_the_first_values(clean_db: Database) -> None:
    coll = clean_db["conf_upsert"]
    for name in ("first", "second"):
        await coll.update_one(
            {"key": "K"}, {"$setOnInsert": {"key": "K", "name": name}, "$inc": {"hits": 1}}, upsert=True
        )
    docs = await coll.find({"key": "K"}).to_list()
    assert len(docs) == 1
    assert docs[0]["name"] == "first"
    assert docs[0]["hits"] == 2


async def test_concurrent_upserts_on_a_unique_key_make_one_document(clean_db: Database) -> None:
    coll = clean_db["rate_limits"]  # counters are keyed by `_id`, the counter's key

    async def hit() -> None:
        try:
            await coll.update_one({"_id": "login:1.2.3.4"}, {"$inc": {"count": 1}}, upsert=True)
        except DuplicateKeyError:  # MongoDB may report the race; the caller retries once
            await coll.update_one({"_id": "login:1.2.3.4"}, {"$inc": {"count": 1}}, upsert=True)

    await asyncio.gather(*(hit() for _ in range(20)))
    docs = await coll.find({"_id": "login:1.2.3.4"}).to_list()
    assert len(docs) == 1
    assert docs[0]["count"] == 20


async def test_set_add_to_set_and_scalar_push(clean_db: Database) -> None:
    coll = clean_db["conf_arrays"]
    await coll.insert_one({"id": 1, "tags": ["a"], "log": [1]})
    await coll.update_one({"id": 1}, {"$addToSet": {"tags": "a"}})
    await coll.update_one({"id": 1}, {"$addToSet": {"tags": "b"}})
    await coll.update_one({"id": 1}, {"$push": {"log": 2}, "$set": {"status": "done"}})
    doc = await coll.find_one({"id": 1}, {"_id": 0})
    assert doc == {"id": 1, "tags": ["a", "b"], "log": [1, 2], "status": "done"}


async def test_unordered_bulk_write_reports_duplicates_and_applies_the_rest(clean_db: Database) -> None:
    coll = clean_db["ops"]  # unique (tenant_id, device_id, op_id)
    device = {"tenant_id": "A", "device_id": "D1"}
    await coll.insert_one({**device, "op_id": "O2"})
    with pytest.raises(BulkWriteError) as info:
        await coll.bulk_write(
            [InsertOne({**device, "op_id": f"O{n}"}) for n in (1, 2, 3)],
            ordered=False,
        )
    errors = info.value.details["writeErrors"]
    assert [e["code"] for e in errors] == [11000]
    assert errors[0]["index"] == 1
    assert sorted(d["op_id"] for d in await coll.find({}).to_list()) == ["O1", "O2", "O3"]
    result = await coll.bulk_write([UpdateOne({"op_id": "O1"}, {"$set": {"status": "applied"}})])
    assert result.modified_count == 1


async def test_aggregation_match_group_sum_count_sort_and_date_to_string(clean_db: Database) -> None:
    """Days are UTC days here: the embedded server ignores `$dateToString`'s `timezone`, so
    reports bucket by a local business day stored on each document at write time instead."""
    coll = clean_db["conf_sales"]
    base = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    await coll.insert_many(
        [
            {"tenant_id": "A", "payment": "cash", "total": 15000, "at": base},
            {"tenant_id": "A", "payment": "cash", "total": 25050, "at": base + timedelta(hours=1)},
            {"tenant_id": "A", "payment": "qr", "total": 9999, "at": base + timedelta(hours=1)},
            {"tenant_id": "B", "payment": "cash", "total": 100, "at": base},
        ]
    )
    by_day = await (
        await coll.aggregate(
            [
                {"$match": {"tenant_id": "A"}},
                {
                    "$project": {
                        "total": 1,
                        "day": {"$dateToString": {"format": "%Y-%m-%d", "date": "$at"}},
                    }
                },
                {"$group": {"_id": "$day", "sum": {"$sum": "$total"}, "n": {"$sum": 1}}},
                {"$sort": {"_id": 1}},
            ]
        )
    ).to_list()
    assert by_day == [
        {"_id": "2026-11-25", "sum": 15000, "n": 1},
        {"_id": "2026-11-26", "sum": 35049, "n": 2},
    ]
    by_payment = await (
        await coll.aggregate(
            [
                {"$match": {"tenant_id": "A"}},
                {"$group": {"_id": "$payment", "sum": {"$sum": "$total"}}},
                {"$sort": {"sum": -1}},
            ]
        )
    ).to_list()
    assert by_payment == [{"_id": "cash", "sum": 40050}, {"_id": "qr", "sum": 9999}]
    counted = await (await coll.aggregate([{"$match": {"payment": "cash"}}, {"$count": "n"}])).to_list()
    assert counted == [{"n": 3}]


async def test_no_ttl_index_is_declared(clean_db: Database) -> None:
    """On the embedded server every find on a collection with a TTL index first runs a full-scan
    purge: retention (core/retention.py) deletes old rows instead, and start-up drops the old ones."""
    for name in await clean_db.db.list_collection_names():
        info = await clean_db[name].index_information()
        assert [n for n, i in info.items() if i.get("expireAfterSeconds") is not None] == [], name
    await clean_db["events"].create_index([("expires_at", ASCENDING)], expireAfterSeconds=0)
    await clean_db.ensure_indexes()  # a database from before retention loses its TTL index
    assert "expires_at_1" not in await clean_db["events"].index_information()
    assert await clean_db.missing_indexes() == []


async def test_datetimes_round_trip_as_utc_milliseconds(clean_db: Database) -> None:
    coll = clean_db["conf_time"]
    at = datetime(2026, 11, 26, 5, 0, 1, 123456, tzinfo=UTC)
    await coll.insert_one({"at": at})
    doc = await coll.find_one({"at": {"$gte": at - timedelta(seconds=1)}})
    assert doc is not None
    assert doc["at"] == at.replace(microsecond=123000)
    assert doc["at"].tzinfo is not None


async def test_delete_and_count(clean_db: Database) -> None:
    coll = clean_db["conf_delete"]
    await coll.insert_many([{"tenant_id": t} for t in "AAB"])
    result = await coll.delete_many({"tenant_id": "A"})
    assert result.deleted_count == 2
    assert await coll.count_documents({}) == 1


async def test_the_count_command_counts_one_tenants_documents_as_a_find_would(clean_db: Database) -> None:
    """`ScopedRepository.tally` (a rebuild's check that it read every record): the `count` command
    with the tenant's filter, in and beside a repository's scope, deletions and an empty tenant."""
    coll = clean_db["tickets"]
    await coll.insert_many(
        [
            {"ticket_id": f"T{n}", "tenant_id": t, "short_code": f"C{n}", "qr_token": f"q{n}"}
            for n, t in enumerate("AABAB")
        ]
    )
    await coll.delete_one({"ticket_id": "T0"})
    for tenant in ("A", "B", "C"):
        found = len(await coll.find({"tenant_id": tenant}).to_list())
        assert await TicketRepository(clean_db, Scope(tenant)).tally() == found
    assert [await TicketRepository(clean_db, Scope(t)).tally() for t in "ABC"] == [2, 2, 0]
    assert await TicketRepository(clean_db, Scope("A")).tally({"short_code": "C4"}) == 0
    assert await TicketRepository(clean_db, Scope("B")).tally({"short_code": "C4"}) == 1


async def test_stamps_survive_set_and_compare_as_strings(clean_db: Database) -> None:
    """Timestamps are stored as ISO strings (core/db.py): a datetime given to `$set` is turned
    into a local string by the embedded server, a stamp string is kept exactly."""
    coll = clean_db["conf_stamps"]
    early, late = (
        datetime(2026, 11, 26, 5, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 6, 30, 0, 250000, tzinfo=UTC),
    )
    await coll.insert_one(encode({"k": 1, "at": early}))
    await coll.update_one({"k": 1}, {"$set": encode({"later": late, "nested": {"at": late}})})
    doc = decode_doc(await coll.find_one({"k": 1}, {"_id": 0}))
    assert doc == {"k": 1, "at": early, "later": late, "nested": {"at": late}}
    assert stamp(late) == "2026-11-26T06:30:00.250Z"
    found = await coll.find(encode({"later": {"$gt": early, "$lte": late}})).to_list()
    assert len(found) == 1
    assert await coll.count_documents(encode({"later": {"$gt": late}})) == 0


async def test_update_one_upsert_keeps_set_on_insert_values(clean_db: Database) -> None:
    """The rate limiter's pattern: upsert on `_id` with $inc, and the key and the retention time
    (`purge_after`, UNIX seconds) in $setOnInsert, kept from the first hit."""
    coll = clean_db["rate_limits"]
    for n in range(3):
        await coll.update_one(
            {"_id": "k"},
            {"$inc": {"count": 1}, "$setOnInsert": {"key": "k", "purge_after": 1_900_000_000 + n}},
            upsert=True,
        )
    doc = await coll.find_one({"_id": "k"})
    assert doc == {"_id": "k", "count": 3, "key": "k", "purge_after": 1_900_000_000}


async def test_and_with_in_filters_and_find_one_sort(clean_db: Database) -> None:
    coll = clean_db["conf_and"]
    await coll.insert_many([{"tenant_id": "A", "store_id": s, "seq": n} for n, s in enumerate("xyzx", 1)])
    scoped = {"$and": [{"tenant_id": "A", "store_id": {"$in": ["x", "y"]}}, {"seq": {"$gt": 1}}]}
    assert sorted(d["seq"] for d in await coll.find(scoped).to_list()) == [2, 4]
    head = await coll.find_one({"tenant_id": "A"}, sort=[("seq", DESCENDING)])
    assert head is not None
    assert head["seq"] == 4
    assert sorted(await coll.distinct("store_id", {"tenant_id": "A"})) == ["x", "y", "z"]


async def test_compare_and_set_on_flags_and_versions(clean_db: Database) -> None:
    """Conditional updates filter on booleans, strings and integer versions, never on null: the
    embedded server answers null-equality filters inconsistently (count and find disagree)."""
    coll = clean_db["conf_cas"]
    await coll.insert_one({"tenant_id": "A", "h": "x", "used": False, "target_id": "", "version": 0})
    claim = {"tenant_id": "A", "h": "x", "used": False, "target_id": {"$in": ["", "S1"]}, "version": 0}
    results = await asyncio.gather(
        *(
            coll.find_one_and_update(claim, {"$set": {"used": True}, "$inc": {"version": 1}})
            for _ in range(10)
        )
    )
    assert sum(r is not None for r in results) == 1
    assert await coll.count_documents({"tenant_id": "A", "used": True, "version": 1}) == 1


async def test_record_once_by_compare_and_set_with_a_dotted_key(clean_db: Database) -> None:
    """A reprint counts on its ticket once. `$nin`/`$ne` against arrays match wrongly on the
    embedded server and `$addToSet` on a missing field does nothing there, so: read the ticket,
    stop if the reprint's key is recorded, else compare-and-set the count while `$set`ting a
    dotted key `reprints.<id>`."""
    tickets = clean_db["tickets"]
    await tickets.insert_one({"ticket_id": "T1", "printed_count": 1})

    async def record_once(reprint_id: str) -> None:
        while True:
            doc = await tickets.find_one({"ticket_id": "T1"})
            assert doc is not None
            if reprint_id in doc.get("reprints", {}):
                return
            done = await tickets.find_one_and_update(
                {"ticket_id": "T1", "printed_count": doc["printed_count"]},
                {"$inc": {"printed_count": 1}, "$set": {f"reprints.{reprint_id}": True}},
            )
            if done is not None:
                return

    await asyncio.gather(*(record_once(r) for r in ["R1", "R1", "R2", "R1", "R3", "R2"]))
    doc = await tickets.find_one({"ticket_id": "T1"})
    assert doc is not None
    assert doc["printed_count"] == 4
    assert sorted(doc["reprints"]) == ["R1", "R2", "R3"]


async def test_array_membership_filter(clean_db: Database) -> None:
    """`{"subjects": id}` finds the audit entries whose subjects list holds the id (on `audits`
    with its start-up indexes: a multikey index on `subjects` makes the embedded server find
    nothing, so there is none)."""
    audits = clean_db["audits"]
    await audits.insert_many(
        [
            {"tenant_id": "A", "seq": 1, "subjects": ["S1", "T1", "T2"]},
            {"tenant_id": "A", "seq": 2, "subjects": ["T2"]},
            {"tenant_id": "A", "seq": 3},
        ]
    )
    found = await audits.find({"tenant_id": "A", "subjects": "T2"}).sort("seq", ASCENDING).to_list()
    assert [d["seq"] for d in found] == [1, 2]
    assert await audits.count_documents({"tenant_id": "A", "subjects": "T1"}) == 1


async def test_capped_counter_never_passes_its_cap_under_concurrency(clean_db: Database) -> None:
    """The daily reprint caps: create the counter once, then conditional increments."""
    counters = clean_db["rate_limits"]

    async def take() -> bool:
        try:
            await counters.update_one(
                {"_id": "cap"}, {"$setOnInsert": {"count": 0, "purge_after": 1_900_000_000}}, upsert=True
            )
        except DuplicateKeyError:
            pass
        taken = await counters.find_one_and_update(
            {"_id": "cap", "count": {"$lt": 5}}, {"$inc": {"count": 1}}
        )
        return taken is not None

    results = await asyncio.gather(*(take() for _ in range(20)))
    assert results.count(True) == 5
    doc = await counters.find_one({"_id": "cap"})
    assert doc is not None
    assert doc["count"] == 5


async def test_upsert_sets_a_domain_id_as_underscore_id_once_and_reports_who_inserted(
    clean_db: Database,
) -> None:
    """Alerts: one upsert per raiser on the unique cause index; `_id` (the alert id) comes from
    `$setOnInsert`, so later writes address the alert by `_id`; only the inserter sees upserted_id."""
    alerts = clean_db["alerts"]  # unique (tenant_id, kind, cause_key, open_slot)
    cause = {"tenant_id": "A", "kind": "k", "cause_key": "c", "open_slot": "open"}

    async def raise_one(n: int) -> bool:
        update = {"$setOnInsert": {"_id": f"AL{n}", "alert_id": f"AL{n}"}, "$inc": {"occurrences": 1}}
        try:
            result = await alerts.update_one(cause, update, upsert=True)
        except DuplicateKeyError:
            await alerts.update_one(cause, update)
            return False
        return result.upserted_id is not None

    results = await asyncio.gather(*(raise_one(n) for n in range(20)))
    assert results.count(True) == 1
    [doc] = await alerts.find({"tenant_id": "A"}).to_list()
    assert doc["_id"] == doc["alert_id"]
    assert doc["occurrences"] == 20
    moved = await alerts.find_one_and_update(
        {"_id": doc["_id"], "open_slot": "open"}, {"$set": {"open_slot": doc["_id"]}}
    )
    assert moved is not None
    assert await alerts.update_one(cause, {"$setOnInsert": {"_id": "AL99"}}, upsert=True)
    assert await alerts.count_documents({"tenant_id": "A"}) == 2


async def test_conditional_update_on_a_missing_field_by_underscore_id(clean_db: Database) -> None:
    """A shift opened before drawer counters existed starts them once: `$exists: False`, on `_id`."""
    shifts = clean_db["conf_shifts"]
    await shifts.insert_many([{"k": "old"}, {"k": "new", "drawer_seq": 3}])
    old = await shifts.find_one({"k": "old"})
    new = await shifts.find_one({"k": "new"})
    assert old is not None
    assert new is not None
    started = await asyncio.gather(
        *(
            shifts.update_one(
                {"_id": old["_id"], "drawer_seq": {"$exists": False}}, {"$set": {"drawer_seq": 0}}
            )
            for _ in range(5)
        )
    )
    assert sum(r.modified_count for r in started) == 1
    untouched = await shifts.update_one(
        {"_id": new["_id"], "drawer_seq": {"$exists": False}}, {"$set": {"drawer_seq": 0}}
    )
    assert untouched.matched_count == 0


async def test_a_ticket_is_used_by_compare_and_set_on_its_domain_id_as_underscore_id(
    clean_db: Database,
) -> None:
    """A gate's scan (tickets/redeem.py): the ticket's `_id` is its ticket_id (a string), the tenant
    is spelled `$eq`, and one findAndModify compares the version while it `$set`s a dotted scan mark
    and `$inc`s the event sequence and a per-device counter; of many at once exactly one wins."""
    tickets = clean_db["tickets"]
    await tickets.insert_one(
        {
            "_id": "T1",
            "ticket_id": "T1",
            "tenant_id": "A",
            "short_code": "C1",
            "qr_token": "q1",
            "status": "active",
            "passes": 0,
            "event_seq": 1,
        }
    )
    found = await tickets.find_one({"tenant_id": {"$eq": "A"}, "short_code": "C1"})
    assert found is not None
    assert found["_id"] == "T1"
    assert await tickets.find_one({"tenant_id": {"$eq": "B"}, "short_code": "C1"}) is None

    async def use(n: int) -> dict[str, object] | None:
        return await tickets.find_one_and_update(
            {"tenant_id": {"$eq": "A"}, "_id": "T1", "status": "active", "passes": 0},
            {"$set": {"passes": 1, f"scans.k{n}": True}, "$inc": {"event_seq": 1, "offline_passes.G1": 1}},
            projection={"_id": 0},
            return_document=ReturnDocument.AFTER,
        )

    results = await asyncio.gather(*(use(n) for n in range(10)))
    [won] = [r for r in results if r is not None]
    assert (won["passes"], won["event_seq"], won["offline_passes"]) == (1, 2, {"G1": 1})
    assert len(won["scans"]) == 1  # type: ignore[arg-type]
    assert "_id" not in won


async def test_client_bulk_write_inserts_into_two_collections_in_order(clean_db: Database) -> None:
    """A scan's event and record in one round trip (tickets/repository.write_in_order): MongoDB 8's
    client-level bulkWrite, which the embedded server takes. Ordered: a duplicate stops the write
    there (code 11000, with its index), the ones before it stay. On MongoDB 7 PyMongo refuses it
    before sending anything (InvalidOperation), and the code inserts one by one."""
    name = clean_db.db.name
    events, records = clean_db["events"], clean_db["redemptions"]

    def both(event_id: str, redemption_id: str) -> list[InsertOne[dict[str, object]]]:
        return [
            InsertOne({"event_id": event_id, "tenant_id": "A"}, namespace=f"{name}.events"),
            InsertOne({"redemption_id": redemption_id, "tenant_id": "A"}, namespace=f"{name}.redemptions"),
        ]

    hello = await clean_db.client.admin.command("hello")
    if int(hello.get("maxWireVersion", 0)) < 25:
        with pytest.raises(InvalidOperation):
            await clean_db.client.bulk_write(both("E1", "R1"), ordered=True)
        assert await events.count_documents({}) == 0
        return
    result = await clean_db.client.bulk_write(both("E1", "R1"), ordered=True)
    assert result.inserted_count == 2
    with pytest.raises(ClientBulkWriteException) as first_taken:
        await clean_db.client.bulk_write(both("E1", "R2"), ordered=True)  # a retry: the event is there
    assert [(e["idx"], e["code"]) for e in first_taken.value.write_errors] == [(0, 11000)]
    assert await records.count_documents({"redemption_id": "R2"}) == 0  # stopped at the duplicate
    with pytest.raises(ClientBulkWriteException) as second_taken:
        await clean_db.client.bulk_write(both("E3", "R1"), ordered=True)
    assert [(e["idx"], e["code"]) for e in second_taken.value.write_errors] == [(1, 11000)]
    assert await events.count_documents({"event_id": "E3"}) == 1


async def test_write_in_order_skips_what_a_retry_finds_written(clean_db: Database) -> None:
    """What a scan's record relies on, on either server (tickets/repository.write_in_order): the
    event before the record, then an update by `_id`; duplicates skipped and the rest written; the
    answer says which documents this call stored, and whether the update found its document."""
    records = RedemptionRepository(clean_db, Scope("A"))
    events = EventRepository(clean_db, Scope("A"))
    journals = TicketRepository(clean_db, Scope("A"))
    await clean_db["tickets"].insert_one({"_id": "J", "tenant_id": "A", "seq": 0})
    at = datetime(2031, 3, 14, 5, 0, tzinfo=UTC)
    event = Insert(events, {"event_id": "E1", "created_at": at, "fanned_out": False})
    record = Insert(records, {"redemption_id": "R1", "store_id": "S", "ts": at})
    bump = Update(journals, {"_id": "J"}, {"$inc": {"seq": 1}})
    assert await write_in_order(clean_db, [event, record, bump]) == [True, True, True]
    assert await write_in_order(clean_db, [event, record, bump]) == [False, False, True]
    other = Insert(records, {"redemption_id": "R2", "store_id": "S", "ts": at})
    missing = Update(journals, {"_id": "nope"}, {"$inc": {"seq": 1}})
    assert await write_in_order(clean_db, [event, other, missing]) == [False, True, False]
    assert await clean_db["redemptions"].count_documents({"tenant_id": "A"}) == 2
    stored = await clean_db["redemptions"].find_one({"redemption_id": "R2"})
    assert stored is not None
    assert stored["ts"] == stamp(at)
    journal = await clean_db["tickets"].find_one({"_id": "J"})
    assert journal is not None
    assert journal["seq"] == 2


# ---- background work: pending markers, retention, leases (core/background.py, core/retention.py) ----


async def test_an_eq_equality_on_an_indexed_field_is_served_by_the_index(clean_db: Database) -> None:
    """The background work lists (the outbox, pending deliveries, the sweepers') are `$eq` equalities
    on an indexed marker. On the embedded server a bare `{field: value}` on a field that does not end
    an index is read as "equal, or an array containing it", which no index serves: a full scan."""
    deliveries = clean_db["webhook_deliveries"]  # index (status, next_attempt_at)
    await deliveries.insert_many(
        [{"status": "delivered", "next_attempt_at": None, "n": n} for n in range(50)]
        + [{"status": "pending", "next_attempt_at": f"2031-03-14T05:00:0{n}.000Z", "n": n} for n in (2, 1)]
    )
    pending = {"status": {"$eq": "pending"}}
    assert await served_by_an_index(clean_db, "webhook_deliveries", pending)
    found = await deliveries.find(pending, {"_id": 0, "n": 1}).sort("next_attempt_at", 1).limit(5).to_list()
    assert found == [{"n": 1}, {"n": 2}]
    events = clean_db["events"]  # index (fanned_out): a boolean marker
    await events.insert_many([{"event_id": f"E{n}", "fanned_out": n != 3} for n in range(5)])
    assert await served_by_an_index(clean_db, "events", {"fanned_out": {"$eq": False}})
    assert [d["event_id"] for d in await events.find({"fanned_out": {"$eq": False}}).to_list()] == ["E3"]
    if not os.environ.get("BOXOFFICE_TEST_MONGO_URI"):  # the embedded server's fault, pinned
        assert not await served_by_an_index(clean_db, "webhook_deliveries", {"status": "pending"})


async def test_writes_by_a_list_of_underscore_ids(clean_db: Database) -> None:
    """Marking events done and deleting expired rows: one write, by `_id: {$in: [...]}`."""
    coll = clean_db["events"]
    await coll.insert_many([{"_id": f"E{n}", "event_id": f"E{n}", "fanned_out": False} for n in range(4)])
    marked = await coll.update_many({"_id": {"$in": ["E0", "E2", "nope"]}}, {"$set": {"fanned_out": True}})
    assert marked.modified_count == 2
    assert sorted(d["_id"] for d in await coll.find({"fanned_out": {"$eq": False}}).to_list()) == ["E1", "E3"]
    deleted = await coll.delete_many({"_id": {"$in": ["E1", "E2"]}})
    assert deleted.deleted_count == 2
    assert sorted(d["_id"] for d in await coll.find({}).to_list()) == ["E0", "E3"]


async def test_retention_finds_by_an_int_range_and_a_missing_field_on_one_index(clean_db: Database) -> None:
    """`purge_after` is an int (UNIX seconds): a range on it is served by its index (a range on a
    stamp string is not, on the embedded server); rows without it are found on the same index."""
    ops = clean_db["ops"]  # index purge_after
    await ops.insert_many(
        [{"_id": f"O{n}", "purge_after": 1_900_000_000 + n} for n in (5, 1, 3, 2, 4)]
        + [{"_id": "legacy", "expires_at": datetime(2031, 1, 1, tzinfo=UTC)}]
    )
    due = {"purge_after": {"$lte": 1_900_000_003}}
    assert await served_by_an_index(clean_db, "ops", due)
    first = await ops.find(due, {"_id": 1}).sort("purge_after", ASCENDING).limit(2).to_list()
    assert [d["_id"] for d in first] == ["O1", "O2"]
    legacy = {"purge_after": {"$exists": False}}
    assert await served_by_an_index(clean_db, "ops", legacy)
    [found] = await ops.find(legacy, {"_id": 1, "expires_at": 1}).to_list()
    assert found == {"_id": "legacy", "expires_at": datetime(2031, 1, 1, tzinfo=UTC)}
    assert (
        await ops.bulk_write([UpdateOne({"_id": "legacy"}, {"$set": {"purge_after": 7}})])
    ).modified_count == 1


async def test_a_lease_is_a_compare_and_set_on_underscore_id_and_a_version(clean_db: Database) -> None:
    """core/lease.py: created once (a second insert of the `_id` fails), then taken or renewed by
    `find_one_and_update` on `_id` + the version last seen, `$set` + `$inc`, answering the new one."""
    leases = clean_db["leases"]
    await leases.insert_one({"_id": "w", "holder": "a", "until": "2031-03-14T05:01:00.000Z", "n": 1})
    with pytest.raises(DuplicateKeyError):
        await leases.insert_one({"_id": "w", "holder": "b", "until": "2031-03-14T05:01:00.000Z", "n": 1})

    async def take(holder: str) -> int | None:
        doc = await leases.find_one_and_update(
            {"_id": "w", "n": 1},
            {"$set": {"holder": holder, "until": "2031-03-14T05:02:00.000Z"}, "$inc": {"n": 1}},
            projection={"n": 1},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else int(doc["n"])

    taken = await asyncio.gather(*(take(h) for h in "bcdef"))
    assert sorted(taken, key=lambda n: n or 0) == [None, None, None, None, 2]
    doc = await leases.find_one({"_id": "w"})
    assert doc is not None
    assert doc["n"] == 2
    assert doc["holder"] in "bcdef"
    assert doc["until"] == "2031-03-14T05:02:00.000Z"


async def test_a_counter_on_underscore_id_hands_out_each_number_once(clean_db: Database) -> None:
    """The audit chain's sequence numbers: `$inc` (with a `$set` beside it) on `_id`, returning the
    document after, only where the counter field exists (a head from before counters gets None)."""
    heads = clean_db["audit_heads"]
    await heads.insert_many([{"_id": "A", "taken": 0, "seq": 0}, {"_id": "OLD", "seq": 3}])

    async def take() -> int:
        doc = await heads.find_one_and_update(
            {"_id": "A", "taken": {"$exists": True}},
            {"$inc": {"taken": 1}, "$set": {"taken_at": "2031-03-14T05:00:00.000Z"}},
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        assert doc["seq"] == 0
        return int(doc["taken"])

    assert sorted(await asyncio.gather(*(take() for _ in range(40)))) == list(range(1, 41))
    missing = await heads.find_one_and_update(
        {"_id": "OLD", "taken": {"$exists": True}},
        {"$inc": {"taken": 1}},
        return_document=ReturnDocument.AFTER,
    )
    assert missing is None
    assert await heads.find_one({"_id": "OLD"}) == {"_id": "OLD", "seq": 3}


async def test_a_head_moves_by_compare_and_set_on_underscore_id(clean_db: Database) -> None:
    """Linkers racing to move the audit head forward: a compare-and-set on `_id` plus a range on
    `seq` (from where the mover last saw it, up to its target), so it never moves back; each
    winner sees the rest of the document (the counter) as it is after its write."""
    heads = clean_db["audit_heads"]
    await heads.insert_one({"_id": "A", "tenant_id": "A", "seq": 4, "taken": 9, "hash": "h4"})

    async def move(to: int) -> dict[str, object] | None:
        return await heads.find_one_and_update(
            {"tenant_id": "A", "_id": "A", "seq": {"$gte": 4, "$lt": to}},
            {"$set": {"seq": to, "hash": f"h{to}"}},
            return_document=ReturnDocument.AFTER,
        )

    moved = await asyncio.gather(*(move(to) for to in (5, 7, 6, 5, 7, 3)))
    assert moved[-1] is None  # never back
    won = [doc for doc in moved if doc is not None]
    assert 1 <= len(won) <= 3
    assert all(doc["taken"] == 9 for doc in won)
    assert len({doc["seq"] for doc in won}) == len(won)  # a target is reached once
    final = {"_id": "A", "tenant_id": "A", "seq": 7, "taken": 9, "hash": "h7"}
    assert await heads.find_one({"_id": "A"}) == final


async def test_entries_keyed_by_underscore_id_are_read_and_linked_by_it(clean_db: Database) -> None:
    """Audit entries: `_id` is "tenant:seq" (a string), beside the unique (tenant_id, seq) index;
    the linker reads a run of them with `_id $in` and links them with one unordered bulk of
    updates on `_id` that apply only where `hash` is still missing."""
    audits = clean_db["audits"]
    await audits.insert_many(
        [
            {"_id": "A:1", "tenant_id": "A", "seq": 1, "hash": "h1"},
            {"_id": "A:2", "tenant_id": "A", "seq": 2},
            {"_id": "A:4", "tenant_id": "A", "seq": 4},
            {"_id": "B:2", "tenant_id": "B", "seq": 2},
        ]
    )
    with pytest.raises(DuplicateKeyError):
        await audits.insert_one({"_id": "A:2", "tenant_id": "A", "seq": 2})
    with pytest.raises(DuplicateKeyError):  # another `_id`, the same place in the chain
        await audits.insert_one({"tenant_id": "A", "seq": 4})
    found = await audits.find(
        {"tenant_id": "A", "_id": {"$in": ["A:1", "A:2", "A:3", "A:4", "B:2"]}}
    ).to_list()
    assert sorted(d["_id"] for d in found) == ["A:1", "A:2", "A:4"]
    result = await audits.bulk_write(
        [
            UpdateOne(
                {"tenant_id": "A", "_id": key, "hash": {"$exists": False}}, {"$set": {"hash": f"x{key}"}}
            )
            for key in ("A:1", "A:2", "A:4", "A:2")
        ],
        ordered=False,
    )
    assert result.modified_count == 2
    hashes = {d["_id"]: d["hash"] for d in await audits.find({"tenant_id": "A"}).to_list()}
    assert hashes == {"A:1": "h1", "A:2": "xA:2", "A:4": "xA:4"}
    linked = {"tenant_id": "A", "hash": {"$exists": True}}
    last_linked = await audits.find_one(linked, sort=[("seq", DESCENDING)])
    assert last_linked is not None
    assert last_linked["seq"] == 4
    await audits.update_one({"_id": "A:4"}, {"$unset": {"hash": ""}})
    last_linked = await audits.find_one(linked, sort=[("seq", DESCENDING)])
    assert last_linked is not None
    assert last_linked["seq"] == 2


async def test_a_journal_counts_and_keeps_its_last_ids_in_one_update_on_underscore_id(
    clean_db: Database,
) -> None:
    """tickets/changes.py: `$inc` and a capped `$push` (`$each` + `$slice`) on one document, under
    concurrency: the count and the ids kept stay in step; a journal not made yet matches nothing."""
    journal = clean_db["gate_lists"]

    def noted(ids: list[str]) -> dict[str, object]:
        return {"$inc": {"seq": len(ids)}, "$push": {"changes": {"$each": ids, "$slice": -5}}}

    missing = await journal.update_one({"_id": "A.S1", "tenant_id": "A"}, noted(["T0"]))
    assert missing.matched_count == 0
    await journal.update_one(
        {"_id": "A.S1", "tenant_id": "A"}, {"$setOnInsert": {"seq": 0, "changes": []}}, upsert=True
    )
    await asyncio.gather(
        *(journal.update_one({"_id": "A.S1", "tenant_id": "A"}, noted([f"T{n}"])) for n in range(1, 9))
    )
    await journal.update_one({"_id": "A.S1", "tenant_id": "A"}, noted(["U1", "U2"]))
    doc = await journal.find_one({"_id": "A.S1"})
    assert doc is not None
    assert doc["seq"] == 10
    assert len(doc["changes"]) == 5
    assert doc["changes"][-2:] == ["U1", "U2"]
    assert set(doc["changes"][:3]) <= {f"T{n}" for n in range(1, 9)}


async def test_an_upsert_filtering_the_tenant_with_eq_writes_the_tenant_into_the_new_document(
    clean_db: Database,
) -> None:
    """Repositories match the tenant with `$eq` (so the embedded server can use an index that starts
    with tenant_id); an upsert must still carry the tenant into the document it creates."""
    collection = clean_db.db["conformance_eq_upsert"]
    await collection.update_one({"tenant_id": {"$eq": "T"}, "_id": "k"}, {"$set": {"a": 1}}, upsert=True)
    await collection.update_one(
        {"$and": [{"tenant_id": {"$eq": "T"}, "store_id": {"$in": ["S"]}}, {"_id": "k2"}]},
        {"$set": {"a": 2}},
        upsert=True,
    )
    docs = await collection.find({}, {"_id": 1, "tenant_id": 1}).sort("_id", 1).to_list()
    assert docs == [{"_id": "k", "tenant_id": "T"}, {"_id": "k2", "tenant_id": "T"}]
    assert await collection.count_documents({"tenant_id": {"$eq": "T"}}) == 2


EMBEDDED = not os.environ.get("BOXOFFICE_TEST_MONGO_URI")


async def test_instants_compare_to_the_second_so_bounds_are_widened_to_whole_seconds(
    clean_db: Database,
) -> None:
    """The embedded server compares stored stamps to the second: a bound of 10:00:00.600 is read
    as 10:00:00, so `$lt` it finds nothing of that second and `$gt` 10:00:00.000 nothing either.
    Lists widen their bounds to whole seconds (core/query.whole_seconds): exact on both servers."""
    coll = clean_db["reprints"]
    at = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)
    await coll.insert_many(
        [
            {"tenant_id": "A", "n": n, "created_at": stamp(at + timedelta(milliseconds=ms))}
            for n, ms in enumerate((0, 500, 1000))
        ]
    )

    async def found(span: dict[str, datetime]) -> list[int]:
        return sorted(d["n"] for d in await coll.find({"created_at": encode(span)}).to_list())

    if EMBEDDED:
        assert await found({"$lt": at + timedelta(milliseconds=600)}) == []
        assert await found({"$gt": at}) == [2]
    first, end = whole_seconds(at + timedelta(milliseconds=200), at + timedelta(milliseconds=600))
    assert await found({"$gte": first, "$lt": end}) == [0, 1]  # the whole second, on any server
    first, end = whole_seconds(at, at + timedelta(seconds=1))
    assert await found({"$gte": first, "$lt": end}) == [0, 1]


async def test_an_id_list_next_to_a_bare_tenant_is_read_by_the_id_index(clean_db: Database) -> None:
    """`_id $in` next to `tenant_id: {$eq}` may be planned with a tenant-led index (the tenant's
    every document: seen in the offline upload, tests/api/test_scan_guard.py); next to a bare tenant,
    which no index can lead with, always with the `_id` index: ScopedRepository.where writes it so."""
    repo = TicketRepository(clean_db, Scope("A"))
    assert "$eq" not in str(repo.where({"_id": {"$in": ["x", "y"]}})["tenant_id"])
    assert await served_by_an_index(clean_db, "tickets", repo.where({"_id": {"$in": ["x", "y"]}}))
