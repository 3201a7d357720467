"""Shifts: one open per POS, cash movements, a frozen close snapshot, corrections kept as history,
and a day of sales that reconciles three ways to the satang."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import httpx
import pytest

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C, stamp
from boxoffice.core.deps import Deps
from boxoffice.sales import shifts
from tests.factories.identity import TenantWorld, add_employee, bearer, data, login_password, make_tenant
from tests.factories.sales import Till, approval, open_till, refund, sell
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    return await open_till(client, world, cash_open=200_000)


async def test_close_freezes_a_snapshot_with_the_cash_difference(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    cashier = bearer(till.cashier)
    await sell(client, till, "k-cash-1", [("single", 2)], payment_method="cash", amount_tendered=50_000)
    await sell(client, till, "k-card-1", [("two_hour", 1)], payment_method="card")
    data(
        await client.post(
            "/v1/shifts/pay_in", json={"amount": 10_000, "reason": "Change from the bank"}, headers=cashier
        )
    )
    data(
        await client.post(
            "/v1/shifts/pay_out", json={"amount": 5_000, "reason": "Ice for the cafe"}, headers=cashier
        )
    )
    running = data(await client.get("/v1/shifts/current", headers=cashier))
    assert running["totals"]["cash_sales"] == 30_000
    expected = 200_000 + 30_000 + 10_000 - 5_000
    closed = data(
        await client.post("/v1/shifts/close", json={"cash_counted": expected - 700}, headers=cashier)
    )
    assert closed["status"] == "closed"
    assert closed["cash_expected"] == expected
    assert closed["cash_diff"] == -700  # 7 baht short
    assert closed["totals"]["by_payment_type"] == {"cash": 30_000, "qr": 0, "card": 25_000, "other": 0}
    assert [s["version"] for s in closed["snapshots"]] == [1]
    # Frozen: the stored shift keeps these figures; nothing more can be added.
    again = await client.post("/v1/shifts/pay_in", json={"amount": 1, "reason": "late"}, headers=cashier)
    assert error_code(again) == "E_NO_OPEN_SHIFT"
    assert (
        await client.post("/v1/shifts/close", json={"cash_counted": 1}, headers=cashier)
    ).status_code == 409
    stored = await deps.db[C.SHIFTS].find_one({"shift_id": closed["shift_id"]})
    assert stored is not None
    assert stored["cash_diff"] == -700
    events = [
        a["event_type"]
        for a in await deps.db[C.AUDITS].find({"event_type": {"$regex": "^shift"}}).sort("seq", 1).to_list()
    ]
    assert events == ["shift.opened", "shift.pay_in", "shift.pay_out", "shift.closed"]


async def test_a_close_whose_requester_died_is_finished_by_the_sweeper(
    client: httpx.AsyncClient, till: Till, deps: Deps, clock: FixedClock
) -> None:
    await sell(client, till, "k-cash-1", [("single", 2)], payment_method="cash", amount_tendered=50_000)
    # The close flipped the shift, then the API died before its snapshot: as the database shows it.
    await deps.db[C.SHIFTS].update_one(
        {"status": "open"},
        {
            "$set": {
                "status": "closed",
                "close_at": stamp(clock.now()),
                "cash_counted": 225_000,
                "finalized": False,
            }
        },
    )
    assert await shifts.sweep_unfinished_closes(deps) == 0  # too fresh: its requester may still be at it
    clock.advance(timedelta(minutes=2))
    assert await shifts.sweep_unfinished_closes(deps) == 1
    stored = await deps.db[C.SHIFTS].find_one({"status": "closed"})
    assert stored is not None
    assert (stored["cash_expected"], stored["cash_diff"], stored["finalized"]) == (230_000, -5_000, True)
    assert await deps.db[C.SHIFT_SNAPSHOTS].count_documents({"shift_id": stored["shift_id"]}) == 1
    assert await deps.db[C.EVENTS].count_documents({"type": "shift.closed"}) == 1
    assert await shifts.sweep_unfinished_closes(deps) == 0


async def test_one_open_shift_per_device(client: httpx.AsyncClient, till: Till, deps: Deps) -> None:
    cashier = bearer(till.cashier)
    data(await client.post("/v1/shifts/close", json={"cash_counted": 200_000}, headers=cashier))
    responses = await asyncio.gather(
        *(client.post("/v1/shifts/open", json={"cash_open": 0}, headers=cashier) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9  # ten taps, one shift
    winner = next(r for r in responses if r.status_code == 201).json()["data"]["shift_id"]
    assert all(r.json()["error"]["details"]["shift_id"] == winner for r in responses if r.status_code == 409)
    assert await deps.db[C.SHIFTS].count_documents({"status": "open"}) == 1


async def test_a_manager_corrects_the_count_and_history_is_kept(
    client: httpx.AsyncClient, till: Till, world: TenantWorld, deps: Deps
) -> None:
    closed = data(
        await client.post("/v1/shifts/close", json={"cash_counted": 150_000}, headers=bearer(till.cashier))
    )
    assert closed["cash_diff"] == -50_000
    manager = await add_employee(client, world, role="Manager", pin="5555", password="manager-password")
    token = bearer(await login_password(client, manager["email"], "manager-password"))
    fixed = data(
        await client.post(
            f"/v1/shifts/{closed['shift_id']}/correct",
            json={"cash_counted": 200_000, "reason": "Miscounted the 1000s"},
            headers=token,
        )
    )
    assert fixed["cash_diff"] == 0
    assert [(s["version"], s["cash_counted"]) for s in fixed["snapshots"]] == [(1, 150_000), (2, 200_000)]
    cashier_token = bearer(await login_password(client, world.owner_email, world.owner_password))
    listed = data(await client.get("/v1/shifts", params={"status": "closed"}, headers=cashier_token))["items"]
    assert [s["shift_id"] for s in listed] == [closed["shift_id"]]
    audit = await deps.db[C.AUDITS].find_one({"event_type": "shift.count_corrected"})
    assert audit is not None
    assert audit["payload"]["before"] == 150_000


async def test_a_day_of_sales_and_refunds_reconciles_three_ways(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    """Sales list less refunds, shift snapshots and tickets agree to the satang."""
    rng = random.Random(20310314)
    first = await open_till(client, world, cash_open=100_000, pin="1111")
    tills = [first, await open_till(client, world, cash_open=100_000, pin="2222", ids=first.ids)]
    await add_employee(client, world, role="Supervisor", pin="9999")
    sold: list[tuple[Till, dict[str, Any]]] = []
    for n in range(24):
        till = rng.choice(tills)
        lines = [
            (rng.choice(["single", "two_hour", "family"]), rng.randint(1, 3))
            for _ in range(rng.randint(1, 3))
        ]
        method = rng.choice(["cash", "qr", "card"])
        extra = {"amount_tendered": 1_000_000} if method == "cash" else {}
        promo = {"promo_code": "WELCOME10"} if rng.random() < 0.3 else {}
        response = await sell(
            client, till, f"day-sale-{n:03d}", lines, payment_method=method, **extra, **promo
        )
        sold.append((till, data(response, 201)))
    for n, (till, sale) in enumerate(rng.sample(sold, 8)):  # some whole, some a few tickets
        sale_id = sale["sale"]["sale_id"]
        token = await approval(client, till, "refund", "9999", target_id=sale_id)
        ticket_ids = [t["ticket_id"] for t in sale["tickets"]]
        chosen = {"ticket_ids": rng.sample(ticket_ids, rng.randint(1, len(ticket_ids)))} if n % 2 else {}
        data(await refund(client, till, f"day-refund-{n:03d}", sale_id, token, **chosen), 201)
    snapshots = [
        data(await client.post("/v1/shifts/close", json={"cash_counted": 0}, headers=bearer(t.cashier)))
        for t in tills
    ]
    owner = bearer(await login_password(client, world.owner_email, world.owner_password))
    sales = data(await client.get("/v1/sales", params={"limit": 200}, headers=owner))["items"]
    refunds = data(await client.get("/v1/refunds", params={"limit": 200}, headers=owner))["items"]
    tickets = await deps.db[C.TICKETS].find({"tenant_id": world.tenant_id}).to_list()

    by_sales = sum(s["grand_total"] for s in sales) - sum(r["amount"] for r in refunds)
    by_shifts = sum(s["totals"]["sales_total"] - s["totals"]["refunds_total"] for s in snapshots)
    by_tickets = sum(t["price"] - t.get("refunded_amount", 0) for t in tickets)
    assert len(sales) == 24
    assert len(refunds) == 8
    assert by_sales == by_shifts == by_tickets
    assert sum(r["amount"] for r in refunds) == sum(t.get("refunded_amount", 0) for t in tickets) > 0
    cash = sum(s["grand_total"] for s in sales if s["payment_method"] == "cash")
    cash_back = sum(r["amount"] for r in refunds if r["method"] == "cash")
    assert sum(s["totals"]["by_payment_type"]["cash"] for s in snapshots) == cash
    assert sum(s["totals"]["cash_refunds"] for s in snapshots) == cash_back
    # counted 0: short by everything the drawers should hold
    assert sum(-s["cash_diff"] for s in snapshots) == 2 * 100_000 + cash - cash_back
