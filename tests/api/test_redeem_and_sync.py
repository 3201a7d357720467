"""Redemption at the gate, the gate's bootstrap and offline sync: first PASS wins, nothing counted
twice."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ulid import ULID

from boxoffice.access.dependencies import principal_from_claims
from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.core.security import decode_access_token
from boxoffice.offline.bootstrap import qr_hash
from boxoffice.tickets import changes, redeem
from boxoffice.tickets.repository import TicketRepository
from tests.conftest import CommandRecorder
from tests.factories.catalog import add_package
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    add_employee,
    bearer,
    data,
    login_password,
    make_tenant,
    owner_token,
    pair_device,
)
from tests.factories.sales import Till, approval, open_till, refund, sell
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    return await open_till(client, world)


@pytest.fixture
async def gate(client: httpx.AsyncClient, world: TenantWorld) -> PairedDevice:
    return await pair_device(client, world, type="GATE")


async def sold_tickets(
    client: httpx.AsyncClient, till: Till, lines: list[tuple[str, int]], key: str = "sale-0001"
) -> list[dict[str, Any]]:
    tickets: list[dict[str, Any]] = data(await sell(client, till, key, lines), 201)["tickets"]
    return tickets


async def scan(client: httpx.AsyncClient, device: PairedDevice, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = data(
        await client.post("/v1/tickets/redeem", json=body, headers=bearer(device.access_token))
    )
    return result


def op(kind: str, ts: Any, payload: dict[str, Any], seq: int = 0) -> dict[str, Any]:
    return {"op_id": str(ULID()), "type": kind, "ts": isoformat_z(ts), "device_seq": seq, "payload": payload}


async def upload(
    client: httpx.AsyncClient, device: PairedDevice, ops: list[dict[str, Any]], token: str | None = None
) -> list[dict[str, Any]]:
    """`token`: a session of a staff member signed in on the device (POS sales and shifts need one)."""
    results: list[dict[str, Any]] = data(
        await client.post("/v1/sync/batch", json={"ops": ops}, headers=bearer(token or device.access_token))
    )["results"]
    return results


async def test_a_single_entry_passes_once_and_every_attempt_is_kept(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, deps: Deps
) -> None:
    ticket = (await sold_tickets(client, till, [("single", 1)]))[0]
    first = await scan(client, gate, qr_token=ticket["qr_token"])
    assert (first["result"], first["reason"]) == ("pass", None)
    assert first["ticket"]["ticket_id"] == ticket["ticket_id"]
    again = await scan(client, gate, short_code=ticket["short_code"].lower())
    assert (again["result"], again["reason_code"]) == ("fail", "E_DUPLICATE_USE")
    forged = await scan(client, gate, qr_token=ticket["qr_token"][:-4] + "AAAA")
    assert (forged["result"], forged["reason_code"], forged["ticket"]) == ("fail", "E_INVALID_SIG", None)
    stored = (
        await deps.db[C.REDEMPTIONS].find({}, {"_id": 0, "result": 1, "reason": 1}).sort("ts", 1).to_list()
    )
    assert sorted(s["result"] for s in stored) == ["fail", "fail", "pass"]


async def test_fifty_gates_at_once_let_a_single_ticket_in_once(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, deps: Deps
) -> None:
    ticket = (await sold_tickets(client, till, [("single", 1)]))[0]
    answers = await asyncio.gather(*(scan(client, gate, qr_token=ticket["qr_token"]) for _ in range(50)))
    assert [a["result"] for a in answers].count("pass") == 1
    assert {a["reason"] for a in answers if a["result"] == "fail"} == {"duplicate_use"}
    assert await deps.db[C.REDEMPTIONS].count_documents({"result": "pass"}) == 1
    assert await deps.db[C.REDEMPTIONS].count_documents({}) == 50


async def test_a_refunded_ticket_fails_at_the_gate_at_once(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, gate: PairedDevice
) -> None:
    await add_employee(client, world, role="Supervisor", pin="9999")
    sold = data(await sell(client, till, "sale-0001", [("single", 2)]), 201)
    token = await approval(client, till, "refund", "9999", target_id=sold["sale"]["sale_id"])
    data(await refund(client, till, "refund-001", sold["sale"]["sale_id"], token), 201)
    answer = await scan(client, gate, qr_token=sold["tickets"][0]["qr_token"])
    assert (answer["result"], answer["reason"]) == ("fail", "refunded")


async def test_bootstrap_lists_hashes_refreshes_by_delta_and_answers_304(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice
) -> None:
    tickets = await sold_tickets(client, till, [("single", 3)])
    response = await client.get(
        "/v1/gate/bootstrap", params={"window": 60}, headers=bearer(gate.access_token)
    )
    body = data(response)
    hashes = {entry[0] for entry in body["tickets"]}
    assert hashes == {qr_hash(t["qr_token"]) for t in tickets}
    assert not any(t["qr_token"] in response.text for t in tickets)  # never the tokens themselves
    assert body["config"]["grace_seconds"] == 30
    assert body["full"] is True
    unchanged = await client.get(
        "/v1/gate/bootstrap",
        params={"window": 60},
        headers={**bearer(gate.access_token), "If-None-Match": response.headers["ETag"]},
    )
    assert unchanged.status_code == 304

    await scan(client, gate, qr_token=tickets[0]["qr_token"])
    delta = data(
        await client.get(
            "/v1/gate/bootstrap",
            params={"window": 60, "since": body["version"]},
            headers=bearer(gate.access_token),
        )
    )
    assert delta["full"] is False
    assert delta["removed"] == [qr_hash(tickets[0]["qr_token"])]


async def test_two_gates_offline_pass_one_ticket_and_sync_keeps_one_pass(
    client: httpx.AsyncClient,
    world: TenantWorld,
    till: Till,
    gate: PairedDevice,
    clock: FixedClock,
    deps: Deps,
) -> None:
    ticket = (await sold_tickets(client, till, [("single", 1)]))[0]
    other_gate = await pair_device(client, world, type="GATE")
    scanned = clock.now() + timedelta(minutes=1)
    early = op("redemption", scanned, {"qr_token": ticket["qr_token"], "result": "pass"}, seq=7)
    late = op(
        "redemption",
        scanned + timedelta(seconds=40),
        {"qr_token": ticket["qr_token"], "result": "pass"},
        seq=3,
    )
    clock.advance(timedelta(minutes=5))
    [late_result] = await upload(client, other_gate, [late])  # the later scan happens to arrive first
    [early_result] = await upload(client, gate, [early])
    assert late_result["status"] == early_result["status"] == "applied"
    # the earliest PASS stands although it arrived last; the later one is now the conflict
    assert (early_result["result"]["result"], early_result["result"]["offline_conflict"]) == ("pass", False)
    late_record = await deps.db[C.REDEMPTIONS].find_one({"device_id": other_gate.device_id})
    assert late_record is not None
    assert (late_record["result"], late_record["reason"]) == ("fail", "duplicate_use")
    assert bool(late_record["metadata"]["offline_conflict"])  # ($set stores True as 1 on the embedded server)
    stands = await deps.db[C.REDEMPTIONS].find({"result": "pass"}).to_list()
    assert [(r["device_id"], r["ts"]) for r in stands] == [(gate.device_id, isoformat_z(scanned))]
    stored = await deps.db[C.TICKETS].find_one({"ticket_id": ticket["ticket_id"]})
    assert stored is not None
    assert (stored["used"], stored["last_pass_device"]) == (1, gate.device_id)
    owner = bearer(await owner_token(client, world))
    incidents = data(await client.get("/v1/incidents", headers=owner))["items"]
    assert [(i["ticket_id"], i["kind"]) for i in incidents] == [(ticket["ticket_id"], "offline_double_pass")]
    assert [(p["device_id"], p["at"]) for p in incidents[0]["passes"]] == [
        (gate.device_id, isoformat_z(scanned)),
        (other_gate.device_id, isoformat_z(scanned + timedelta(seconds=40))),
    ]
    assert incidents[0]["redemption_id"] == late_record["redemption_id"]
    story = data(await client.get(f"/v1/tickets/{ticket['ticket_id']}/timeline", headers=owner))
    assert [e["details"]["offline_conflict"] for e in story["events"] if e["kind"] == "redeemed"].count(
        True
    ) == 1


async def test_an_offline_pos_sells_syncs_and_the_day_adds_up(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, clock: FixedClock, deps: Deps
) -> None:
    start = clock.now()
    ops = [
        op(
            "sale",
            start + timedelta(minutes=n),
            {
                "lines": [{"package_id": till.ids["single"], "qty": n + 1}],
                "payment_method": "cash",
                "amount_tendered": 100_000,
            },
            seq=n,
        )
        for n in range(6)
    ]
    clock.advance(timedelta(minutes=10))
    first = await upload(client, till.device, ops, till.cashier)
    assert [r["status"] for r in first] == ["applied"] * 6
    rng = random.Random(7)
    for _ in range(3):  # retried, shuffled, and one response "lost" (the same ops again)
        again = await upload(client, till.device, rng.sample(ops, len(ops)), till.cashier)
        assert {r["status"] for r in again} == {"duplicate"}
        assert {r["op_id"]: r["result"] for r in again} == {r["op_id"]: r["result"] for r in first}
    assert await deps.db[C.SALES].count_documents({}) == 6
    assert await deps.db[C.TICKETS].count_documents({}) == sum(range(1, 7))
    owner = bearer(await login_password(client, world.owner_email, world.owner_password))
    sales = data(await client.get("/v1/sales", headers=owner))["items"]
    assert sum(s["grand_total"] for s in sales) == 15_000 * sum(range(1, 7))
    assert sorted(s["created_at"] for s in sales)[0] == isoformat_z(start)  # dated when sold
    shift = data(await client.get("/v1/shifts/current", headers=bearer(till.cashier)))
    assert shift["totals"]["cash_sales"] == 15_000 * sum(range(1, 7))


async def test_a_suspended_device_uploads_what_it_did_before(
    client: httpx.AsyncClient, world: TenantWorld, gate: PairedDevice, till: Till, clock: FixedClock
) -> None:
    tickets = await sold_tickets(client, till, [("single", 2)])
    before = op("redemption", clock.now(), {"qr_token": tickets[0]["qr_token"], "result": "pass"})
    clock.advance(timedelta(minutes=1))
    admin = bearer(await owner_token(client, world))
    data(await client.post(f"/v1/devices/{gate.device_id}/suspend", json={"reason": "lost"}, headers=admin))
    clock.advance(timedelta(minutes=1))
    after = op("redemption", clock.now(), {"qr_token": tickets[1]["qr_token"], "result": "pass"})
    refused = await client.post(
        "/v1/auth/device/login", json={"device_id": gate.device_id, "device_token": gate.device_token}
    )
    assert error_code(refused) == "E_DEVICE_SUSPENDED"
    sync_login = data(
        await client.post(
            "/v1/auth/device/login",
            json={"device_id": gate.device_id, "device_token": gate.device_token, "purpose": "sync"},
        )
    )
    uploader = PairedDevice(gate.device_id, gate.device_token, sync_login["access_token"], gate.store_id)
    results = await upload(client, uploader, [before, after])
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["error"]["code"] == "E_DEVICE_SUSPENDED"
    elsewhere = await client.post(
        "/v1/tickets/redeem", json={"qr_token": tickets[1]["qr_token"]}, headers=bearer(uploader.access_token)
    )
    assert error_code(elsewhere) == "E_DEVICE_SUSPENDED"  # the sync session opens nothing else
    device = data(await client.get(f"/v1/devices/{gate.device_id}", headers=admin))
    assert device["last_sync_at"] is not None
    assert device["ops_synced"] == 1


async def test_one_bad_op_does_not_block_the_batch(
    client: httpx.AsyncClient, till: Till, clock: FixedClock
) -> None:
    good = op(
        "sale",
        clock.now(),
        {"lines": [{"package_id": till.ids["single"], "qty": 1}], "payment_method": "card"},
    )
    bad = op("sale", clock.now(), {"lines": [], "payment_method": "card"})
    unknown = op("sale", clock.now(), {"lines": [{"package_id": "nope", "qty": 1}], "payment_method": "card"})
    results = await upload(client, till.device, [bad, good, unknown, good], till.cashier)
    assert [r["status"] for r in results] == ["rejected", "applied", "rejected", "duplicate"]
    assert results[3]["result"] == results[1]["result"]  # the repeat answers what the op did
    assert results[0]["error"]["code"] == "E_VALIDATION"


@pytest.fixture
async def gates(client: httpx.AsyncClient, world: TenantWorld) -> list[PairedDevice]:
    return [await pair_device(client, world, type="GATE") for _ in range(3)]


scan_plans = st.lists(
    st.tuples(st.booleans(), st.integers(0, 2), st.integers(0, 900)),  # (offline?, gate, seconds)
    min_size=1,
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quota=st.integers(1, 3), plan=scan_plans, batches=st.integers(1, 3), seed=st.integers(0, 1000))
async def test_random_interleavings_of_online_and_offline_scans_never_exceed_the_quota(
    client: httpx.AsyncClient,
    world: TenantWorld,
    till: Till,
    gates: list[PairedDevice],
    clock: FixedClock,
    deps: Deps,
    quota: int,
    plan: list[tuple[bool, int, int]],
    batches: int,
    seed: int,
) -> None:
    package = till.ids.get(f"multi-{quota}")
    if package is None:
        created = await add_package(
            client, world, name=f"{quota} visits", type="multi", price=30_000, quota_or_minutes=quota
        )
        package = till.ids[f"multi-{quota}"] = created["package_id"]
    ticket = (await sold_tickets(client, till, [(f"multi-{quota}", 1)], key=f"sale-{ULID()}"))[0]
    sold_at = clock.now()
    offline_ops: dict[int, list[dict[str, Any]]] = {0: [], 1: [], 2: []}
    for offline, gate, seconds in plan:
        if offline:
            at = sold_at + timedelta(seconds=seconds)
            offline_ops[gate].append(op("redemption", at, {"qr_token": ticket["qr_token"], "result": "pass"}))
        else:
            await scan(client, gates[gate], qr_token=ticket["qr_token"])
    rng = random.Random(seed)
    for gate, ops in offline_ops.items():
        for n in range(batches):  # uploaded in pieces, shuffled, some twice
            piece = ops[n::batches]
            if piece:
                await upload(client, gates[gate], rng.sample(piece, len(piece)))
                await upload(client, gates[gate], piece)

    passes = await deps.db[C.REDEMPTIONS].count_documents(
        {"ticket_id": ticket["ticket_id"], "result": "pass"}
    )
    stored = await deps.db[C.TICKETS].find_one({"ticket_id": ticket["ticket_id"]})
    assert stored is not None
    assert passes <= quota
    assert stored["used"] == passes
    offline_total = sum(len(ops) for ops in offline_ops.values())
    assert (
        await deps.db[C.REDEMPTIONS].count_documents(
            {"ticket_id": ticket["ticket_id"], "metadata.offline": True}
        )
        == offline_total
    )


async def test_a_gate_gives_one_ticket_no_more_offline_passes_than_its_cap(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, gate: PairedDevice, clock: FixedClock
) -> None:
    created = await add_package(
        client, world, name="5 visits", type="multi", price=50_000, quota_or_minutes=5
    )
    till.ids["five"] = created["package_id"]
    ticket = (await sold_tickets(client, till, [("five", 1)]))[0]
    owner = bearer(await owner_token(client, world))
    data(
        await client.patch(f"/v1/devices/{gate.device_id}", json={"caps": {"offline_cap": 2}}, headers=owner)
    )
    scans = [
        op(
            "redemption",
            clock.now() + timedelta(minutes=n),
            {"qr_token": ticket["qr_token"], "result": "pass"},
        )
        for n in range(3)
    ]
    results = await upload(client, gate, scans)
    assert [r["result"]["result"] for r in results] == ["pass", "pass", "fail"]
    assert results[2]["result"]["offline_conflict"] is True
    online = await scan(client, gate, qr_token=ticket["qr_token"])
    assert (online["result"], online["remaining"]) == ("pass", 2)  # the cap bounds offline passes only


async def test_a_gate_retrying_a_scan_whose_answer_was_lost_gets_the_same_pass(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, deps: Deps
) -> None:
    ticket = (await sold_tickets(client, till, [("single", 1)]))[0]
    scan_id = str(ULID())
    first = await scan(client, gate, qr_token=ticket["qr_token"], scan_id=scan_id)
    again = await scan(client, gate, qr_token=ticket["qr_token"], scan_id=scan_id)  # the answer was lost
    assert first["result"] == again["result"] == "pass"
    assert first["redemption_id"] == again["redemption_id"] == scan_id
    other = await scan(client, gate, qr_token=ticket["qr_token"], scan_id=str(ULID()))
    assert (other["result"], other["reason"]) == ("fail", "duplicate_use")
    assert await deps.db[C.REDEMPTIONS].count_documents({"ticket_id": ticket["ticket_id"]}) == 2
    stored = await deps.db[C.TICKETS].find_one({"ticket_id": ticket["ticket_id"]})
    assert stored is not None
    assert stored["used"] == 1


async def test_a_scan_cut_short_after_its_use_is_rolled_forward_by_its_retry(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, deps: Deps
) -> None:
    """The use, then the event, the journal note and the record: a gate whose scan died after the
    use (nothing else written) retries with its scan_id and gets the PASS, the event and the record,
    and the ticket is used once."""
    ticket = (await sold_tickets(client, till, [("single", 1)]))[0]
    scan_id = str(ULID())
    first = await scan(client, gate, qr_token=ticket["qr_token"], scan_id=scan_id)
    assert first["result"] == "pass"
    stored = await deps.db[C.TICKETS].find_one({"_id": ticket["ticket_id"]})  # its ticket_id is its _id
    assert stored is not None
    assert (stored["used"], stored["event_seq"]) == (1, 2)
    journal = await changes.journal(deps.db, gate.tenant_id, gate.store_id)
    assert ticket["ticket_id"] in (journal.since(journal.seq - 1) or set())  # gates' lists hear of it
    # the crash: only the use was written
    await deps.db[C.REDEMPTIONS].delete_many({"redemption_id": scan_id})
    await deps.db[C.EVENTS].delete_many({"event_id": f"{scan_id}.redeemed"})
    again = await scan(client, gate, qr_token=ticket["qr_token"], scan_id=scan_id)
    assert (again["result"], again["redemption_id"]) == ("pass", scan_id)
    assert await deps.db[C.REDEMPTIONS].count_documents({"redemption_id": scan_id}) == 1
    event = await deps.db[C.EVENTS].find_one({"event_id": f"{scan_id}.redeemed"})
    assert event is not None
    assert (event["type"], event["sequence"], event["resource_id"]) == (
        "ticket.redeemed.pass",
        2,
        ticket["ticket_id"],
    )
    stored = await deps.db[C.TICKETS].find_one({"_id": ticket["ticket_id"]})
    assert stored is not None
    assert stored["used"] == 1
    failed = await scan(client, gate, qr_token=ticket["qr_token"])  # a FAIL takes the next sequence
    assert failed["result"] == "fail"
    fail_event = await deps.db[C.EVENTS].find_one({"event_id": f"{failed['redemption_id']}.redeemed"})
    assert fail_event is not None
    assert (fail_event["type"], fail_event["sequence"]) == ("ticket.redeemed.fail", 3)


async def test_a_ticket_issued_before_ticket_ids_were_its_id_still_redeems_once(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, deps: Deps
) -> None:
    """A ticket stored with a generated `_id` (issued by an earlier version) is found by its
    ticket_id and used by a compare-and-set on its own `_id`; one handed to `redeem` without its
    `_id` (a caller that listed it so) misses on ticket_id-as-`_id` and is re-read once."""
    tickets = await sold_tickets(client, till, [("single", 2)])
    for sold in tickets:
        old = await deps.db[C.TICKETS].find_one_and_delete({"_id": sold["ticket_id"]})
        assert old is not None
        old.pop("_id")
        await deps.db[C.TICKETS].insert_one(old)  # a generated ObjectId `_id`
    passed = await scan(client, gate, qr_token=tickets[0]["qr_token"])
    again = await scan(client, gate, short_code=tickets[0]["short_code"])
    assert (passed["result"], again["result"], again["reason"]) == ("pass", "fail", "duplicate_use")
    claims = decode_access_token(deps.settings.jwt_secret, gate.access_token, now=deps.clock.now())
    principal = await principal_from_claims(deps, claims, "127.0.0.1")
    listed = await TicketRepository(deps.db, Scope(gate.tenant_id)).find_one(
        {"ticket_id": tickets[1]["ticket_id"]}
    )
    assert listed is not None
    assert "_id" not in listed
    rules = redeem.GateRules()
    outcome = await redeem.redeem(
        deps, principal, listed, at=deps.clock.now(), zone=None, amount=None, rules=rules
    )
    assert outcome.verdict.result == "pass"
    stored = await deps.db[C.TICKETS].find_one({"ticket_id": tickets[1]["ticket_id"]})
    assert stored is not None
    assert (stored["used"], stored["event_seq"]) == (1, 2)


async def test_a_sync_batch_costs_a_few_round_trips_and_two_per_scan(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, clock: FixedClock, commands: CommandRecorder
) -> None:
    """100 offline scans: the device, the settings, the op records (one insert), the tickets (one
    `$in`), the gates' journal (one note), the results (one bulk write) and the device again, each
    once a batch; per scan only its use and its record (tickets/redeem.py). Sent again: read back."""
    tickets = [
        t for n in range(2) for t in await sold_tickets(client, till, [("single", 50)], key=f"sale-000{n}")
    ]
    await upload(client, gate, [op("audit", clock.now(), {"event_type": "warm"})])  # the gate's first upload
    clock.advance(timedelta(seconds=30))
    ops = [
        op("redemption", clock.now(), {"qr_token": t["qr_token"], "result": "pass"}, seq=n)
        for n, t in enumerate(tickets)
    ]
    commands.start()
    results = await upload(client, gate, ops)
    recorded, trips = commands.stop(), commands.trips
    assert [r["result"]["result"] for r in results] == ["pass"] * 100
    sent = sorted({(c.trip, c.name, c.collection) for c in recorded})  # a bulk write: one trip
    per_batch = [(name, coll) for _, name, coll in sent if coll not in (C.REDEMPTIONS, C.EVENTS)]
    per_batch = [c for c in per_batch if c != ("findAndModify", C.TICKETS)]  # each scan's use
    assert sorted(per_batch) == sorted(
        [
            ("find", C.DEVICES),
            ("find", C.SETTINGS),
            ("find", C.SETTINGS),
            ("insert", C.OPS),
            ("find", C.TICKETS),
            ("update", C.GATE_LISTS),
            ("update", C.OPS),
            ("update", C.DEVICES),
        ]
    )
    assert trips <= 2 * len(ops) + 8, trips  # 208: each scan's use and its record, and the batch's 8

    commands.start()
    again = await upload(client, gate, ops)
    assert commands.trips <= 8  # every op record read back in one `$in`: nothing applied twice
    assert {r["status"] for r in again} == {"duplicate"}
    commands.stop()
