"""The dashboard: one store's day so far against the same weekday last week, equal to the reports'
figures, with its open shifts, devices and alerts; another tenant's and another store's business
never in it; a store the viewer may not see refused; a few indexed reads whatever the history."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from ulid import ULID

from boxoffice.alerts import service as alerts
from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.reports import projection
from boxoffice.reports.summaries import bucket
from tests.commands import served_by_an_index
from tests.conftest import TEST_START, CommandRecorder
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    add_employee,
    bearer,
    data,
    device_login,
    login_password,
    make_tenant,
    owner_token,
    pair_device,
    pin_login,
)
from tests.factories.sales import Till, approval, open_till, refund, sell
from tests.helpers import error_code

TODAY = "2031-03-14"  # TEST_START is 12:00 in Bangkok, a Friday
LAST_WEEK = "2031-03-07"
SUPERVISOR_PIN = "9999"


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def owner(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, str]:
    return bearer(await owner_token(client, world))


async def dashboard(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await client.get("/v1/dashboard", params=params, headers=headers)


async def board(client: httpx.AsyncClient, world: TenantWorld, store_id: str | None = None) -> Any:
    params = {"store_id": store_id or world.store_id}
    return data(await dashboard(client, await owner(client, world), **params))


async def report(client: httpx.AsyncClient, world: TenantWorld, name: str, **params: Any) -> Any:
    return data(await client.get(f"/v1/reports/{name}", params=params, headers=await owner(client, world)))


async def relogin(client: httpx.AsyncClient, world: TenantWorld, till: Till, *gates: PairedDevice) -> None:
    """Sessions last 15 minutes: after time passes everyone signs in again."""
    world.tokens.clear()
    till.device.access_token = await device_login(client, till.device.device_id, till.device.device_token)
    till.cashier = str(data(await pin_login(client, till.device, "1111"))["access_token"])
    for gate in gates:
        gate.access_token = await device_login(client, gate.device_id, gate.device_token)


async def scan(client: httpx.AsyncClient, gate: PairedDevice, qr_token: str) -> dict[str, Any]:
    answer: dict[str, Any] = data(
        await client.post(
            "/v1/tickets/redeem", json={"qr_token": qr_token}, headers=bearer(gate.access_token)
        )
    )
    return answer


async def close_shift(client: httpx.AsyncClient, till: Till, counted: int) -> dict[str, Any]:
    closed: dict[str, Any] = data(
        await client.post("/v1/shifts/close", json={"cash_counted": counted}, headers=bearer(till.cashier))
    )
    return closed


async def open_shift(client: httpx.AsyncClient, till: Till, cash_open: int) -> dict[str, Any]:
    opened: dict[str, Any] = data(
        await client.post("/v1/shifts/open", json={"cash_open": cash_open}, headers=bearer(till.cashier)), 201
    )
    return opened


async def two_fridays(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> tuple[Till, PairedDevice, dict[str, Any]]:
    """Last Friday: a cash sale and a scan at 10:00, a card sale and a scan at 15:00, the shift
    closed. Today: a new shift, cash and QR sales, a refund and two scans at 11:30; it is 12:00."""
    clock.set(TEST_START - timedelta(days=7, hours=2))  # 10:00 in Bangkok last Friday
    till = await open_till(client, world, cash_open=100_000)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    gate = await pair_device(client, world, type="GATE")
    early = data(
        await sell(client, till, "sale-lw-1", [("single", 1)], payment_method="cash", amount_tendered=10**6),
        201,
    )
    await scan(client, gate, early["tickets"][0]["qr_token"])
    clock.advance(timedelta(hours=5))  # 15:00
    await relogin(client, world, till, gate)
    late = data(await sell(client, till, "sale-lw-2", [("two_hour", 1)], payment_method="card"), 201)
    await scan(client, gate, late["tickets"][0]["qr_token"])
    expected = 100_000 + early["sale"]["amount_due"]
    await close_shift(client, till, expected)

    clock.set(TEST_START - timedelta(minutes=30))  # 11:30 today
    await relogin(client, world, till, gate)
    await open_shift(client, till, 50_000)
    cash = data(
        await sell(client, till, "sale-t-1", [("single", 2)], payment_method="cash", amount_tendered=10**6),
        201,
    )
    qr = data(await sell(client, till, "sale-t-2", [("family", 1)], payment_method="qr"), 201)
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=cash["sale"]["sale_id"])
    refunded = data(
        await refund(
            client,
            till,
            "refund-r-1",
            cash["sale"]["sale_id"],
            token,
            ticket_ids=[cash["tickets"][1]["ticket_id"]],
        ),
        201,
    )
    ticket = cash["tickets"][0]["qr_token"]
    assert (await scan(client, gate, ticket))["result"] == "pass"
    assert (await scan(client, gate, ticket))["reason"] == "duplicate_use"
    clock.set(TEST_START)  # 12:00
    await relogin(client, world, till, gate)
    return till, gate, {"lw": [early, late], "today": [cash, qr], "refund": refunded["refund"]}


async def test_today_is_the_sales_report_for_today_and_last_friday_is_compared(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    _, _, made = await two_fridays(client, world, clock)
    await projection.project_all(deps)
    shown = await board(client, world)
    assert (shown["day"], shown["compare_day"], shown["compare_until"]) == (TODAY, LAST_WEEK, "13:00")
    assert shown["as_of"] == isoformat_z(TEST_START)
    assert shown["store"] == {"store_id": world.store_id, "name": "A Main", "tz": "Asia/Bangkok"}

    today = await report(client, world, "sales", **{"from": TODAY, "to": TODAY, "store_id": world.store_id})
    assert shown["sales"]["today"] == today["totals"]
    assert today["totals"]["count"] == 2
    assert today["totals"]["refunds"] == made["refund"]["amount"] > 0
    by_type = await report(
        client,
        world,
        "sales",
        **{"from": TODAY, "to": TODAY, "store_id": world.store_id, "group_by": "payment_type"},
    )
    last_week = await report(
        client, world, "sales", **{"from": LAST_WEEK, "to": LAST_WEEK, "store_id": world.store_id}
    )
    assert shown["sales"]["last_week"] == last_week["totals"]
    assert last_week["totals"]["count"] == 2
    before_by_type = await report(
        client,
        world,
        "sales",
        **{"from": LAST_WEEK, "to": LAST_WEEK, "store_id": world.store_id, "group_by": "payment_type"},
    )
    rows = {r["group"]: {k: v for k, v in r.items() if k not in ("group", "label")} for r in by_type["rows"]}
    before_rows = {
        r["group"]: {k: v for k, v in r.items() if k not in ("group", "label")}
        for r in before_by_type["rows"]
    }
    assert [(p["payment_type"], p["label"]) for p in shown["sales"]["by_payment_type"]] == [
        ("card", "Card"),
        ("cash", "Cash"),
        ("qr", "Thai QR (PromptPay)"),
    ]
    for entry in shown["sales"]["by_payment_type"]:
        zero = dict.fromkeys(today["totals"], 0)
        assert entry["today"] == rows.get(entry["payment_type"], zero)
        assert entry["last_week"] == before_rows.get(entry["payment_type"], zero)

    # by now last week: the 10:00 sale, not the 15:00 one
    early, late = (s["sale"] for s in made["lw"])
    assert shown["sales"]["last_week_by_now"] == {
        "count": 1,
        "gross": early["subtotal"],
        "net": early["subtotal"] - early["discount_total"],
        "total": early["grand_total"],
    }
    hours = {h["hour"]: h for h in shown["hours"]}
    assert len(shown["hours"]) == 24
    assert [h for h, row in hours.items() if row["today"]["count"]] == ["11"]
    assert hours["11"]["today"]["count"] == 2
    assert hours["11"]["today"]["total"] == sum(s["sale"]["grand_total"] for s in made["today"])
    assert [h for h, row in hours.items() if row["last_week"]["count"]] == ["10", "15"]
    assert hours["15"]["last_week"]["total"] == late["grand_total"]

    throughput = await report(
        client, world, "throughput", **{"from": TODAY, "to": TODAY, "store_id": world.store_id}
    )
    scans = shown["redemptions"]
    assert scans["today"] == throughput["totals"] == {"scans": 2, "passes": 1, "fails": 1, "pass_rate": 0.5}
    assert (
        scans["top_fail_reasons"]
        == throughput["top_failure_reasons"]
        == [{"reason": "duplicate_use", "count": 1}]
    )
    assert scans["last_week"] == {"scans": 2, "passes": 2, "fails": 0, "pass_rate": 1.0}
    assert scans["last_week_by_now"] == {"scans": 1, "passes": 1, "fails": 0, "pass_rate": 1.0}


async def test_a_sale_shows_once_the_projector_has_counted_it(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    till = await open_till(client, world)
    await projection.project_all(deps)
    before = await board(client, world)
    assert before["sales"]["today"]["count"] == 0
    sold = data(await sell(client, till, "sale-s-1", [("single", 1)]), 201)
    await projection.project_all(deps)
    after = await board(client, world)
    assert after["sales"]["today"]["count"] == 1
    assert after["sales"]["today"]["total"] == sold["sale"]["grand_total"]
    assert after["open_shifts"][0]["sales_count"] == 1


async def test_open_shifts_show_the_cashier_the_device_and_the_cash_expected_now(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    till = await open_till(client, world, cash_open=80_000)
    cash = data(
        await sell(client, till, "sale-s-1", [("single", 2)], payment_method="cash", amount_tendered=10**6),
        201,
    )
    data(await sell(client, till, "sale-s-2", [("single", 1)], payment_method="card"), 201)
    moved = await client.post(
        "/v1/shifts/pay_in",
        json={"amount": 5_000, "reason": "more change"},
        headers={**bearer(till.cashier), "Idempotency-Key": "pay-in-1"},
    )
    assert moved.status_code in (200, 201), moved.text
    pay_in = 5_000
    other_till = await open_till(client, world, cash_open=20_000, pin="2222", ids=till.ids)
    await projection.project_all(deps)
    shifts = (await board(client, world))["open_shifts"]
    current = data(await client.get("/v1/shifts/current", headers=bearer(till.cashier)))
    cashier = data(
        await client.get(f"/v1/employees/{current['opened_by']}", headers=await owner(client, world))
    )
    assert [s["device_id"] for s in shifts] == [till.device.device_id, other_till.device.device_id]
    first = shifts[0]
    assert first["shift_id"] == current["shift_id"]
    assert (first["cashier_id"], first["cashier_name"]) == (current["opened_by"], cashier["name"])
    assert first["device_name"] == "POS device"
    assert first["opened_at"] == isoformat_z(TEST_START)
    assert first["cash_open"] == 80_000
    assert first["expected_cash"] == 80_000 + cash["sale"]["amount_due"] + pay_in
    assert first["sales_count"] == 2
    assert first["sales_total"] == current["totals"]["sales_total"]
    assert shifts[1]["expected_cash"] == 20_000
    # closed: gone from the dashboard
    await close_shift(client, till, first["expected_cash"])
    assert [s["device_id"] for s in (await board(client, world))["open_shifts"]] == [
        other_till.device.device_id
    ]


async def test_devices_online_offline_holding_ops_suspended_and_pending(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    admin = await owner(client, world)
    till = await open_till(client, world)
    quiet = await pair_device(client, world, type="GATE")
    holding = await pair_device(client, world, type="GATE")
    stopped = await pair_device(client, world, type="GATE")
    gone = await pair_device(client, world, type="GATE")
    elsewhere = await pair_device(client, world, type="GATE", store_id=world.other_store_id)
    op = {
        "op_id": str(ULID()),
        "type": "audit",
        "ts": isoformat_z(clock.now()),
        "payload": {"event_type": "note"},
    }
    data(
        await client.post(
            "/v1/sync/batch", json={"ops": [op], "outbox_remaining": 4}, headers=bearer(holding.access_token)
        )
    )
    data(await client.post(f"/v1/devices/{stopped.device_id}/suspend", headers=admin))
    data(await client.post(f"/v1/devices/{gone.device_id}/revoke", headers=admin))
    key = data(
        await client.post(f"/v1/stores/{world.store_id}/site_keys", json={"label": "x"}, headers=admin), 201
    )
    waiting = data(
        await client.post(
            "/v1/auth/device/register", json={"site_key": key["site_key"], "type": "KIOSK", "name": "Kiosk 1"}
        ),
        201,
    )
    clock.advance(timedelta(minutes=10))
    await relogin(client, world, till)  # the till is busy: seen just now
    devices = (await board(client, world))["devices"]
    by_id = {d["device_id"]: d for d in devices["items"]}
    assert set(by_id) == {
        till.device.device_id,
        quiet.device_id,
        holding.device_id,
        stopped.device_id,
        waiting["device_id"],
    }
    assert elsewhere.device_id not in by_id
    assert gone.device_id not in by_id
    assert (by_id[till.device.device_id]["state"], by_id[quiet.device_id]["state"]) == ("online", "offline")
    assert by_id[till.device.device_id]["last_seen_at"] == isoformat_z(clock.now())
    assert by_id[holding.device_id] | {"last_seen_at": None} == {
        "device_id": holding.device_id,
        "name": "GATE device",
        "type": "GATE",
        "status": "active",
        "state": "offline",
        "last_seen_at": None,
        "holding_ops": True,
        "outbox_remaining": 4,
        "last_sync_at": isoformat_z(clock.now() - timedelta(minutes=10)),
    }
    assert by_id[stopped.device_id]["state"] == "suspended"
    assert by_id[waiting["device_id"]]["state"] == "pending"
    counts = {k: devices[k] for k in ("online", "offline", "holding_ops", "suspended", "pending")}
    assert counts == {"online": 1, "offline": 2, "holding_ops": 1, "suspended": 1, "pending": 1}
    # an upload that empties the outbox: no longer holding
    clean = {**op, "op_id": str(ULID()), "ts": isoformat_z(clock.now())}
    holding.access_token = await device_login(client, holding.device_id, holding.device_token)
    data(
        await client.post(
            "/v1/sync/batch",
            json={"ops": [clean], "outbox_remaining": 0},
            headers=bearer(holding.access_token),
        )
    )
    again = {d["device_id"]: d for d in (await board(client, world))["devices"]["items"]}
    assert (again[holding.device_id]["holding_ops"], again[holding.device_id]["state"]) == (False, "online")


async def test_open_alerts_of_the_store_by_kind_and_the_latest(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    async def raise_one(kind: Any, cause: str, store_id: str | None) -> None:
        await alerts.raise_alert(
            deps,
            world.tenant_id,
            kind=kind,
            cause_key=cause,
            store_id=store_id,
            title=cause,
            detail="-",
            links={},
        )

    await raise_one("cash_difference", "shift-1", world.store_id)
    await raise_one("cash_difference", "shift-2", world.store_id)
    await raise_one("unsynced_ops", "device-1", world.store_id)
    await raise_one("unsynced_ops", "device-2", world.other_store_id)
    await raise_one("webhook_failing", "hook-1", None)
    await raise_one("cash_difference", "shift-3", world.store_id)
    await alerts.resolve_alert(deps, world.tenant_id, kind="cash_difference", cause_key="shift-3")
    shown = (await board(client, world))["alerts"]
    assert (shown["open"], shown["unacknowledged"]) == (4, 4)
    assert shown["by_kind"] == [
        {"kind": "cash_difference", "count": 2},
        {"kind": "unsynced_ops", "count": 1},
        {"kind": "webhook_failing", "count": 1},
    ]
    assert [a["cause_key"] for a in shown["latest"]] == ["hook-1", "device-1", "shift-2", "shift-1"]
    first = shown["latest"][-1]["alert_id"]
    data(await client.post(f"/v1/alerts/{first}/acknowledge", json={}, headers=await owner(client, world)))
    assert (await board(client, world))["alerts"]["unacknowledged"] == 3

    # a manager of this store only: its alerts, not the tenant-wide one
    password = "manager-password-1"
    person = await add_employee(
        client, world, role="Manager", pin="5151", password=password, store_id=world.store_id
    )
    manager = bearer(await login_password(client, person["email"], password))
    mine = data(await dashboard(client, manager, store_id=world.store_id))["alerts"]
    assert [a["cause_key"] for a in mine["latest"]] == ["device-1", "shift-2", "shift-1"]


async def test_another_tenant_and_another_store_are_invisible_and_a_store_not_mine_is_refused(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    till = await open_till(client, world)
    ids = till.ids
    annex = await open_till(client, world, pin="2222", ids=ids)  # a second POS, moved to the annex below
    other = await make_tenant(deps, "B")
    theirs = await open_till(client, other, pin="3333")
    data(await sell(client, till, "sale-mine-1", [("single", 1)]), 201)
    data(await sell(client, theirs, "sale-theirs-1", [("single", 3)]), 201)
    data(await sell(client, theirs, "sale-theirs-2", [("single", 3)]), 201)
    await projection.project_all(deps)
    shown = await board(client, world)
    assert shown["sales"]["today"]["count"] == 1
    assert {s["device_id"] for s in shown["open_shifts"]} == {till.device.device_id, annex.device.device_id}
    annex_board = await board(client, world, world.other_store_id)
    assert annex_board["sales"]["today"]["count"] == 0
    assert annex_board["open_shifts"] == []
    assert annex_board["devices"]["items"] == []
    assert [s["name"] for s in shown["stores"]] == ["A Annex", "A Main"]
    # without a store: the viewer's first store, by name
    default = data(await dashboard(client, await owner(client, world)))
    assert default["store"]["store_id"] == world.other_store_id

    # another tenant's store: not found; a store the manager may not see: refused
    response = await dashboard(client, await owner(client, world), store_id=other.store_id)
    assert (response.status_code, error_code(response)) == (404, "E_NOT_FOUND")
    password = "manager-password-1"
    person = await add_employee(
        client, world, role="Manager", pin="5151", password=password, store_id=world.store_id
    )
    manager = bearer(await login_password(client, person["email"], password))
    refused = await dashboard(client, manager, store_id=world.other_store_id)
    assert (refused.status_code, error_code(refused)) == (403, "E_PERMISSION")
    assert data(await dashboard(client, manager))["stores"] == [
        {"store_id": world.store_id, "name": "A Main"}
    ]
    # a cashier (no reports_view) and a device: refused
    cashier = await add_employee(client, world, role="Cashier", pin="6161", password="cashier-password-1")
    cashier_token = bearer(await login_password(client, cashier["email"], "cashier-password-1"))
    assert error_code(await dashboard(client, cashier_token)) == "E_PERMISSION"
    assert error_code(await dashboard(client, bearer(till.device.access_token))) == "E_PERMISSION"
    assert error_code(await dashboard(client, {})) == "E_UNAUTHENTICATED"


async def seed_a_year(deps: Deps, world: TenantWorld) -> None:
    """A year of summaries at the store (as the projector leaves them): per day the sales detail
    documents of 3 devices by 4 cashiers by 3 payment types, the rollups and the hourly figures."""
    docs = []
    for n in range(365):
        day = (TEST_START.date() - timedelta(days=n + 1)).isoformat()
        for family, rollup in (("sales", True), ("throughput", True), ("sales_hour", True), ("sales", False)):
            key = bucket(world.tenant_id, family, world.store_id, day, rollup=rollup)
            if rollup:
                docs.append(
                    {"_id": key, "bucket": key, "tenant_id": world.tenant_id, "day": day, "count": 10}
                )
                continue
            for d in range(3):
                for e in range(4):
                    for p in ("cash", "card", "qr"):
                        docs.append(
                            {
                                "_id": f"{key}|device_id=d{d}|employee_id=e{e}|payment_type={p}",
                                "bucket": key,
                                "tenant_id": world.tenant_id,
                                "store_id": world.store_id,
                                "day": day,
                                "payment_type": p,
                                "count": 1,
                                "net": 1_000,
                            }
                        )
    await deps.db[C.REPORT_SUMMARIES].insert_many(docs)


async def test_one_request_reads_only_by_index_whatever_the_history(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, commands: CommandRecorder
) -> None:
    await seed_a_year(deps, world)
    till = await open_till(client, world)
    for n in range(3):
        data(
            await sell(
                client, till, f"sale-s-{n}", [("single", 1)], payment_method="cash", amount_tendered=10**6
            ),
            201,
        )
    await projection.project_all(deps)
    headers = await owner(client, world)
    await dashboard(client, headers, store_id=world.store_id)  # warm: the session's own reads
    commands.start()
    started = time.perf_counter()
    shown = data(await dashboard(client, headers, store_id=world.store_id))
    elapsed = time.perf_counter() - started
    recorded = commands.stop()
    assert shown["sales"]["today"]["count"] == 3
    assert shown["sales"]["last_week"]["count"] == 36  # the seeded detail documents of that day
    assert {c.name for c in recorded} == {"find"}  # no count, no aggregation, no write
    summary_reads = [c.filter or {} for c in recorded if c.collection == C.REPORT_SUMMARIES]
    assert len(summary_reads) == 6  # sales details, throughput and hourly rollups; today and last week
    session = {C.MEMBERSHIPS, C.ROLES, C.STORES}  # who is asking, and the stores they may see
    for command in recorded:  # as the server plans each read: through an index, never a scan
        if command.collection not in session:
            where = command.filter or {}
            assert await served_by_an_index(deps.db, command.collection, where), (command.collection, where)
    assert len(recorded) <= 20, [(c.name, c.collection) for c in recorded]
    assert elapsed < 0.3, elapsed
