"""The gate's allow-list is kept, not rebuilt: after any history of sales, scans (online and
uploaded), refunds, expiries and API restarts, a download lists exactly what a recomputation from
the tickets lists, a delta carries the previous download to it, a 304 is only answered for an
unchanged list — and a kept list is answered without reading the tickets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ulid import ULID

from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C, decode
from boxoffice.core.deps import Deps
from boxoffice.offline.allowlist import TYPE_CODES, AllowLists
from boxoffice.tickets import changes
from boxoffice.tickets.qr import qr_hash
from boxoffice.tickets.redemption import remaining_of
from tests.conftest import CommandRecorder
from tests.factories.catalog import ZONES, add_package
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    add_employee,
    bearer,
    data,
    device_login,
    make_tenant,
    pair_device,
    pin_login,
)
from tests.factories.sales import Till, approval, open_till, refund, sell

WINDOW = 240
ORDER = [z["zone_id"] for z in ZONES]


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "L")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    till = await open_till(client, world)
    created = await add_package(
        client, world, name="2 visits", type="multi", price=30_000, quota_or_minutes=2
    )
    till.ids["multi"] = created["package_id"]
    await add_employee(client, world, role="Supervisor", pin="9999")
    return till


@pytest.fixture
async def gate(client: httpx.AsyncClient, world: TenantWorld) -> PairedDevice:
    return await pair_device(client, world, type="GATE")


async def download(
    client: httpx.AsyncClient, gate: PairedDevice, since: str | None = None, etag: str | None = None
) -> httpx.Response:
    params: dict[str, Any] = {"window": WINDOW, **({"since": since} if since else {})}
    headers = {**bearer(gate.access_token), **({"If-None-Match": etag} if etag else {})}
    return await client.get("/v1/gate/bootstrap", params=params, headers=headers)


async def recomputed(deps: Deps, store_id: str, now: datetime) -> dict[str, list[Any]]:
    """The list, from the tickets as stored: active, validity not ended, starting within the window
    (as of the minute), something left; the zone mask by the store's zone order."""
    at = now.replace(second=0, microsecond=0)
    listed: dict[str, list[Any]] = {}
    for ticket in decode(await deps.db[C.TICKETS].find({"store_id": store_id}, {"_id": 0}).to_list()):
        if ticket["status"] != "active" or ticket["valid_to"] <= at:
            continue
        if ticket["valid_from"] >= at + timedelta(minutes=WINDOW):
            continue
        left = remaining_of(ticket, at)
        if left == 0:
            continue
        mask = sum(1 << ORDER.index(z) for z in ticket.get("zones") or [] if z in ORDER)
        entry = [
            qr_hash(ticket["qr_token"]),
            TYPE_CODES[ticket["type"]],
            left,
            int(ticket["valid_from"].timestamp()),
            int(ticket["valid_to"].timestamp()),
            mask,
        ]
        listed[entry[0]] = entry
    return listed


def by_hash(entries: list[list[Any]]) -> dict[str, list[Any]]:
    return {e[0]: e for e in entries}


@dataclass
class History:
    """What one example has done: the tickets sold, the last download, when tokens were made."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    version: str | None = None
    etag: str | None = None
    held: dict[str, list[Any]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    signed_in: datetime | None = None


async def signed_in(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, clock: FixedClock, h: History
) -> None:
    """Fresh sessions for the gate, the POS and its cashier once the clock has moved on (15 minutes)."""
    if h.signed_in is not None and clock.now() - h.signed_in < timedelta(minutes=10):
        return
    gate.access_token = await device_login(client, gate.device_id, gate.device_token)
    till.device.access_token = await device_login(client, till.device.device_id, till.device.device_token)
    till.cashier = data(await pin_login(client, till.device, "1111"))["access_token"]
    h.signed_in = clock.now()


async def look(
    client: httpx.AsyncClient, gate: PairedDevice, deps: Deps, world: TenantWorld, h: History
) -> None:
    """A download lists what the tickets say; the delta since the last one carries it there; a 304
    for the last one's ETag only if nothing it lists changed."""
    response = await download(client, gate)
    body = data(response)
    listed = by_hash(body["tickets"])
    assert len(listed) == len(body["tickets"])  # each ticket once
    assert listed == await recomputed(deps, world.store_id, deps.clock.now())
    assert body["full"] is True
    if h.version is not None:
        delta = data(await download(client, gate, since=h.version))
        carried = {} if delta["full"] else {k: v for k, v in h.held.items() if k not in set(delta["removed"])}
        carried.update(by_hash(delta["tickets"]))
        assert carried == listed
        again = await download(client, gate, etag=h.etag)
        if again.status_code == 304:
            assert (listed, body["config"]) == (h.held, h.config)
    h.version, h.etag, h.held, h.config = body["version"], response.headers["ETag"], listed, body["config"]


steps = st.lists(
    st.one_of(
        st.tuples(st.just("sell"), st.sampled_from(["single", "multi", "two_hour"]), st.integers(1, 3)),
        st.tuples(st.just("scan"), st.integers(0, 99)),
        st.tuples(st.just("offline"), st.integers(0, 99)),
        st.tuples(st.just("refund"), st.integers(0, 99)),
        st.tuples(st.just("wait"), st.integers(1, 200)),
        st.tuples(st.just("expire"), st.just(0)),
        st.tuples(st.just("restart"), st.just(0)),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
async def test_the_kept_list_is_what_the_tickets_say_after_any_history(
    client: httpx.AsyncClient,
    app: FastAPI,
    world: TenantWorld,
    till: Till,
    gate: PairedDevice,
    clock: FixedClock,
    deps: Deps,
    monkeypatch: pytest.MonkeyPatch,
    plan: list[tuple[Any, ...]],
) -> None:
    monkeypatch.setattr(
        changes, "KEEP", 8
    )  # the journal runs out now and then: lists reload, deltas turn full
    h = History()
    for step in plan:
        await signed_in(client, till, gate, clock, h)
        kind = step[0]
        if kind == "sell":
            sold = await sell(client, till, f"sale-{ULID()}", [(step[1], step[2])])
            h.tickets += data(sold, 201)["tickets"]
        elif kind in ("scan", "offline", "refund") and h.tickets:
            ticket = h.tickets[step[1] % len(h.tickets)]
            if kind == "scan":
                await client.post(
                    "/v1/tickets/redeem",
                    json={"qr_token": ticket["qr_token"]},
                    headers=bearer(gate.access_token),
                )
            elif kind == "offline":
                op = {
                    "op_id": str(ULID()),
                    "type": "redemption",
                    "ts": isoformat_z(clock.now()),
                    "payload": {"qr_token": ticket["qr_token"], "result": "pass"},
                }
                data(
                    await client.post("/v1/sync/batch", json={"ops": [op]}, headers=bearer(gate.access_token))
                )
            else:
                token = await approval(client, till, "refund", "9999", target_id=ticket["sale_id"])
                await refund(
                    client,
                    till,
                    f"refund-{ULID()}",
                    ticket["sale_id"],
                    token,
                    ticket_ids=[ticket["ticket_id"]],
                )
        elif kind == "wait":
            clock.advance(timedelta(minutes=step[1]))
        elif kind == "expire":  # just past the next end of validity among the tickets sold
            ends = [datetime.fromisoformat(t["valid_to"]) for t in h.tickets]
            later = [end for end in ends if end > clock.now()]
            clock.set(min(later) + timedelta(minutes=1) if later else clock.now() + timedelta(hours=1))
        elif kind == "restart":  # another API process: nothing kept yet
            app.state.gate_lists = AllowLists()
        await signed_in(client, till, gate, clock, h)
        await look(client, gate, deps, world, h)


async def test_a_kept_list_is_answered_without_reading_the_tickets(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, commands: CommandRecorder
) -> None:
    data(await sell(client, till, "sale-0001", [("single", 3)]), 201)
    first = await download(client, gate)  # loads the store's list
    assert len(data(first)["tickets"]) == 3

    commands.start()
    unchanged = await download(client, gate, etag=first.headers["ETag"])
    recorded = commands.stop()
    assert unchanged.status_code == 304
    # answered from the version alone: the journal's seq (the settings are kept a few seconds)
    assert [(c.name, c.collection) for c in recorded] == [("find", C.GATE_LISTS)]

    [sold] = data(await sell(client, till, "sale-0002", [("single", 1)]), 201)["tickets"]
    commands.start()
    again = data(await download(client, gate))
    recorded = commands.stop()
    assert qr_hash(sold["qr_token"]) in {e[0] for e in again["tickets"]}
    reads = [c for c in recorded if c.collection == C.TICKETS]
    assert [(c.name, list(c.filter or {})) for c in reads] == [("find", ["tenant_id", "_id"])]  # the one sold


async def test_a_used_single_entry_leaves_the_list_and_the_next_delta_says_so(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice
) -> None:
    tickets = data(await sell(client, till, "sale-0001", [("single", 2), ("multi", 1)]), 201)["tickets"]
    full = data(await download(client, gate))
    for ticket in tickets:
        data(
            await client.post(
                "/v1/tickets/redeem", json={"qr_token": ticket["qr_token"]}, headers=bearer(gate.access_token)
            )
        )
    delta = data(await download(client, gate, since=full["version"]))
    single_hashes = sorted(qr_hash(t["qr_token"]) for t in tickets[:2])
    assert (delta["full"], sorted(delta["removed"])) == (False, single_hashes)
    assert [(e[0], e[2]) for e in delta["tickets"]] == [(qr_hash(tickets[2]["qr_token"]), 1)]  # a visit left
    assert {e[0] for e in data(await download(client, gate))["tickets"]} == {qr_hash(tickets[2]["qr_token"])}


@pytest.mark.parametrize(
    "since",
    ["2031-03-14T05:00:00Z", "not-a-version", "99999.1.abcdef12", "0.0.00000000"],
    ids=["an older gate's timestamp", "garbage", "a seq this store never reached", "another set-up"],
)
async def test_a_since_the_server_cannot_start_from_gets_the_full_list(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, since: str
) -> None:
    tickets = data(await sell(client, till, "sale-0001", [("single", 2)]), 201)["tickets"]
    body = data(await download(client, gate, since=since))
    assert body["full"] is True
    assert {e[0] for e in body["tickets"]} == {qr_hash(t["qr_token"]) for t in tickets}


async def test_a_gate_further_behind_than_the_journal_reaches_gets_the_full_list(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "KEEP", 2)
    tickets = data(await sell(client, till, "sale-0001", [("single", 4)]), 201)["tickets"]
    full = data(await download(client, gate))
    for ticket in tickets[:3]:  # three notes: the journal keeps two
        await client.post(
            "/v1/tickets/redeem", json={"qr_token": ticket["qr_token"]}, headers=bearer(gate.access_token)
        )
    behind = data(await download(client, gate, since=full["version"]))
    assert behind["full"] is True
    assert [e[0] for e in behind["tickets"]] == [qr_hash(tickets[3]["qr_token"])]


async def test_a_list_is_computed_as_of_the_minute_and_versioned_by_the_journal(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, clock: FixedClock
) -> None:
    clock.set(datetime(2031, 3, 14, 5, 0, 40, tzinfo=UTC))
    data(await sell(client, till, "sale-0001", [("single", 1)]), 201)
    body = data(await download(client, gate))
    seq, minute, tag = body["version"].split(".")
    assert (int(seq), int(minute) * 60) == (1, int(datetime(2031, 3, 14, 5, 0, tzinfo=UTC).timestamp()))
    assert len(tag) == 8


async def test_another_stores_ticket_passed_offline_leaves_that_stores_lists(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, gate: PairedDevice, clock: FixedClock
) -> None:
    pos = await pair_device(client, world, store_id=world.other_store_id)
    await add_employee(client, world, role="Cashier", pin="2222", store_id=world.other_store_id)
    cashier = data(await pin_login(client, pos, "2222"))["access_token"]
    data(await client.post("/v1/shifts/open", json={"cash_open": 0}, headers=bearer(cashier)), 201)
    [ticket] = data(await sell(client, Till(pos, cashier, till.ids), "sale-0001", [("single", 1)]), 201)[
        "tickets"
    ]
    there = await pair_device(client, world, type="GATE", store_id=world.other_store_id)
    full = data(await download(client, there))
    assert [e[0] for e in full["tickets"]] == [qr_hash(ticket["qr_token"])]
    op = {  # a gate of this store let it in offline (its set-up was wrong): the use stands
        "op_id": str(ULID()),
        "type": "redemption",
        "ts": isoformat_z(clock.now()),
        "payload": {"qr_token": ticket["qr_token"], "result": "pass"},
    }
    [done] = data(await client.post("/v1/sync/batch", json={"ops": [op]}, headers=bearer(gate.access_token)))[
        "results"
    ]
    assert done["result"]["result"] == "pass"
    delta = data(await download(client, there, since=full["version"]))
    assert (delta["full"], delta["removed"]) == (False, [qr_hash(ticket["qr_token"])])
    assert data(await download(client, there))["tickets"] == []
