"""The alerts the till, the gates and the nightly checks raise: each once for one cause however
often its check runs or its cause is reported, with links to its records, audited and emitted;
acknowledging one is audited; a cause that clears resolves its alert."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from ulid import ULID

from boxoffice.alerts import checks
from boxoffice.app import background_loops
from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.sales import shifts
from boxoffice.sales.repository import ShiftRepository
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    bearer,
    data,
    device_login,
    make_tenant,
    owner_token,
    pair_device,
)
from tests.factories.sales import Till, cashier_principal, open_till, sell


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def owner(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, str]:
    """A fresh back-office session (these tests move the clock past a session's life)."""
    world.tokens.clear()
    return bearer(await owner_token(client, world))


async def listed(client: httpx.AsyncClient, world: TenantWorld, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = data(
        await client.get("/v1/alerts", params=params, headers=await owner(client, world))
    )["items"]
    return items


async def raised_entries(deps: Deps, kind: str) -> list[dict[str, Any]]:
    return [
        e
        for e in await deps.db[C.AUDITS].find({"event_type": "alert.raised"}).to_list()
        if e["payload"]["kind"] == kind
    ]


async def raised_events(deps: Deps, kind: str) -> list[dict[str, Any]]:
    return [
        e
        for e in await deps.db[C.EVENTS].find({"type": "alert.raised"}).to_list()
        if e["data"]["kind"] == kind
    ]


def op(kind: str, ts: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return {"op_id": str(ULID()), "type": kind, "ts": isoformat_z(ts), "payload": payload}


async def upload(
    client: httpx.AsyncClient, device: PairedDevice, ops: list[dict[str, Any]], remaining: int | None = None
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"ops": ops}
    if remaining is not None:
        body["outbox_remaining"] = remaining
    results: list[dict[str, Any]] = data(
        await client.post("/v1/sync/batch", json=body, headers=bearer(device.access_token))
    )["results"]
    return results


# ---- cash_difference ----------------------------------------------------------------------------


async def close(client: httpx.AsyncClient, till: Till, counted: int) -> dict[str, Any]:
    closed: dict[str, Any] = data(
        await client.post("/v1/shifts/close", json={"cash_counted": counted}, headers=bearer(till.cashier))
    )
    return closed


async def test_a_shift_closed_short_past_the_threshold_raises_one_alert_with_its_records(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    till = await open_till(client, world, cash_open=100_000)
    sold = data(
        await sell(client, till, "sale-0001", [("single", 1)], payment_method="cash", amount_tendered=10**6),
        201,
    )
    expected = 100_000 + sold["sale"]["amount_due"]
    closed = await close(client, till, expected - 10_001)  # short by ฿100.01: past the default ฿100
    assert closed["cash_diff"] == -10_001
    [alert] = await listed(client, world, kind="cash_difference")
    assert alert["cause_key"] == closed["shift_id"]
    assert alert["store_id"] == world.store_id
    assert alert["links"] == {
        "shift_id": closed["shift_id"],
        "device_id": till.device.device_id,
        "employee_id": closed["closed_by"],
    }
    assert alert["title"] == "Cash drawer short by ฿100.01"
    assert "฿100.00" in alert["detail"]
    # the sweeper finishing the same close again: still one alert, one audit entry, one event
    principal = await cashier_principal(deps, till)
    stored = await ShiftRepository(deps.db, Scope(world.tenant_id)).find_one({"shift_id": closed["shift_id"]})
    assert stored is not None
    for _ in range(3):
        await shifts.finalize_close(deps, principal, stored)
    assert [a["alert_id"] for a in await listed(client, world)] == [alert["alert_id"]]
    assert len(await raised_entries(deps, "cash_difference")) == 1
    [event] = await raised_events(deps, "cash_difference")
    assert event["data"]["links"]["shift_id"] == closed["shift_id"]

    # a correction back within the threshold: resolved; past it again: a new alert
    headers = await owner(client, world)
    corrected = await client.post(
        f"/v1/shifts/{closed['shift_id']}/correct",
        json={"cash_counted": expected - 500, "reason": "found the notes"},
        headers=headers,
    )
    assert corrected.status_code == 200, corrected.text
    [resolved] = await listed(client, world, kind="cash_difference")
    assert (resolved["alert_id"], resolved["status"]) == (alert["alert_id"], "resolved")
    data(
        await client.post(
            f"/v1/shifts/{closed['shift_id']}/correct",
            json={"cash_counted": expected + 20_000, "reason": "counted twice"},
            headers=headers,
        )
    )
    latest = await listed(client, world, kind="cash_difference")
    assert [(a["status"], a["title"]) for a in latest] == [
        ("open", "Cash drawer over by ฿200.00"),
        ("resolved", "Cash drawer short by ฿100.01"),
    ]


async def test_the_threshold_is_a_setting_and_a_small_difference_raises_nothing(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    till = await open_till(client, world, cash_open=50_000)
    await close(client, till, 50_000 - 10_000)  # exactly ฿100 short: not past the default
    assert await listed(client, world, kind="cash_difference") == []
    headers = await owner(client, world)
    data(await client.put("/v1/settings/shifts", json={"cash_difference_alert": 0}, headers=headers))
    again = await open_till(client, world, cash_open=50_000, pin="2222", ids=till.ids)
    closed = await close(client, again, 50_001)
    [alert] = await listed(client, world, kind="cash_difference")
    assert (alert["cause_key"], alert["title"]) == (closed["shift_id"], "Cash drawer over by ฿0.01")
    refused = await client.put("/v1/settings/shifts", json={"cash_difference_alert": -1}, headers=headers)
    assert refused.status_code == 400
    effective = data(await client.get("/v1/settings/effective", headers=headers))
    assert effective["values"]["shifts"] == {"cash_difference_alert": 0}


# ---- offline_double_admission ---------------------------------------------------------------------


@pytest.mark.parametrize("later_arrives_first", [True, False])
async def test_two_gates_letting_one_ticket_in_offline_raise_one_alert(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps, later_arrives_first: bool
) -> None:
    till = await open_till(client, world)
    ticket = data(await sell(client, till, "sale-0001", [("single", 1)]), 201)["tickets"][0]
    gates = [await pair_device(client, world, type="GATE") for _ in range(3)]
    scanned = clock.now() + timedelta(minutes=1)
    ops = [
        op(
            "redemption",
            scanned + timedelta(seconds=40 * n),
            {"qr_token": ticket["qr_token"], "result": "pass"},
        )
        for n in range(3)
    ]
    clock.advance(timedelta(minutes=5))
    order = [1, 0] if later_arrives_first else [0, 1]
    for n in order:
        await upload(client, gates[n], [ops[n]])
    [alert] = await listed(client, world, kind="offline_double_admission")
    conflict = await deps.db[C.REDEMPTIONS].find_one({"device_id": gates[1].device_id})
    assert conflict is not None
    assert (conflict["result"], conflict["reason"]) == ("fail", "duplicate_use")
    assert alert["cause_key"] == ticket["ticket_id"]
    assert alert["store_id"] == world.store_id
    uploader = gates[order[-1]]
    assert alert["links"]["ticket_id"] == ticket["ticket_id"]
    assert alert["links"]["device_id"] == uploader.device_id
    # the scan whose upload found it: the earlier PASS that displaced the later one, or the later one
    winner = f"{ops[0]['op_id']}.{gates[0].device_id}"
    assert alert["links"]["redemption_id"] == (winner if later_arrives_first else conflict["redemption_id"])
    assert alert["title"] == f"Ticket {ticket['short_code']} was let in twice offline"
    # the same uploads again (duplicates), and a third gate's offline pass: still one alert
    for n in order:
        again = await upload(client, gates[n], [ops[n]])
        assert again[0]["status"] == "duplicate"
    await upload(client, gates[2], [ops[2]])
    [same] = await listed(client, world, kind="offline_double_admission")
    assert (same["alert_id"], same["occurrences"]) == (alert["alert_id"], 2)
    assert len(await raised_entries(deps, "offline_double_admission")) == 1
    assert len(await raised_events(deps, "offline_double_admission")) == 1


async def test_a_ticket_passed_once_offline_raises_nothing(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> None:
    till = await open_till(client, world)
    ticket = data(await sell(client, till, "sale-0001", [("single", 1)]), 201)["tickets"][0]
    gate = await pair_device(client, world, type="GATE")
    await upload(
        client, gate, [op("redemption", clock.now(), {"qr_token": ticket["qr_token"], "result": "pass"})]
    )
    assert await listed(client, world, kind="offline_double_admission") == []


# ---- unsynced_ops -------------------------------------------------------------------------------


async def test_a_device_holding_ops_past_the_offline_limit_raises_one_alert_until_it_uploads(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    gate = await pair_device(client, world, type="GATE")
    quiet = await pair_device(client, world, type="GATE")
    await upload(client, gate, [op("audit", clock.now(), {"event_type": "note"})], remaining=3)
    await upload(client, quiet, [op("audit", clock.now(), {"event_type": "note"})], remaining=0)
    first = await checks.unsynced_ops_pass(deps)
    assert await listed(client, world) == []
    assert first.due_in == pytest.approx(240 * 60 + 1)  # redemption.max_offline_minutes: 240
    clock.advance(timedelta(minutes=240))
    await checks.unsynced_ops_pass(deps)
    assert await listed(client, world) == []  # not older than the limit yet: exactly at it
    clock.advance(timedelta(minutes=1))
    for _ in range(3):
        late = await checks.unsynced_ops_pass(deps)
        assert late.due_in is None
    [alert] = await listed(client, world)
    assert (alert["kind"], alert["cause_key"], alert["store_id"]) == (
        "unsynced_ops",
        gate.device_id,
        world.store_id,
    )
    assert alert["links"] == {"device_id": gate.device_id}
    assert alert["occurrences"] == 3
    assert "3 ops" in alert["detail"]
    assert len(await raised_entries(deps, "unsynced_ops")) == 1
    # it uploads the rest: resolved; holding ops again later and late: a new alert
    gate.access_token = await device_login(client, gate.device_id, gate.device_token)
    await upload(client, gate, [op("audit", clock.now(), {"event_type": "note"})], remaining=0)
    assert [a["status"] for a in await listed(client, world)] == ["resolved"]
    await checks.unsynced_ops_pass(deps)
    assert len(await listed(client, world)) == 1
    await upload(client, gate, [op("audit", clock.now(), {"event_type": "note"})], remaining=1)
    clock.advance(timedelta(minutes=241))
    await checks.unsynced_ops_pass(deps)
    assert [a["status"] for a in await listed(client, world)] == ["open", "resolved"]


async def test_the_offline_limit_is_the_stores_setting(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    headers = await owner(client, world)
    data(
        await client.put(
            f"/v1/settings/redemption?store_id={world.store_id}",
            json={"grace_seconds": 30, "max_offline_minutes": 30},
            headers=headers,
        )
    )
    gate = await pair_device(client, world, type="GATE")
    annex = await pair_device(client, world, type="GATE", store_id=world.other_store_id)
    for device in (gate, annex):
        await upload(client, device, [op("audit", clock.now(), {"event_type": "note"})], remaining=2)
    clock.advance(timedelta(minutes=31))
    await checks.unsynced_ops_pass(deps)
    assert [a["cause_key"] for a in await listed(client, world)] == [gate.device_id]


# ---- audit_chain_broken -------------------------------------------------------------------------


async def test_the_nightly_verify_raises_one_alert_for_a_broken_chain(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    other = await make_tenant(deps, "B")
    await pair_device(client, world)
    await pair_device(client, other)
    entry = await deps.db[C.AUDITS].find_one({"tenant_id": world.tenant_id, "seq": 2})
    assert entry is not None
    await deps.db[C.AUDITS].update_one({"_id": entry["_id"]}, {"$set": {"actor_id": "someone-else"}})

    clock.set(clock.now().replace(hour=19, minute=30))  # 02:30 in Bangkok: not yet the night's run
    assert checks.night_of(clock.now(), deps.settings.tz) is None
    await checks.audit_verify_pass(deps, pause=0)
    assert await listed(client, world, kind="audit_chain_broken") == []
    clock.advance(timedelta(minutes=30))  # 03:00
    for _ in range(3):  # the night's walk runs once, however often the loop looks
        await checks.audit_verify_pass(deps, pause=0)
    [alert] = await listed(client, world, kind="audit_chain_broken")
    assert (alert["cause_key"], alert["store_id"]) == (f"2:{entry['audit_id']}", None)
    assert alert["links"] == {"audit_id": entry["audit_id"], "audit_seq": "2"}
    assert "content does not match its hash" in alert["detail"]
    assert alert["occurrences"] == 1
    # the next night finds the same break: the same alert; the intact tenant has none
    clock.advance(timedelta(days=1))
    await checks.audit_verify_pass(deps, pause=0)
    [same] = await listed(client, world, kind="audit_chain_broken")
    assert (same["alert_id"], same["occurrences"]) == (alert["alert_id"], 2)
    assert await deps.db[C.ALERTS].count_documents({"tenant_id": other.tenant_id}) == 0
    assert len(await raised_events(deps, "audit_chain_broken")) == 1


# ---- common -------------------------------------------------------------------------------------


async def test_acknowledging_an_alert_is_audited_with_its_note(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    till = await open_till(client, world, cash_open=100_000)
    await close(client, till, 0)
    [alert] = await listed(client, world, kind="cash_difference")
    acked = data(
        await client.post(
            f"/v1/alerts/{alert['alert_id']}/acknowledge",
            json={"note": "Counted again with the manager"},
            headers=await owner(client, world),
        )
    )
    assert acked["status"] == "acknowledged"
    [entry] = await deps.db[C.AUDITS].find({"event_type": "alert.acknowledged"}).to_list()
    assert entry["payload"] == {
        "alert_id": alert["alert_id"],
        "kind": "cash_difference",
        "cause_key": alert["cause_key"],
        "note": "Counted again with the manager",
    }
    assert entry["actor_id"] == acked["acknowledged_by"]
    assert entry["store_id"] == world.store_id


def test_the_checks_run_as_leased_background_loops(deps: Deps) -> None:
    worker = SimpleNamespace(background_pass=None)
    names = [loop.name for loop in background_loops(deps, worker, "replica-1")]  # type: ignore[arg-type]
    assert {checks.UNSYNCED_LOOP, checks.AUDIT_LOOP} <= set(names)
