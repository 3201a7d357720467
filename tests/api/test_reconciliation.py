"""A day of sales that reconciles three ways to the satang: the sales list (less refunds), the shift
snapshots and the tickets — with payment fees, refunds paid back by the sale's method or by the one
the approver chose, and sales a POS made offline and uploaded later, all in the mix."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import httpx
import pytest
from ulid import ULID

from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from tests.factories.catalog import admin
from tests.factories.identity import TenantWorld, add_employee, bearer, data, login_password, make_tenant
from tests.factories.sales import Till, approval, open_till, refund, sell

CARD_FEE = {"fee_bp": 150, "fee_satang": 500}  # 1.5 % + ฿5 on card
QR_FEE = {"fee_bp": 0, "fee_satang": 200}  # ฿2 on Thai QR


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def with_fees(client: httpx.AsyncClient, world: TenantWorld) -> None:
    headers = await admin(client, world)
    values = data(
        await client.get("/v1/settings/effective", params={"store_id": world.store_id}, headers=headers)
    )["values"]
    fees = {"card": CARD_FEE, "qr": QR_FEE}
    data(
        await client.put(
            "/v1/settings/payment_types",
            json=[{**t, **fees.get(t["code"], {})} for t in values["payment_types"]],
            headers=headers,
        )
    )


def random_cart(rng: random.Random) -> list[tuple[str, int]]:
    return [
        (rng.choice(["single", "two_hour", "family"]), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))
    ]


async def offline_sales(
    client: httpx.AsyncClient, till: Till, clock: FixedClock, rng: random.Random, count: int
) -> list[dict[str, Any]]:
    """Sales the POS made while offline (dated a few minutes back), uploaded in one batch."""
    ops = []
    for n in range(count):
        method = rng.choice(["cash", "card", "qr"])
        payload: dict[str, Any] = {
            "lines": [{"package_id": till.ids[p], "qty": q} for p, q in random_cart(rng)],
            "payment_method": method,
        }
        if method == "cash":
            payload["amount_tendered"] = 1_000_000
        ts = clock.now() - timedelta(minutes=count - n)
        ops.append(
            {"op_id": str(ULID()), "type": "sale", "ts": isoformat_z(ts), "device_seq": n, "payload": payload}
        )
    results = data(await client.post("/v1/sync/batch", json={"ops": ops}, headers=bearer(till.cashier)))[
        "results"
    ]
    assert [r["status"] for r in results] == ["applied"] * count
    return [r["result"] for r in results]


async def test_a_day_with_fees_refund_methods_and_offline_sales_reconciles_three_ways(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    rng = random.Random(20310314)
    await with_fees(client, world)
    first = await open_till(client, world, cash_open=100_000, pin="1111")
    tills = [first, await open_till(client, world, cash_open=100_000, pin="2222", ids=first.ids)]
    await add_employee(client, world, role="Supervisor", pin="9999")
    clock.advance(timedelta(minutes=10))  # (sessions last 15 minutes)
    sold: list[tuple[Till, str, list[str], str]] = []  # (till, sale_id, ticket ids, method)
    for n in range(20):
        till = rng.choice(tills)
        method = rng.choice(["cash", "qr", "card"])
        extra: dict[str, Any] = {"amount_tendered": 1_000_000} if method == "cash" else {}
        if rng.random() < 0.3:
            extra["promo_code"] = "WELCOME10"
        body = data(
            await sell(client, till, f"day-sale-{n:03d}", random_cart(rng), payment_method=method, **extra),
            201,
        )
        sold.append((till, body["sale"]["sale_id"], [t["ticket_id"] for t in body["tickets"]], method))
    for till in tills:
        for result in await offline_sales(client, till, clock, rng, 4):
            sale = data(await client.get(f"/v1/sales/{result['sale_id']}", headers=bearer(till.cashier)))[
                "sale"
            ]
            sold.append((till, sale["sale_id"], result["ticket_ids"], sale["payment_method"]))
    for n, (till, sale_id, ticket_ids, method) in enumerate(rng.sample(sold, 10)):
        context: dict[str, Any] = {}
        if method != "cash" and n % 3 == 0:
            context["refund_method"] = "cash"  # the approver pays a card or QR sale back in cash
        token = await approval(client, till, "refund", "9999", target_id=sale_id, **context)
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

    fees = sum(s["fee_total"] for s in sales)
    by_sales = sum(s["amount_due"] for s in sales) - sum(r["amount"] for r in refunds)
    by_shifts = sum(s["totals"]["sales_total"] - s["totals"]["refunds_total"] for s in snapshots)
    by_tickets = sum(t["price"] - t.get("refunded_amount", 0) for t in tickets) + fees  # fees ride on sales
    assert len(sales) == 28
    assert sum(1 for s in sales if s["created_at"] < isoformat_z(clock.now() - timedelta(seconds=1))) >= 8
    assert len(refunds) == 10
    assert fees > 0
    assert sum(s["totals"]["fees_total"] for s in snapshots) == fees
    assert by_sales == by_shifts == by_tickets
    assert sum(r["amount"] for r in refunds) == sum(t.get("refunded_amount", 0) for t in tickets) > 0
    for method in ("cash", "qr", "card"):
        taken = sum(s["amount_due"] for s in sales if s["payment_method"] == method)
        assert sum(s["totals"]["by_payment_type"][method] for s in snapshots) == taken
    cash = sum(s["amount_due"] for s in sales if s["payment_method"] == "cash")
    cash_back = sum(r["amount"] for r in refunds if r["method"] == "cash")
    assert any(
        r["method"] == "cash"
        for r in refunds
        if r["sale_id"] in {s["sale_id"] for s in sales if s["payment_method"] != "cash"}
    )
    assert sum(s["totals"]["cash_refunds"] for s in snapshots) == cash_back
    # counted 0: short by everything the drawers should hold
    assert sum(-s["cash_diff"] for s in snapshots) == 2 * 100_000 + cash - cash_back
