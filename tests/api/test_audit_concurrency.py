"""The audit log under concurrent writers, dying writers and slow writers, through the real
database: no entry is ever lost, no append ever fails over contention, and the chain verifies —
numbers whose writer never wrote them end as gap entries, reported as such."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from boxoffice.access.principal import Principal
from boxoffice.audit import service as audit
from boxoffice.audit.chain import GAP_EVENT, GENESIS_HASH, check_chain, entry_hash
from boxoffice.audit.repository import AuditHeadRepository, AuditRepository
from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from tests.factories.identity import TenantWorld, bearer, data, make_tenant, owner_token

PAST_GRACE = audit.GAP_GRACE + timedelta(seconds=1)


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def entries_of(db: Database, tenant_id: str) -> list[dict[str, Any]]:
    return await db[C.AUDITS].find({"tenant_id": tenant_id}, {"_id": 0}).sort("seq", 1).to_list()


async def assert_nothing_linkable_is_left(deps: Deps, tenant_id: str) -> None:
    """Once its writers have returned, a chain has no entry waiting that could be linked: whatever
    waits, waits behind a number not written yet; and the head is at the end of the linked run."""
    head = await deps.db[C.AUDIT_HEADS].find_one({"_id": tenant_id})
    check = check_chain(await entries_of(deps.db, tenant_id), head)
    assert check.broken is None
    assert check.head_seq == check.linked
    if check.pending:
        assert check.missing
        assert check.missing[0] < check.pending[0]


async def die_after_taking_a_number(deps: Deps, tenant_id: str) -> int:
    """A writer that takes its number and stops before writing its entry."""
    state = await AuditHeadRepository(deps.db, Scope(tenant_id)).take(deps.clock.now())
    assert state is not None
    return int(state["taken"])


async def test_32_concurrent_writers_lose_nothing_and_the_chain_verifies(
    deps: Deps, world: TenantWorld
) -> None:
    """Half append directly, half record as a signed-in caller; readers link along meanwhile."""
    principal = Principal(
        world.tenant_id,
        "10.0.0.7",
        device={"device_id": "D1", "store_id": world.store_id},
        employee={"employee_id": "E1"},
    )

    async def writer(w: int) -> list[dict[str, Any]]:
        written = []
        for i in range(5):
            if w % 2:
                entry = await audit.append(
                    deps.db,
                    deps.clock,
                    tenant_id=world.tenant_id,
                    event_type="test.event",
                    payload={"w": w, "i": i},
                    subjects=[f"S{w}"],
                )
            else:
                entry = await audit.record(
                    deps, principal, "test.event", {"w": w, "i": i}, store_id=world.store_id
                )
            written.append(entry)
        return written

    async def reader() -> None:
        for _ in range(5):
            await audit.catch_up(deps.db, deps.clock, world.tenant_id)
            await asyncio.sleep(0)

    results = await asyncio.gather(*(writer(w) for w in range(32)), reader(), reader())
    await assert_nothing_linkable_is_left(deps, world.tenant_id)
    returned = [entry for batch in results if batch for entry in batch]
    assert len(returned) == 160
    stored = await entries_of(deps.db, world.tenant_id)
    tests = [e for e in stored if e["event_type"] == "test.event"]
    assert sorted((e["payload"]["w"], e["payload"]["i"]) for e in tests) == [
        (w, i) for w in range(32) for i in range(5)
    ]
    assert sorted(e["audit_id"] for e in returned) == sorted(e["audit_id"] for e in tests)
    assert [e["seq"] for e in stored] == list(range(1, 162))
    assert all(e.get("hash") for e in stored)  # every writer returned: everything is linked
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert result.broken is None
    assert (result.checked, result.check.head_seq, result.check.taken) == (161, 161, 161)
    assert (result.check.gaps, result.check.pending, result.check.missing) == ((), (), ())
    assert result.linked.linked == 0
    head = await deps.db[C.AUDIT_HEADS].find_one({"_id": world.tenant_id})
    assert head is not None
    assert (head["seq"], head["hash"]) == (161, stored[-1]["hash"])


async def test_a_writer_that_dies_after_taking_a_number_ends_as_a_gap_entry(
    client: httpx.AsyncClient, deps: Deps, world: TenantWorld, clock: FixedClock
) -> None:
    dead = await die_after_taking_a_number(deps, world.tenant_id)
    assert dead == 2
    for n in range(3):
        await audit.append(
            deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event", payload={"n": n}
        )

    # Within the grace: the entries after the missing number are stored, waiting to be linked.
    waiting = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert waiting.broken is None
    assert (waiting.check.linked, waiting.check.missing, waiting.check.pending) == (1, (2,), (3, 4, 5))
    admin = bearer(await owner_token(client, world))  # (signing in is audited too)
    items = data(await client.get("/v1/audits", params={"event_type": "test.event"}, headers=admin))["items"]
    assert [(e["seq"], e["hash"]) for e in items] == [(5, None), (4, None), (3, None)]

    # Past the grace, the next writer fills the number as a gap and links on through its own entry.
    clock.advance(PAST_GRACE)
    last = await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    stored = await entries_of(deps.db, world.tenant_id)
    assert [e["seq"] for e in stored] == list(range(1, last["seq"] + 1))
    assert all(e.get("hash") for e in stored)
    gap = stored[1]
    assert gap["event_type"] == GAP_EVENT
    assert gap["ts"] == isoformat_z(clock.now())  # when it was noticed
    assert "never written" in gap["payload"]["reason"]
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert result.broken is None
    assert (result.checked, result.check.gaps, result.check.head_seq) == (last["seq"], (2,), last["seq"])
    items = data(await client.get("/v1/audits", params={"limit": 2}, headers=admin))["items"]
    assert all(e["hash"] for e in items)


async def test_a_number_left_at_the_end_is_filled_by_verify_once_its_grace_is_over(
    deps: Deps, world: TenantWorld, clock: FixedClock
) -> None:
    """No writer comes after the one that died: verify (or a reader of the log) fills the gap."""
    await die_after_taking_a_number(deps, world.tenant_id)
    early = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert (early.broken, early.check.missing, early.linked.gaps) == (None, (2,), [])
    clock.advance(PAST_GRACE)
    late = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert late.broken is None
    assert (late.linked.gaps, late.check.gaps, late.check.missing, late.check.head_seq) == ([2], (2,), (), 2)
    assert await audit.verify(deps.db, world.tenant_id, deps.clock) == audit.Verification(
        late.check, audit.Linked()
    )


async def test_verify_command_tells_waiting_entries_and_gaps(
    deps: Deps, world: TenantWorld, clock: FixedClock, base_env: dict[str, str]
) -> None:
    async def run() -> str:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "boxoffice.cli", "audit", "verify", "--tenant", world.tenant_id],
            env={**os.environ, **base_env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    await die_after_taking_a_number(deps, world.tenant_id)
    await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    assert (
        f"tenant {world.tenant_id}: 2 entries, chain intact (walked from seq 1 and the genesis hash; "
        "head at seq 1; waiting for seq 2 (handed out, not written yet); 1 entries not linked yet (seq 3))"
    ) in await run()
    clock.advance(PAST_GRACE)
    await audit.catch_up(deps.db, deps.clock, world.tenant_id)
    assert (
        f"tenant {world.tenant_id}: 3 entries, chain intact (walked from seq 1 and the genesis hash; "
        "head at seq 3; gap entries (numbers never written) at seq 2)"
    ) in await run()


async def test_a_writer_that_finds_its_predecessor_just_linked_links_itself(
    deps: Deps, world: TenantWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hand-over between a writer and the one before it. Seq 2's writer finds the head right
    before it and writes linked; seq 3's writer took its number before that, so writes unlinked,
    and only after seq 2's writer, having moved the head, looked for seq 3 and found nothing. Seq
    3's writer must then see the head right before it and link itself."""
    insert, stored = AuditRepository.insert_entry, AuditRepository.stored
    third_taken, third_looked_for = asyncio.Event(), asyncio.Event()

    async def ordered_insert(self: AuditRepository, entry: dict[str, Any]) -> None:
        if entry["seq"] == 2:
            await third_taken.wait()
        if entry["seq"] == 3:
            third_taken.set()
            await third_looked_for.wait()
        await insert(self, entry)

    async def noting_reads(self: AuditRepository, seqs: Iterable[int]) -> dict[int, dict[str, Any]]:
        seqs = list(seqs)
        found = await stored(self, seqs)
        if 3 in seqs and 3 not in found:
            third_looked_for.set()
        return found

    monkeypatch.setattr(AuditRepository, "insert_entry", ordered_insert)
    monkeypatch.setattr(AuditRepository, "stored", noting_reads)
    async with asyncio.timeout(10):  # (a writer waiting for a look that never comes)
        second, third = await asyncio.gather(
            *(audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type=e) for e in ("a", "b"))
        )
    assert (second["seq"], third["seq"]) == (2, 3)
    assert third_looked_for.is_set()
    await assert_nothing_linkable_is_left(deps, world.tenant_id)
    head = await deps.db[C.AUDIT_HEADS].find_one({"_id": world.tenant_id})
    assert head is not None
    assert head["seq"] == 3


async def test_a_writer_one_behind_the_head_links_its_predecessor_and_itself_at_once(
    deps: Deps, world: TenantWorld
) -> None:
    """Seq 2 was written but its writer stopped before linking it; seq 3's writer, finding only
    that entry between the head and its own number, links it and writes its own entry linked."""
    assert await die_after_taking_a_number(deps, world.tenant_id) == 2
    stranded = {"audit_id": new_id(), "seq": 2, "ts": deps.clock.now(), "event_type": "x", "payload": {}}
    await AuditRepository(deps.db, Scope(world.tenant_id)).insert_entry(stranded)
    entry = await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    assert entry["seq"] == 3
    stored = await entries_of(deps.db, world.tenant_id)
    assert entry["prev_hash"] == stored[1]["hash"]
    await assert_nothing_linkable_is_left(deps, world.tenant_id)
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert (result.broken, result.check.head_seq, result.linked.linked) == (None, 3, 0)


async def test_a_linker_looks_again_after_moving_the_head(
    deps: Deps, world: TenantWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hand-over between a linker and a writer behind it. The linker reads the entries after
    the head (written, unlinked) but not yet the writer's; the writer then writes and reads the
    head before the linker has moved it, so leaves its entry to whoever moves it (too far behind
    to link itself): the linker must look again."""
    repo = AuditRepository(deps.db, Scope(world.tenant_id))
    for seq in range(2, audit.PEEK + 3):  # written and never linked (their writers stopped)
        assert await die_after_taking_a_number(deps, world.tenant_id) == seq
        at = deps.clock.now()
        await repo.insert_entry(
            {"audit_id": new_id(), "seq": seq, "ts": at, "event_type": "x", "payload": {}}
        )
    mine = audit.PEEK + 3
    insert, stored, head, advance = (
        AuditRepository.insert_entry,
        AuditRepository.stored,
        AuditHeadRepository.head,
        AuditHeadRepository.advance,
    )
    third_taken, third_looked_for, head_read = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def ordered_insert(self: AuditRepository, entry: dict[str, Any]) -> None:
        if entry["seq"] == mine:
            third_taken.set()
            await third_looked_for.wait()
        await insert(self, entry)

    async def noting_reads(self: AuditRepository, seqs: Iterable[int]) -> dict[int, dict[str, Any]]:
        seqs = list(seqs)
        found = await stored(self, seqs)
        if mine in seqs and mine not in found:
            third_looked_for.set()
        return found

    async def noting_head(self: AuditHeadRepository) -> dict[str, Any] | None:
        state = await head(self)
        if third_looked_for.is_set():
            head_read.set()
        return state

    async def late_advance(self: AuditHeadRepository, from_seq: int, **to: Any) -> dict[str, Any] | None:
        if from_seq == 1:
            await head_read.wait()
        return await advance(self, from_seq, **to)

    async def linker() -> None:
        await third_taken.wait()
        await audit.catch_up(deps.db, deps.clock, world.tenant_id)

    monkeypatch.setattr(AuditRepository, "insert_entry", ordered_insert)
    monkeypatch.setattr(AuditRepository, "stored", noting_reads)
    monkeypatch.setattr(AuditHeadRepository, "head", noting_head)
    monkeypatch.setattr(AuditHeadRepository, "advance", late_advance)
    writer = audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    async with asyncio.timeout(10):
        third, _ = await asyncio.gather(writer, linker())
    assert third["seq"] == mine
    assert head_read.is_set()
    await assert_nothing_linkable_is_left(deps, world.tenant_id)
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert (result.broken, result.check.head_seq, result.linked.linked) == (None, mine, 0)


async def test_a_writer_slower_than_the_grace_takes_another_number(
    deps: Deps, world: TenantWorld, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its number was filled as a gap while it stalled: it writes its entry under the next one."""
    insert = AuditRepository.insert_entry
    stalled = False

    async def stall_once(self: AuditRepository, entry: dict[str, Any]) -> None:
        nonlocal stalled
        if entry["event_type"] == "test.slow" and not stalled:
            stalled = True
            clock.advance(PAST_GRACE)
            await audit.catch_up(deps.db, deps.clock, world.tenant_id)  # fills seq 2 meanwhile
        await insert(self, entry)

    monkeypatch.setattr(AuditRepository, "insert_entry", stall_once)
    entry = await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.slow")
    assert entry["seq"] == 3
    stored = await entries_of(deps.db, world.tenant_id)
    assert [(e["seq"], e["event_type"]) for e in stored] == [
        (1, "tenant.created"),
        (2, GAP_EVENT),
        (3, "test.slow"),
    ]
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert (result.broken, result.check.gaps) == (None, (2,))


async def test_a_failure_while_linking_never_reaches_the_caller(
    deps: Deps, world: TenantWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(*_: Any, **__: Any) -> None:
        raise RuntimeError("database went away between the insert and the link")

    monkeypatch.setattr(AuditHeadRepository, "advance", fail)
    entry = await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    assert entry["seq"] == 2
    assert await audit.catch_up(deps.db, deps.clock, world.tenant_id) == audit.Linked()  # nor a reader
    monkeypatch.undo()
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert (result.broken, result.checked, result.check.head_seq) == (None, 2, 2)


async def test_cuts_and_tampering_after_concurrent_writes_are_caught(
    deps: Deps, world: TenantWorld, clock: FixedClock
) -> None:
    await asyncio.gather(
        *(
            audit.append(
                deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event", payload={"n": n}
            )
            for n in range(32)
        )
    )
    assert (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken is None
    middle = await deps.db[C.AUDITS].find_one({"tenant_id": world.tenant_id, "seq": 17})
    assert middle is not None
    await deps.db[C.AUDITS].update_one({"_id": middle["_id"]}, {"$set": {"payload.n": 99}})
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert (broken.seq, broken.reason) == (17, "content does not match its hash")
    await deps.db[C.AUDITS].update_one({"_id": middle["_id"]}, {"$set": {"payload": middle["payload"]}})
    assert (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken is None

    # Made to look unlinked, an entry in the middle does not pass for one waiting to be linked.
    await deps.db[C.AUDITS].update_one({"_id": middle["_id"]}, {"$unset": {"hash": "", "prev_hash": ""}})
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert (broken.seq, broken.reason) == (18, "linked although seq 17 before it is not")
    await deps.db[C.AUDITS].update_one(
        {"_id": middle["_id"]}, {"$set": {"hash": middle["hash"], "prev_hash": middle["prev_hash"]}}
    )

    last = await deps.db[C.AUDITS].find_one({"tenant_id": world.tenant_id, "seq": 33})
    assert last is not None
    await deps.db[C.AUDITS].delete_one({"_id": last["_id"]})
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert (broken.seq, broken.audit_id) == (33, last["audit_id"])
    assert broken.reason.startswith("entries missing from the end")
    # …and it stays caught: it is never mistaken for a number whose writer died.
    clock.advance(PAST_GRACE)
    after = await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    assert after["seq"] == 34
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert (broken.seq, broken.reason) == (34, "sequence gap: expected 33")


async def test_a_chain_from_before_counters_numbers_on(deps: Deps) -> None:
    """Entries with ObjectIds and a head one behind its chain, as earlier versions left them."""
    tenant_id = new_id()
    prev, docs = GENESIS_HASH, []
    for seq in (1, 2, 3):
        doc = {
            "_id": ObjectId(),
            "audit_id": new_id(),
            "seq": seq,
            "ts": "2031-03-14T04:00:00.000Z",
            "tenant_id": tenant_id,
            "store_id": None,
            "actor_id": None,
            "device_id": None,
            "event_type": "old.event",
            "payload": {},
            "ip": None,
            "prev_hash": prev,
        }
        doc["hash"] = prev = entry_hash(prev, doc)
        docs.append(doc)
    await deps.db[C.AUDITS].insert_many(docs)
    await deps.db[C.AUDIT_HEADS].insert_one(
        {
            "_id": tenant_id,
            "tenant_id": tenant_id,
            "seq": 2,
            "hash": docs[1]["hash"],
            "audit_id": docs[1]["audit_id"],
        }
    )
    assert (await audit.verify(deps.db, tenant_id, deps.clock)).broken is None
    entries = await asyncio.gather(
        *(audit.append(deps.db, deps.clock, tenant_id=tenant_id, event_type="new.event") for _ in range(5))
    )
    assert sorted(e["seq"] for e in entries) == [4, 5, 6, 7, 8]
    result = await audit.verify(deps.db, tenant_id, deps.clock)
    assert (result.broken, result.checked, result.check.head_seq, result.check.taken) == (None, 8, 8, 8)


# A schedule of rounds: in each, some writers append concurrently while others die after taking
# their number; between rounds the clock may pass the grace and a reader may link.
rounds = st.lists(
    st.tuples(st.integers(0, 8), st.integers(0, 2), st.booleans(), st.booleans()), min_size=1, max_size=5
)


#: Pauses around every database call of the chain, so writers and linkers interleave in many ways
#: (a lost hand-over between a writer and a linker shows as an entry left unlinked).
PAUSES = (0.0, 0.0, 0.0005, 0.002)
JITTERED = (
    (AuditRepository, "insert_entry"),
    (AuditRepository, "stored"),
    (AuditRepository, "set_links"),
    (AuditHeadRepository, "take"),
    (AuditHeadRepository, "head"),
    (AuditHeadRepository, "advance"),
)


def jitter(monkeypatch: pytest.MonkeyPatch, rng: random.Random) -> None:
    monkeypatch.undo()  # the previous example's pauses

    def paused(call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def run(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(rng.choice(PAUSES))
            result = await call(*args, **kwargs)
            await asyncio.sleep(rng.choice(PAUSES))
            return result

        return run

    for cls, name in JITTERED:
        monkeypatch.setattr(cls, name, paused(getattr(cls, name)))


async def write_one(deps: Deps, tenant_id: str, n: str) -> str:
    await audit.append(deps.db, deps.clock, tenant_id=tenant_id, event_type="prop.event", payload={"n": n})
    return n


#: No target or explain phase: they import Hypothesis modules lazily, and pytest's assertion rewriter
#: parsing them from deep inside the event loop trips a CPython 3.11.7 bug ("SystemError: AST
#: constructor recursion depth mismatch"), which then hides the test's own outcome.
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(schedule=rounds, order=st.randoms(), seed=st.integers(0, 2**32))
async def test_any_schedule_of_writers_and_deaths_ends_in_a_chain_that_verifies(
    deps: Deps,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    schedule: list[tuple[int, int, bool, bool]],
    order: Any,
    seed: int,
) -> None:
    jitter(monkeypatch, random.Random(seed))
    tenant_id = new_id()
    appended = [await write_one(deps, tenant_id, "start")]
    dead: list[int] = []

    async def write(n: str) -> None:
        await audit.append(
            deps.db, deps.clock, tenant_id=tenant_id, event_type="prop.event", payload={"n": n}
        )
        appended.append(n)

    async def die() -> None:
        dead.append(await die_after_taking_a_number(deps, tenant_id))

    for r, (writers, deaths, pass_grace, read) in enumerate(schedule):
        starts: list[str | None] = [f"{r}.{w}" for w in range(writers)] + [None] * deaths
        order.shuffle(starts)  # (draws, so may end the example: no coroutine is made before it)
        await asyncio.gather(*(die() if n is None else write(n) for n in starts))
        await assert_nothing_linkable_is_left(deps, tenant_id)
        assert (await audit.verify(deps.db, tenant_id, deps.clock)).broken is None
        if pass_grace:
            clock.advance(PAST_GRACE)
        if read:
            await audit.catch_up(deps.db, deps.clock, tenant_id)
    clock.advance(PAST_GRACE)
    result = await audit.verify(deps.db, tenant_id, deps.clock)
    assert result.broken is None
    stored = await entries_of(deps.db, tenant_id)
    assert sorted(e["payload"]["n"] for e in stored if e["event_type"] == "prop.event") == sorted(appended)
    assert [e["seq"] for e in stored if e["event_type"] == GAP_EVENT] == sorted(dead)
    assert (result.check.gaps, result.check.pending, result.check.missing) == (tuple(sorted(dead)), (), ())
    assert result.checked == result.check.head_seq == result.check.taken == len(appended) + len(dead)
