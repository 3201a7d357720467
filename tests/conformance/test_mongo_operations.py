"""Exactly the MongoDB operations the code relies on (DESIGN.md, "write discipline").

Runs against the embedded server, and against a real MongoDB when BOXOFFICE_TEST_MONGO_URI is
set; anything not listed here must not be relied on by the code.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import ASCENDING, DESCENDING, InsertOne, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from boxoffice.core.db import INDEX_SPECS, Database, decode_doc, encode, stamp


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
    coll = clean_db["rate_limits"]  # has a unique index on key

    async def hit() -> None:
        try:
            await coll.update_one({"key": "login:1.2.3.4"}, {"$inc": {"count": 1}}, upsert=True)
        except DuplicateKeyError:  # MongoDB may report the race; the caller retries once
            await coll.update_one({"key": "login:1.2.3.4"}, {"$inc": {"count": 1}}, upsert=True)

    await asyncio.gather(*(hit() for _ in range(20)))
    docs = await coll.find({"key": "login:1.2.3.4"}).to_list()
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


async def test_ttl_index_is_declared(clean_db: Database) -> None:
    info = await clean_db["rate_limits"].index_information()
    ttl = [i for i in info.values() if i.get("expireAfterSeconds") is not None]
    assert ttl
    assert next(iter(ttl[0]["key"]))[0] == "expires_at"


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


async def test_update_one_upsert_keeps_set_on_insert_dates(clean_db: Database) -> None:
    """The rate limiter's pattern: upsert with $inc and a BSON date in $setOnInsert (for TTL).

    The TTL index works on real time: a date already past is removed (at once on the embedded
    server), which is why tests run on a clock set in the future."""
    coll = clean_db["rate_limits"]
    expires = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    for _ in range(3):
        await coll.update_one(
            {"key": "k"}, {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": expires}}, upsert=True
        )
    doc = await coll.find_one({"key": "k"})
    assert doc is not None
    assert doc["count"] == 3
    assert doc["expires_at"] == expires


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
                {"key": "cap"},
                {"$setOnInsert": {"count": 0, "expires_at": datetime(2031, 3, 15, tzinfo=UTC)}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass
        taken = await counters.find_one_and_update(
            {"key": "cap", "count": {"$lt": 5}}, {"$inc": {"count": 1}}
        )
        return taken is not None

    results = await asyncio.gather(*(take() for _ in range(20)))
    assert results.count(True) == 5
    doc = await counters.find_one({"key": "cap"})
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
