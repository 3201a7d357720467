"""Background work that costs nothing when idle: retention instead of TTL indexes, rate-limit
counters keyed by `_id`, the sweeper's backoff and its indexed work lists, leases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from boxoffice.app import SWEEP_FIRST_IDLE_SECONDS, SWEEP_MOST_IDLE_SECONDS, sweep
from boxoffice.config import Settings
from boxoffice.core import ratelimit, retention
from boxoffice.core.background import Background
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.core.errors import RateLimited
from boxoffice.core.lease import Lease
from boxoffice.core.repository import Scope
from boxoffice.events.outbox import EventRepository
from boxoffice.offline.repository import OpRepository
from boxoffice.webhooks.repository import AttemptRepository, DeliveryRepository
from tests.commands import CommandLog, listening_database, served_by_an_index


@pytest.fixture
async def listened(settings: Settings, clean_db: Database) -> AsyncIterator[tuple[Database, CommandLog]]:
    log = CommandLog()
    database = listening_database(settings.mongo_uri, settings.mongo_db, log)
    yield database, log
    await database.close()


async def _ids(db: Database, collection: str) -> set[str]:
    return {str(d["_id"]) async for d in db[collection].find({}, {"_id": 1})}


async def test_retention_deletes_old_rows_in_small_batches_and_keeps_recent_ones(
    deps: Deps, clock: FixedClock
) -> None:
    now = clock.now()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    tenant = Scope("T1")
    for n, at in enumerate([old, old, old, recent]):
        kind = "old" if at == old else "new"
        await EventRepository(deps.db, tenant).insert(
            {"_id": f"ev-{kind}-{n}", "event_id": f"ev-{n}", "created_at": at, "fanned_out": True}
        )
        await DeliveryRepository(deps.db, tenant).insert(
            {"_id": f"dl-{kind}-{n}", "delivery_id": f"dl-{n}", "created_at": at, "status": "delivered"}
        )
        await AttemptRepository(deps.db, tenant).insert(
            {"_id": f"at-{kind}-{n}", "attempt_id": f"at-{n}", "at": at}
        )
        await OpRepository(deps.db, tenant).insert(
            {"_id": f"op-{kind}-{n}", "op_id": f"op-{n}", "device_id": "D1", "received_at": at}
        )
    await ratelimit.bump(deps.db, "login:1.2.3.4:old", now - timedelta(minutes=1))  # its window ended
    await ratelimit.bump(deps.db, "login:1.2.3.4:now", now + timedelta(minutes=1))
    # Rows written while TTL indexes did the forgetting: an `expires_at` date, no `purge_after`.
    await deps.db[C.EVENTS].insert_many(
        [
            {"_id": "ev-legacy-old", "event_id": "legacy-1", "expires_at": now - timedelta(hours=1)},
            {"_id": "ev-legacy-new", "event_id": "legacy-2", "expires_at": now + timedelta(days=3)},
        ]
    )

    deleted = await retention.purge(deps.db, clock, batch=2, pause=0)

    assert deleted == {
        C.EVENTS: 4,
        C.WEBHOOK_DELIVERIES: 3,
        C.WEBHOOK_ATTEMPTS: 3,
        C.OPS: 3,
        C.RATE_LIMITS: 1,
    }
    assert await _ids(deps.db, C.EVENTS) == {"ev-new-3", "ev-legacy-new"}
    assert await _ids(deps.db, C.WEBHOOK_DELIVERIES) == {"dl-new-3"}
    assert await _ids(deps.db, C.WEBHOOK_ATTEMPTS) == {"at-new-3"}
    assert await _ids(deps.db, C.OPS) == {"op-new-3"}
    assert await _ids(deps.db, C.RATE_LIMITS) == {"login:1.2.3.4:now"}
    legacy = await deps.db[C.EVENTS].find_one({"_id": "ev-legacy-new"})
    assert legacy is not None
    assert legacy["purge_after"] == int((now + timedelta(days=3)).timestamp())

    assert set((await retention.purge(deps.db, clock, pause=0)).values()) == {0}  # nothing more is due
    clock.advance(timedelta(days=2))
    assert (await retention.purge(deps.db, clock, pause=0))[C.EVENTS] == 1
    clock.advance(timedelta(days=2))
    assert (await retention.purge(deps.db, clock, pause=0))[C.EVENTS] == 1
    assert await _ids(deps.db, C.EVENTS) == set()


async def test_retention_reads_only_by_index(deps: Deps, listened: tuple[Database, CommandLog]) -> None:
    db, commands = listened
    await retention.purge(db, deps.clock, pause=0)
    finds = [c for c in commands.log if c.name == "find"]
    assert len(finds) == 2 * len(retention.RETAINED)  # legacy rows, then expired rows, per collection
    for command in finds:
        assert await served_by_an_index(db, command.collection, command.body["filter"]), command.body


async def test_rate_limits_are_counted_by_id_and_still_limit(
    deps: Deps, clock: FixedClock, listened: tuple[Database, CommandLog]
) -> None:
    db, commands = listened
    limit = ratelimit.REGISTER
    for _ in range(limit.max_hits):
        await ratelimit.hit(db, clock, limit, "1.2.3.4")
    with pytest.raises(RateLimited) as refused:
        await ratelimit.hit(db, clock, limit, "1.2.3.4")
    assert refused.value.headers is not None
    assert int(refused.value.headers["Retry-After"]) >= 1
    await ratelimit.hit(db, clock, limit, "5.6.7.8")  # another subject has its own count
    window = int(clock.now().timestamp()) // 60
    doc = await db[C.RATE_LIMITS].find_one({"_id": f"register:1.2.3.4:{window}"})
    assert doc is not None
    assert (doc["count"], doc["key"], doc["purge_after"]) == (
        limit.max_hits + 1,
        f"register:1.2.3.4:{window}",
        (window + 1) * 60,
    )
    clock.advance(timedelta(minutes=1))
    await ratelimit.hit(db, clock, limit, "1.2.3.4")  # a new window

    end = clock.now() + timedelta(hours=1)
    assert [await ratelimit.take_from_cap(db, "cap:D1", 2, end) for _ in range(3)] == [True, True, False]
    await ratelimit.give_back_to_cap(db, "cap:D1")
    assert await ratelimit.counts(db, ["cap:D1", "cap:D2"]) == {"cap:D1": 1, "cap:D2": 0}
    # Every read and write addressed the counter by `_id`.
    for command in commands.log:
        assert command.collection == C.RATE_LIMITS
        filters = [command.body[k] for k in ("filter", "query") if k in command.body]
        filters += [u["q"] for u in command.body.get("updates", [])]
        assert filters, command.body
        assert all("_id" in f for f in filters), command.body


async def test_the_sweeper_backs_off_while_idle_and_reads_only_by_index(
    deps: Deps, listened: tuple[Database, CommandLog]
) -> None:
    db, commands = listened
    loop = Background(
        Lease(db, deps.clock, "sweeper", "replica-a"),
        lambda: sweep(Deps(db, deps.clock, deps.settings)),
        first_idle=SWEEP_FIRST_IDLE_SECONDS,
        most_idle=SWEEP_MOST_IDLE_SECONDS,
    )
    delays = []
    for _ in range(6):
        commands.clear()
        delays.append(await loop.step())
    assert delays == [30, 60, 120, 240, 300, 300]
    assert commands.shapes() == [
        ("findAndModify", "leases"),
        ("find", C.SALES),
        ("find", C.SHIFTS),
        ("find", C.REFUNDS),
    ]
    for command in commands.log[1:]:
        assert await served_by_an_index(db, command.collection, command.body["filter"]), command.body


async def test_a_lease_is_taken_by_compare_and_set_and_handed_over_on_release(
    clean_db: Database, clock: FixedClock
) -> None:
    a = Lease(clean_db, clock, "retention", "replica-a")
    b = Lease(clean_db, clock, "retention", "replica-b")
    assert await a.hold()
    assert not await b.hold()
    assert b.seconds_left() == 60
    clock.advance(timedelta(seconds=59))
    assert await a.hold()  # renewed: another 60 s from now
    clock.advance(timedelta(seconds=59))
    assert not await b.hold()
    clock.advance(timedelta(seconds=2))
    assert await b.hold()  # a stopped renewing: lapsed, taken
    assert not await a.hold()
    assert not a.held
    await b.release()
    assert await a.hold()
    stored = await clean_db[C.LEASES].find_one({"_id": "retention"})
    assert stored is not None
    assert stored["holder"] == "replica-a"


async def test_start_up_drops_the_ttl_indexes_of_a_database_from_before_retention(clean_db: Database) -> None:
    for name in retention.RETAINED:
        await clean_db[name].create_index("expires_at", expireAfterSeconds=0)
    await clean_db.ensure_indexes()
    for name in retention.RETAINED:
        info = await clean_db[name].index_information()
        assert all("expireAfterSeconds" not in i for i in info.values()), name
    assert await clean_db.missing_indexes() == []
