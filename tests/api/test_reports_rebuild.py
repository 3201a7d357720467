"""`boxoffice reports rebuild` on records streamed in batches: the same summaries as the projection
(and as reading every record at once), the lease renewed as it goes and nothing written once
another owner holds it, one tenant's rebuild blind to every other tenant, the same documents twice."""

from __future__ import annotations

import asyncio
import io
import os
from datetime import timedelta
from typing import Any

import httpx
import pytest

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C, encode
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.reports import projection
from boxoffice.reports.rebuild import (
    LeaseLost,
    OnProgress,
    Progress,
    Rebuild,
    Records,
    StreamCut,
    fold,
    progress_printer,
    rebuild_tenant,
)
from boxoffice.reports.repository import ProjectedEventRepository
from boxoffice.sales.schemas import SaleCreate
from tests.api.test_reports import SUPERVISOR_PIN, TODAY, a_day_of_business, summaries
from tests.conftest import CommandRecorder
from tests.factories.identity import TenantWorld, add_employee, make_tenant, pair_device
from tests.factories.sales import cashier_principal, open_till, pending_sale


async def a_tenant_in_business(client: httpx.AsyncClient, deps: Deps, clock: FixedClock, label: str) -> str:
    """A day of sales (one left pending by a requester that died), a refund, a reprint, passes and
    refused scans, a closed shift; every event projected. Returns the tenant id."""
    world: TenantWorld = await make_tenant(deps, label)
    till = await open_till(client, world, cash_open=100_000)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    gate = await pair_device(client, world, type="GATE")
    body = SaleCreate.model_validate(
        {"lines": [{"package_id": till.ids["single"], "qty": 2}], "payment_method": "card"}
    )
    await pending_sale(deps, await cashier_principal(deps, till), "sale-died", body)
    await a_day_of_business(client, world, till, gate, clock)
    await projection.project_all(deps)
    return world.tenant_id


async def stored(deps: Deps, collection: str, tenant_id: str) -> dict[str, dict[str, Any]]:
    """The tenant's documents as stored (`upto` included), by `_id`."""
    docs = await deps.db[collection].find({"tenant_id": tenant_id}).to_list()
    return {str(doc["_id"]): doc for doc in docs}


def recorder() -> tuple[list[Progress], OnProgress]:
    told: list[Progress] = []

    async def note(progress: Progress) -> None:
        told.append(progress)

    return told, note


async def take_lease_elsewhere(deps: Deps, tenant_id: str, clock: FixedClock) -> None:
    """Another projector holds the tenant's lease now (as if the rebuild's had run out)."""
    until = encode(clock.now() + projection.TENANT_LEASE)
    await deps.db[C.REPORT_STATE].update_one(
        {"_id": tenant_id}, {"$set": {"owner": "projector-elsewhere", "lease_until": until}}
    )


async def mark_every_summary(deps: Deps, tenant_id: str) -> None:
    """A field no rebuild writes: a document the rebuild replaced has lost it."""
    await deps.db[C.REPORT_SUMMARIES].update_many({"tenant_id": tenant_id}, {"$set": {"before": True}})


async def test_a_rebuild_read_and_written_in_small_batches_equals_the_projection(
    client: httpx.AsyncClient, deps: Deps, clock: FixedClock
) -> None:
    tenant_id = await a_tenant_in_business(client, deps, clock, "A")
    projected = await summaries(deps, tenant_id)
    assert projected

    # every record at once, in memory (what the reconciliation and the demo history replay)
    records = Records(deps, tenant_id)
    await records.load()
    pending = await ProjectedEventRepository(deps.db, Scope(tenant_id)).pending_ids()
    in_memory, passed, folded = fold(tenant_id, records.replay(), pending)

    told, note = recorder()
    rebuilt = await rebuild_tenant(deps, tenant_id, batch=2, write_batch=3, on_progress=note)
    assert (rebuilt.events, rebuilt.written, rebuilt.deleted) == (folded, len(projected), 0)
    assert await summaries(deps, tenant_id) == projected
    assert set(projected) == set(in_memory)
    for summary_id, doc in in_memory.items():
        assert projected[summary_id] == {**doc, "tenant_id": tenant_id}
    marks = await stored(deps, C.REPORT_MARKS, tenant_id)
    assert {m["ticket_id"] for m in marks.values()} == set(passed)

    batches = {stage: sum(p.stage == stage for p in told) for stage in ("sales", "tickets", "scans")}
    assert min(batches.values()) >= 2, batches  # each read in more than one batch
    assert sum(p.stage == "summaries" for p in told) == -(-len(projected) // 3)  # a call per bulk write
    assert (told[-1].folded, told[-1].written) == (folded, len(projected))
    assert [p.folded for p in told] == sorted(p.folded for p in told)

    # again: the very same documents, `upto` and all, and the same marks
    first = await stored(deps, C.REPORT_SUMMARIES, tenant_id)
    again = await rebuild_tenant(deps, tenant_id, batch=5, write_batch=7)
    assert again == rebuilt
    assert await stored(deps, C.REPORT_SUMMARIES, tenant_id) == first
    assert await stored(deps, C.REPORT_MARKS, tenant_id) == marks


async def test_a_rebuild_that_loses_its_lease_while_reading_stops_and_writes_nothing(
    client: httpx.AsyncClient, deps: Deps, clock: FixedClock
) -> None:
    tenant_id = await a_tenant_in_business(client, deps, clock, "A")
    projected = await summaries(deps, tenant_id)
    await mark_every_summary(deps, tenant_id)
    await deps.db[C.REPORT_MARKS].delete_many({"tenant_id": tenant_id})
    before = await stored(deps, C.REPORT_SUMMARIES, tenant_id)

    async def steal(progress: Progress) -> None:
        if progress.stage == "tickets":
            await take_lease_elsewhere(deps, tenant_id, clock)

    with pytest.raises(LeaseLost, match="another owner"):
        await rebuild_tenant(deps, tenant_id, batch=2, on_progress=steal)
    assert await stored(deps, C.REPORT_SUMMARIES, tenant_id) == before
    assert await stored(deps, C.REPORT_MARKS, tenant_id) == {}
    state = await deps.db[C.REPORT_STATE].find_one({"_id": tenant_id})
    assert state is not None
    assert state["owner"] == "projector-elsewhere"  # its lease was left alone

    # once that lease has run out, a rebuild goes through
    clock.advance(projection.TENANT_LEASE)
    await rebuild_tenant(deps, tenant_id, batch=2)
    assert await summaries(deps, tenant_id) == projected


async def test_a_rebuild_that_loses_its_lease_between_writes_writes_no_further_batch(
    client: httpx.AsyncClient, deps: Deps, clock: FixedClock
) -> None:
    tenant_id = await a_tenant_in_business(client, deps, clock, "A")
    await mark_every_summary(deps, tenant_id)
    await deps.db[C.REPORT_MARKS].delete_many({"tenant_id": tenant_id})

    async def steal(progress: Progress) -> None:
        if progress.stage == "summaries" and progress.written >= 3:
            await take_lease_elsewhere(deps, tenant_id, clock)

    with pytest.raises(LeaseLost, match="3 summaries written"):
        await rebuild_tenant(deps, tenant_id, batch=2, write_batch=3, on_progress=steal)
    after = await stored(deps, C.REPORT_SUMMARIES, tenant_id)
    assert sum("before" not in doc for doc in after.values()) == 3  # the one batch written in time
    assert await stored(deps, C.REPORT_MARKS, tenant_id) == {}


async def test_a_rebuild_keeps_its_lease_through_a_read_longer_than_the_lease(
    client: httpx.AsyncClient, deps: Deps, clock: FixedClock
) -> None:
    tenant_id = await a_tenant_in_business(client, deps, clock, "A")
    projected = await summaries(deps, tenant_id)
    turn = projection.TenantPass(deps, tenant_id, "rebuild")
    assert await turn.take() is not None
    others: list[tuple[int, int]] = []

    async def slow_read(progress: Progress) -> None:
        if progress.stage == "tickets" and not others:  # one read outlasts the lease, 45 s at a time
            for _ in range(2):
                clock.advance(timedelta(seconds=45))
                await asyncio.sleep(0.2)  # meanwhile the rebuild renews (every 0.05 s here)
            others.append(await projection.project_tenant(deps, tenant_id, "projector-elsewhere"))

    rebuild = Rebuild(deps, turn, batch=2, on_progress=slow_read, renew_every=0.05)
    try:
        rebuilt = await rebuild.run(None, None)
    finally:
        await turn.release()
    assert others == [(0, 0)]  # the projector found the lease held and did nothing
    assert rebuilt.written == len(projected)
    assert await summaries(deps, tenant_id) == projected


async def test_a_rebuild_of_one_tenant_never_reads_or_writes_another_tenants(
    client: httpx.AsyncClient, deps: Deps, clock: FixedClock, commands: CommandRecorder
) -> None:
    tenant_a = await a_tenant_in_business(client, deps, clock, "A")
    tenant_b = await a_tenant_in_business(client, deps, clock, "B")
    projected_a = await summaries(deps, tenant_a)
    # a summary no record supports, in each tenant: the rebuild of A deletes A's only
    for tenant_id in (tenant_a, tenant_b):
        bogus = next(iter(await stored(deps, C.REPORT_SUMMARIES, tenant_id))).rpartition("|")[0] + "|bogus"
        await deps.db[C.REPORT_SUMMARIES].insert_one(
            {"_id": bogus, "tenant_id": tenant_id, "day": TODAY, "month": TODAY[:7], "count": 1}
        )
    await mark_every_summary(deps, tenant_b)
    b_summaries = await stored(deps, C.REPORT_SUMMARIES, tenant_b)
    b_marks = await stored(deps, C.REPORT_MARKS, tenant_b)

    commands.start()
    rebuilt = await rebuild_tenant(deps, tenant_a, batch=2, write_batch=3)
    sent = commands.stop()
    assert rebuilt.deleted == 1
    assert await summaries(deps, tenant_a) == projected_a
    assert await stored(deps, C.REPORT_SUMMARIES, tenant_b) == b_summaries
    assert await stored(deps, C.REPORT_MARKS, tenant_b) == b_marks
    selecting = [c for c in sent if c.filter is not None]
    assert {c.collection for c in selecting} >= {
        C.SALES,
        C.TICKETS,
        C.REDEMPTIONS,
        C.REPORT_SUMMARIES,
        C.REPORT_MARKS,
    }
    for command in selecting:  # each read and write names tenant A, none names B
        assert tenant_a in str(command.filter), command
        assert tenant_b not in str(command.filter), command


async def test_progress_is_told_every_ten_seconds_or_so() -> None:
    out = io.StringIO()
    now = [100.0]
    tell = progress_printer(out, every=10.0, now=lambda: now[0])
    for at, folded in ((101.0, 2_000), (109.0, 4_000), (111.0, 6_000), (115.0, 8_000), (121.5, 10_000)):
        now[0] = at
        await tell(Progress("T1", "scans", folded, 0, 0))
    now[0] = 140.0
    await tell(Progress("T1", "summaries", 12_000, 3_000, 2))
    assert out.getvalue().splitlines() == [
        "tenant T1: scans: 6,000 records folded, 0 summaries written, 0 removed (11 s)",
        "tenant T1: scans: 10,000 records folded, 0 summaries written, 0 removed (22 s)",
        "tenant T1: summaries: 12,000 records folded, 3,000 summaries written, 2 removed (40 s)",
    ]


async def drop_the_pool(deps: Deps) -> None:
    """What the driver does when an operation times out: close every pooled connection."""
    topology = await deps.db.client._get_topology()
    for server in topology._servers.values():
        await server.pool.reset()
        await server.pool.ready()


async def test_a_stream_the_server_ends_early_stops_the_rebuild_before_it_writes(
    client: httpx.AsyncClient, deps: Deps, clock: FixedClock
) -> None:
    """The embedded server drops a cursor with the connection that opened it and answers the next
    getMore as if it were done: without the count, the rebuild would write summaries short of the
    scans it never read."""
    tenant_id = await a_tenant_in_business(client, deps, clock, "A")
    projected = await summaries(deps, tenant_id)
    await mark_every_summary(deps, tenant_id)
    before = await stored(deps, C.REPORT_SUMMARIES, tenant_id)
    dropped: list[str] = []

    async def drop_once(progress: Progress) -> None:
        if progress.stage == "scans" and not dropped:
            dropped.append(progress.stage)
            await drop_the_pool(deps)

    if os.environ.get("BOXOFFICE_TEST_MONGO_URI"):
        pytest.skip("real MongoDB keeps a cursor when the connection that opened it closes")
    with pytest.raises(StreamCut, match=r"the scans stream ended after 2 of the \d+ records"):
        await rebuild_tenant(deps, tenant_id, batch=2, on_progress=drop_once)
    assert await stored(deps, C.REPORT_SUMMARIES, tenant_id) == before  # nothing written

    clock.advance(projection.TENANT_LEASE)  # the stopped run's lease runs out; the next goes through
    await rebuild_tenant(deps, tenant_id, batch=2)
    assert await summaries(deps, tenant_id) == projected
