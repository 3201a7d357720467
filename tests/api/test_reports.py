"""Reports that reconcile: summaries kept on write from the outbox, exactly once, rebuilt from the raw
records to the same figures, read back as rows and totals (JSON and CSV alike)."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ulid import ULID

from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.core.lease import Lease
from boxoffice.core.repository import Scope
from boxoffice.reports import projection
from boxoffice.reports.rebuild import rebuild_tenant
from boxoffice.reports.repository import StateRepository, SummaryRepository
from boxoffice.sales import service as sales_service
from boxoffice.sales.schemas import SaleCreate
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    add_employee,
    bearer,
    data,
    device_login,
    make_tenant,
    owner_token,
    pair_device,
    pin_login,
)
from tests.factories.sales import (
    Till,
    approval,
    cashier_principal,
    open_till,
    pending_sale,
    refund,
    reprint,
    sell,
)
from tests.helpers import error_code

SUPERVISOR_PIN = "9999"
REPORTS = ("sales", "shifts", "tickets", "refunds", "reprints", "throughput")


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    opened = await open_till(client, world, cash_open=100_000)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    return opened


@pytest.fixture
async def gate(client: httpx.AsyncClient, world: TenantWorld) -> PairedDevice:
    return await pair_device(client, world, type="GATE")


async def owner(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, str]:
    return bearer(await owner_token(client, world))


async def report(client: httpx.AsyncClient, world: TenantWorld, name: str, **params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = data(
        await client.get(f"/v1/reports/{name}", params=params, headers=await owner(client, world))
    )
    return answer


async def report_csv(
    client: httpx.AsyncClient, world: TenantWorld, name: str, **params: Any
) -> list[list[str]]:
    response = await client.get(
        f"/v1/reports/{name}/export.csv", params=params, headers=await owner(client, world)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def as_csv_cells(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_csv_matches(table: list[list[str]], answer: dict[str, Any]) -> None:
    """The CSV holds exactly the JSON's rows, then its totals."""
    header, *rows = table
    assert header[0] == "group"
    expected = [[as_csv_cells(row.get(c)) for c in header] for row in answer["rows"]]
    expected.append(["TOTAL", *(as_csv_cells(answer["totals"].get(c)) for c in header[1:])])
    assert rows == expected
    assert set(answer["totals"]) <= set(header)


async def summaries(deps: Deps, tenant_id: str) -> dict[str, dict[str, Any]]:
    docs = await SummaryRepository(deps.db, Scope(tenant_id)).all_of_tenant()
    return {str(d["_id"]): {k: v for k, v in d.items() if k != "_id"} for d in docs}


async def cash_sale(client: httpx.AsyncClient, till: Till, key: str, lines: list[tuple[str, int]]) -> Any:
    return data(await sell(client, till, key, lines, payment_method="cash", amount_tendered=1_000_000), 201)


async def scan(client: httpx.AsyncClient, gate: PairedDevice, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = data(
        await client.post("/v1/tickets/redeem", json=body, headers=bearer(gate.access_token))
    )
    return answer


async def all_sales(client: httpx.AsyncClient, world: TenantWorld) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = data(await client.get("/v1/sales", params=params, headers=await owner(client, world)))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def all_refunds(client: httpx.AsyncClient, world: TenantWorld) -> list[dict[str, Any]]:
    page = data(await client.get("/v1/refunds", params={"limit": 200}, headers=await owner(client, world)))
    items: list[dict[str, Any]] = page["items"]
    return items


TODAY = "2031-03-14"  # TEST_START is 12:00 in Bangkok that day


async def later(
    client: httpx.AsyncClient,
    world: TenantWorld,
    clock: FixedClock,
    delta: timedelta,
    till: Till | None = None,
    gate: PairedDevice | None = None,
) -> None:
    """Time passes (sessions last 15 minutes): everyone signs in again."""
    clock.advance(delta)
    world.tokens.clear()
    if till is not None:
        till.cashier = await _relogin(client, till)
    if gate is not None:
        gate.access_token = await device_login(client, gate.device_id, gate.device_token)


async def a_day_of_business(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, gate: PairedDevice, clock: FixedClock
) -> dict[str, Any]:
    """Cash and card sales, a refund, a reprint, gate scans (pass and fail), a closed shift."""
    first = await cash_sale(client, till, "sale-0001", [("single", 2), ("family", 1)])
    second = data(await sell(client, till, "sale-0002", [("two_hour", 1)], payment_method="card"), 201)
    third = await cash_sale(client, till, "sale-0003", [("single", 3)])
    await later(client, world, clock, timedelta(minutes=20), till, gate)
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=third["sale"]["sale_id"])
    refunded = data(
        await refund(
            client,
            till,
            "refund-01",
            third["sale"]["sale_id"],
            token,
            ticket_ids=[third["tickets"][0]["ticket_id"]],
        ),
        201,
    )
    ticket = first["tickets"][0]
    token = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=ticket["ticket_id"])
    data(await reprint(client, till, "reprint-01", ticket["ticket_id"], token), 201)
    await later(client, world, clock, timedelta(hours=2), till, gate)
    passed = await scan(client, gate, qr_token=ticket["qr_token"], zone="ball-pit")
    again = await scan(client, gate, qr_token=ticket["qr_token"], zone="ball-pit")
    refused = await scan(client, gate, qr_token=third["tickets"][0]["qr_token"], zone="ball-pit")
    assert (passed["result"], again["reason"], refused["reason"]) == ("pass", "duplicate_use", "refunded")
    timed = await scan(client, gate, qr_token=second["tickets"][0]["qr_token"])
    assert timed["result"] == "pass"
    await later(client, world, clock, timedelta(hours=1), till, gate)
    closed = data(
        await client.post("/v1/shifts/close", json={"cash_counted": 150_000}, headers=bearer(till.cashier))
    )
    return {"sales": [first, second, third], "refund": refunded, "shift": closed}


async def test_a_day_of_business_adds_up_to_the_satang(
    client: httpx.AsyncClient,
    world: TenantWorld,
    till: Till,
    gate: PairedDevice,
    clock: FixedClock,
    deps: Deps,
) -> None:
    day = await a_day_of_business(client, world, till, gate, clock)
    await projection.project_all(deps)

    sales = await report(client, world, "sales", **{"from": TODAY, "to": TODAY})
    listed = await all_sales(client, world)
    refunds = await all_refunds(client, world)
    totals = sales["totals"]
    assert totals["count"] == len(listed) == 3
    assert totals["gross"] == sum(s["subtotal"] for s in listed)
    assert totals["discounts"] == sum(s["discount_total"] for s in listed)
    assert totals["taxes"] == sum(s["tax_total"] for s in listed)
    assert totals["total"] == sum(s["grand_total"] for s in listed)
    assert totals["taken"] == sum(s["amount_due"] for s in listed)
    assert totals["refunds"] == sum(r["amount"] for r in refunds) == day["refund"]["refund"]["amount"] > 0
    assert totals["taken_after_refunds"] == sum(s["amount_due"] for s in listed) - sum(
        r["amount"] for r in refunds
    )
    assert [r["group"] for r in sales["rows"]] == [TODAY]
    assert sales["rows"][0] | {"group": None} == totals | {"group": None, "label": None}  # a day has no label

    by_payment = await report(
        client, world, "sales", **{"from": TODAY, "to": TODAY, "group_by": "payment_type"}
    )
    assert {r["group"]: r["taken"] for r in by_payment["rows"]} == {
        method: sum(s["amount_due"] for s in listed if s["payment_method"] == method)
        for method in ("cash", "card")
    }
    assert {r["group"]: r["label"] for r in by_payment["rows"]} == {"cash": "Cash", "card": "Card"}
    assert by_payment["totals"] == totals
    around = {"from": "2031-02-10", "to": "2031-04-30"}  # whole March read from month documents
    for name, group_by in (("sales", "payment_type"), ("throughput", "zone"), ("tickets", "package")):
        wide = await report(client, world, name, **around, group_by=group_by)
        narrow = await report(client, world, name, **{"from": TODAY, "to": TODAY, "group_by": group_by})
        assert (wide["rows"], wide["totals"]) == (narrow["rows"], narrow["totals"]), name
    by_package = await report(client, world, "sales", **{"from": TODAY, "to": TODAY, "group_by": "package"})
    assert sum(r["taken"] for r in by_package["rows"]) == totals["taken"]
    assert {r["group"]: r["label"] for r in by_package["rows"]} == {
        till.ids[p]: name
        for p, name in (("single", "Single Entry"), ("two_hour", "2-Hour Pass"), ("family", "Family Bundle"))
    }
    assert sum(r["refunds"] for r in by_package["rows"]) == totals["refunds"]
    single = await report(
        client, world, "sales", **{"from": TODAY, "to": TODAY, "package_id": till.ids["single"]}
    )
    assert single["totals"]["count"] == 2  # sales holding a Single Entry line
    assert single["totals"]["refunds"] == totals["refunds"]  # the refunded ticket was a Single Entry

    throughput = await report(client, world, "throughput", **{"from": TODAY, "to": TODAY, "group_by": "hour"})
    assert throughput["totals"] == {"scans": 4, "passes": 2, "fails": 2, "pass_rate": 0.5}
    assert len(throughput["rows"]) == 24
    assert [r for r in throughput["rows"] if r["scans"]] == [
        {"group": "14", "label": None, "scans": 4, "passes": 2, "fails": 2, "pass_rate": 0.5}
    ]
    assert throughput["top_failure_reasons"] == [
        {"reason": "duplicate_use", "count": 1},
        {"reason": "refunded", "count": 1},
    ]
    by_zone = await report(client, world, "throughput", **{"from": TODAY, "to": TODAY, "group_by": "zone"})
    assert {r["group"]: r["scans"] for r in by_zone["rows"]} == {"ball-pit": 3, "": 1}
    assert {r["group"]: r["label"] for r in by_zone["rows"]} == {"ball-pit": "Ball Pit", "": None}
    by_gate = await report(
        client,
        world,
        "throughput",
        **{"from": TODAY, "to": TODAY, "group_by": "reason", "device_id": gate.device_id},
    )
    assert {r["group"]: r["fails"] for r in by_gate["rows"]} == {"duplicate_use": 1, "refunded": 1}
    assert {r["group"]: r["label"] for r in by_gate["rows"]} == {
        "duplicate_use": "Used again",
        "refunded": "Refunded",
    }

    tickets = await report(client, world, "tickets", **{"from": TODAY, "to": TODAY, "group_by": "package"})
    issued = sum(len(s["tickets"]) for s in day["sales"])
    assert tickets["totals"]["issued"] == issued
    assert tickets["totals"]["redeemed"] == 2
    assert tickets["totals"]["uses"] == 2
    assert tickets["totals"]["refunded"] == 1
    assert tickets["totals"]["redemption_rate"] == round(2 / issued, 4)
    by_ticket_zone = await report(
        client, world, "tickets", **{"from": TODAY, "to": TODAY, "group_by": "zone"}
    )
    assert {r["group"]: r["uses"] for r in by_ticket_zone["rows"]} == {"ball-pit": 1, "": 1}

    refunds_report = await report(
        client, world, "refunds", **{"from": TODAY, "to": TODAY, "group_by": "approver"}
    )
    assert refunds_report["totals"] == {"count": 1, "tickets": 1, "amount": totals["refunds"]}
    assert [r["group"] for r in refunds_report["rows"]] == [day["refund"]["refund"]["approver_id"]]
    assert refunds_report["rows"][0]["label"].startswith("Supervisor ")  # the approver's name
    reprints_report = await report(
        client, world, "reprints", **{"from": TODAY, "to": TODAY, "group_by": "reason"}
    )
    assert reprints_report["rows"] == [{"group": "printer_jam", "label": "Printer jammed", "count": 1}]

    shifts = await report(client, world, "shifts", **{"from": TODAY, "to": TODAY})
    [row] = shifts["rows"]
    closed = day["shift"]
    assert row["group"] == closed["shift_id"]
    assert row["label"] == "POS device · Cashier " + row["label"].rsplit(" ", 1)[-1]  # the POS, who opened it
    assert (row["cash_open"], row["cash_expected"], row["cash_counted"], row["cash_diff"]) == (
        closed["cash_open"],
        closed["cash_expected"],
        closed["cash_counted"],
        closed["cash_diff"],
    )
    assert row["cash_sales"] == closed["totals"]["cash_sales"]
    assert row["cash_refunds"] == closed["totals"]["cash_refunds"] == totals["refunds"]
    assert row["reprints"] == 1

    by_store = await report(client, world, "sales", **{"from": TODAY, "to": TODAY, "group_by": "store"})
    assert [r["label"] for r in by_store["rows"]] == [
        s["name"]
        for s in data(await client.get("/v1/stores", headers=await owner(client, world)))["items"]
        if s["store_id"] == world.store_id
    ]
    for name in REPORTS:
        for group_by in (None, "store"):
            params = {"from": TODAY, "to": TODAY} | ({"group_by": group_by} if group_by else {})
            assert_csv_matches(
                await report_csv(client, world, name, **params), await report(client, world, name, **params)
            )

    drill = data(await client.get("/v1/reprints", headers=await owner(client, world)))["items"]
    assert [r["ticket_id"] for r in drill] == [day["sales"][0]["tickets"][0]["ticket_id"]]
    scans = data(
        await client.get(
            "/v1/redemptions", params={"result": "fail", "limit": 1}, headers=await owner(client, world)
        )
    )
    assert len(scans["items"]) == 1
    assert scans["next_cursor"]
    rest = data(
        await client.get(
            "/v1/redemptions",
            params={"result": "fail", "cursor": scans["next_cursor"]},
            headers=await owner(client, world),
        )
    )
    assert {s["reason"] for s in scans["items"] + rest["items"]} == {"duplicate_use", "refunded"}


async def test_rebuild_from_the_records_equals_the_projection_after_a_random_history(
    client: httpx.AsyncClient,
    world: TenantWorld,
    till: Till,
    gate: PairedDevice,
    clock: FixedClock,
    deps: Deps,
) -> None:
    rng = random.Random(14)
    sold: list[dict[str, Any]] = []
    for n in range(14):
        lines = [(rng.choice(["single", "two_hour", "family"]), rng.randint(1, 3))]
        method = rng.choice(["cash", "card", "qr"])
        extra: dict[str, Any] = {"amount_tendered": 1_000_000} if method == "cash" else {}
        sold.append(
            data(await sell(client, till, f"sale-{n:04d}", lines, payment_method=method, **extra), 201)
        )
        await later(client, world, clock, timedelta(minutes=rng.randint(5, 90)), till, gate)  # past midnight
        if rng.random() < 0.5:
            ticket = rng.choice(rng.choice(sold)["tickets"])
            await scan(
                client, gate, qr_token=ticket["qr_token"], zone=rng.choice(["ball-pit", "trampoline-a"])
            )
        if n % 5 == 4:
            victim = rng.choice(sold)
            token = await approval(
                client, till, "refund", SUPERVISOR_PIN, target_id=victim["sale"]["sale_id"]
            )
            await refund(client, till, f"refund-{n:04d}", victim["sale"]["sale_id"], token)
        if n % 4 == 3:
            ticket = rng.choice(sold[-1]["tickets"])
            token = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=ticket["ticket_id"])
            await reprint(client, till, f"reprint-{n:04d}", ticket["ticket_id"], token)
        if n == 6:  # the projector runs part-way through the history
            await projection.project_all(deps)
    data(await client.post("/v1/shifts/close", json={"cash_counted": 99_000}, headers=bearer(till.cashier)))
    await projection.project_all(deps)
    projected = await summaries(deps, world.tenant_id)
    assert projected

    rebuilt = await rebuild_tenant(deps, world.tenant_id)
    assert rebuilt.deleted == 0
    assert await summaries(deps, world.tenant_id) == projected
    again = await rebuild_tenant(deps, world.tenant_id, first_day="2031-03-14", last_day="2031-03-14")
    assert again.deleted == 0
    assert await summaries(deps, world.tenant_id) == projected

    # a wrong figure is repaired; a later event still counts once on top of the rebuilt documents
    some_id = next(iter(projected))
    await deps.db[C.REPORT_SUMMARIES].update_one({"_id": some_id}, {"$inc": {"count": 7, "scans": 7}})
    await rebuild_tenant(deps, world.tenant_id)
    assert await summaries(deps, world.tenant_id) == projected
    ticket = sold[0]["tickets"][-1]
    await scan(client, gate, qr_token=ticket["qr_token"], zone="ball-pit")
    await projection.project_all(deps)
    after_scan = await summaries(deps, world.tenant_id)
    await rebuild_tenant(deps, world.tenant_id)
    assert await summaries(deps, world.tenant_id) == after_scan


async def _relogin(client: httpx.AsyncClient, till: Till) -> str:
    token = await device_login(client, till.device.device_id, till.device.device_token)
    till.device.access_token = token
    session = data(await pin_login(client, till.device, "1111"))
    return str(session["access_token"])


async def test_retries_replays_the_sweeper_and_a_crashed_projector_count_once(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, clock: FixedClock, deps: Deps
) -> None:
    # a sale retried with its key (its answer was lost)
    first = await sell(client, till, "sale-retry", [("single", 2)], payment_method="qr")
    assert first.status_code == 201
    again = await sell(client, till, "sale-retry", [("single", 2)], payment_method="qr")
    assert again.status_code == 200
    # an offline sale whose sync batch is uploaded three times
    op = {
        "op_id": str(ULID()),
        "type": "sale",
        "ts": isoformat_z(clock.now() - timedelta(minutes=1)),
        "device_seq": 1,
        "payload": {"lines": [{"package_id": till.ids["two_hour"], "qty": 1}], "payment_method": "card"},
    }
    for _ in range(3):
        uploaded = data(
            await client.post("/v1/sync/batch", json={"ops": [op]}, headers=bearer(till.cashier))
        )["results"]
        assert uploaded[0]["status"] in ("applied", "duplicate"), uploaded
    # a sale whose requester died after writing it: the sweeper finishes it
    body = SaleCreate.model_validate(
        {"lines": [{"package_id": till.ids["single"], "qty": 1}], "payment_method": "card"}
    )
    principal = await cashier_principal(deps, till)
    await pending_sale(deps, principal, "sale-died", body)
    await projection.project_all(deps)
    pending = await report(client, world, "sales", **{"from": TODAY, "to": TODAY})
    assert pending["totals"]["count"] == 2  # a pending sale never counts
    clock.advance(timedelta(seconds=31))
    assert await sales_service.sweep_stale_sales(deps) == 1
    till.cashier = await _relogin(client, till)
    replayed = await sell(client, till, "sale-died", [("single", 1)], payment_method="card")
    assert replayed.status_code == 200

    # the projector's process dies half-way through the sale's event (after two of its sales
    # summary writes), holding the tenant's lease
    real_apply = SummaryRepository.apply
    calls = 0

    async def dying(self: SummaryRepository, change: Any, seq: int) -> bool:
        nonlocal calls
        calls += change.family == "sales"
        if calls == 3:
            raise RuntimeError("the process died")
        return await real_apply(self, change, seq)

    async def dead(*_: Any) -> None:
        return None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SummaryRepository, "apply", dying)
        patch.setattr(StateRepository, "release", dead)
        with pytest.raises(RuntimeError):
            await projection.project_all(deps, owner="first")
    state = await deps.db[C.REPORT_STATE].find_one({"_id": world.tenant_id})
    assert state is not None
    assert (state["owner"], state["inflight"]) == (
        "first",
        f"{replayed.json()['data']['sale']['sale_id']}.sale.created",
    )
    assert await projection.project_all(deps, owner="second") == 0  # the first one's lease still runs
    clock.advance(projection.TENANT_LEASE + timedelta(seconds=1))
    await projection.project_all(deps, owner="second")
    await projection.project_all(deps, owner="second")

    listed = await all_sales(client, world)
    assert len(listed) == 3
    totals = (await report(client, world, "sales", **{"from": TODAY, "to": TODAY}))["totals"]
    assert totals["count"] == 3
    assert totals["taken"] == sum(s["amount_due"] for s in listed)
    tickets = (await report(client, world, "tickets", **{"from": TODAY, "to": TODAY}))["totals"]
    assert tickets["issued"] == 4
    projected = await summaries(deps, world.tenant_id)
    await rebuild_tenant(deps, world.tenant_id)
    assert await summaries(deps, world.tenant_id) == projected


async def test_a_late_sale_lands_on_the_stores_local_day(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, clock: FixedClock, deps: Deps
) -> None:
    clock.set(datetime(2031, 3, 14, 16, 30, tzinfo=UTC))  # 23:30 in Bangkok
    world.tokens.clear()
    till.cashier = await _relogin(client, till)
    late = data(await sell(client, till, "sale-late", [("single", 1)]), 201)
    clock.set(datetime(2031, 3, 14, 17, 30, tzinfo=UTC))  # 00:30 the next day in Bangkok
    world.tokens.clear()
    till.cashier = await _relogin(client, till)
    early = data(await sell(client, till, "sale-early", [("two_hour", 1)]), 201)
    await projection.project_all(deps)
    answer = await report(client, world, "sales", **{"from": "2031-03-13", "to": "2031-03-15"})
    assert [(r["group"], r["count"], r["taken"]) for r in answer["rows"]] == [
        ("2031-03-13", 0, 0),
        ("2031-03-14", 1, late["sale"]["amount_due"]),
        ("2031-03-15", 1, early["sale"]["amount_due"]),
    ]
    assert answer["totals"]["count"] == 2


async def test_another_tenant_and_another_store_see_nothing(
    client: httpx.AsyncClient,
    world: TenantWorld,
    till: Till,
    gate: PairedDevice,
    clock: FixedClock,
    deps: Deps,
) -> None:
    await a_day_of_business(client, world, till, gate, clock)
    await projection.project_all(deps)
    other = await make_tenant(deps, "B")
    for name in REPORTS:
        answer = await report(client, other, name, **{"from": TODAY, "to": TODAY, "group_by": "store"})
        assert answer["rows"] == [], name
        leaked = await report(client, other, name, **{"from": TODAY, "to": TODAY, "store_id": world.store_id})
        assert all(not any(v for k, v in r.items() if k != "group") for r in leaked["rows"]), name
    mine = await report(
        client, world, "sales", **{"from": TODAY, "to": TODAY, "store_id": world.other_store_id}
    )
    assert mine["totals"]["count"] == 0
    assert data(await client.get("/v1/reprints", headers=await owner(client, other)))["items"] == []
    assert data(await client.get("/v1/redemptions", headers=await owner(client, other)))["items"] == []
    cashier = till.cashier
    refused = await client.get("/v1/reports/sales", headers=bearer(cashier))
    assert refused.status_code == 403


async def test_filters_and_ranges_are_checked(client: httpx.AsyncClient, world: TenantWorld) -> None:
    headers = await owner(client, world)
    for params in (
        {"from": "2031-03-15", "to": "2031-03-14"},
        {"from": "2030-01-01", "to": "2031-03-14"},
        {"group_by": "hour"},
        {"payment_type": "bitcoin"},
        {"from": "14/03/2031"},
    ):
        assert (
            error_code(await client.get("/v1/reports/sales", params=params, headers=headers))
            == "E_VALIDATION"
        )
    week = data(await client.get("/v1/reports/sales", headers=headers))
    assert (week["from_day"], week["to_day"]) == ("2031-03-08", TODAY)
    assert len(week["rows"]) == 7

    # one row per shift covers a quarter at most; a year is grouped
    year = {"from": "2030-03-15", "to": TODAY}
    listed = await client.get("/v1/reports/shifts", params=year, headers=headers)
    assert error_code(listed) == "E_VALIDATION"
    assert "at most 92 days" in listed.json()["error"]["message"]
    quarter = {"from": "2030-12-13", "to": TODAY}  # 92 days
    assert (await client.get("/v1/reports/shifts", params=quarter, headers=headers)).status_code == 200
    by_store = await client.get("/v1/reports/shifts", params={**year, "group_by": "store"}, headers=headers)
    assert by_store.status_code == 200


async def test_the_background_loop_projects_what_was_written(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    data(await sell(client, till, "sale-background", [("single", 2)]), 201)
    loop = projection.background(deps, Lease(deps.db, deps.clock, projection.LOOP, "replica-1"))
    assert await loop.step() == loop.busy_pause  # it found work
    assert (await report(client, world, "sales", **{"from": TODAY, "to": TODAY}))["totals"]["count"] == 1
    assert await deps.db[C.EVENTS].count_documents({"projected": False}) == 0
    idle = await loop.step()
    assert idle > loop.busy_pause  # nothing left: it backs off


async def test_a_corrected_count_moves_the_shifts_report_once_and_a_rebuild_agrees(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    await cash_sale(client, till, "sale-corrected", [("single", 1)])
    closed = data(
        await client.post("/v1/shifts/close", json={"cash_counted": 90_000}, headers=bearer(till.cashier))
    )
    await projection.project_all(deps)
    before = await report(client, world, "shifts", **{"from": TODAY, "to": TODAY, "group_by": "store"})
    assert before["totals"]["cash_counted"] == 90_000
    assert before["totals"]["cash_diff"] == closed["cash_diff"] < 0

    corrected = await client.post(
        f"/v1/shifts/{closed['shift_id']}/correct",
        json={"cash_counted": closed["cash_expected"], "reason": "Counted the coins twice"},
        headers=await owner(client, world),
    )
    assert corrected.status_code == 200, corrected.text
    event = await deps.db[C.EVENTS].find_one({"type": "shift.count_corrected"})
    assert event is not None
    assert (event["data"]["before"]["cash_counted"], event["data"]["after"]["cash_counted"]) == (
        90_000,
        closed["cash_expected"],
    )
    await projection.project_all(deps)
    await projection.project_all(deps)  # nothing is counted twice
    for group_by in ("shift", "store", "employee", "device", "day"):
        answer = await report(client, world, "shifts", **{"from": TODAY, "to": TODAY, "group_by": group_by})
        assert answer["totals"]["shifts"] == 1, group_by
        assert answer["totals"]["cash_counted"] == closed["cash_expected"], group_by
        assert answer["totals"]["cash_diff"] == 0, group_by
        assert answer["totals"]["cash_sales"] == closed["totals"]["cash_sales"], group_by
    [row] = (await report(client, world, "shifts", **{"from": TODAY, "to": TODAY}))["rows"]
    assert (row["group"], row["cash_diff"], row["close_at"]) == (closed["shift_id"], 0, closed["close_at"])

    projected = await summaries(deps, world.tenant_id)
    await rebuild_tenant(deps, world.tenant_id)
    assert await summaries(deps, world.tenant_id) == projected


async def test_reprints_on_a_shift_still_open_show_on_its_row_without_cash_figures(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    sold = await cash_sale(client, till, "sale-open-shift", [("single", 1)])
    ticket_id = sold["tickets"][0]["ticket_id"]
    token = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=ticket_id)
    await reprint(client, till, "reprint-open-shift", ticket_id, token)
    await projection.project_all(deps)
    answer = await report(client, world, "shifts", **{"from": TODAY, "to": TODAY})
    [row] = answer["rows"]
    assert (row["shifts"], row["reprints"], row["cash_counted"], row["close_at"]) == (0, 1, 0, None)
    assert row["open_at"] is not None
    by_store = await report(client, world, "shifts", **{"from": TODAY, "to": TODAY, "group_by": "store"})
    assert (by_store["totals"]["shifts"], by_store["totals"]["reprints"]) == (0, 1)


async def test_two_corrections_at_once_move_the_report_to_the_count_that_stands(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    """Two managers correct one shift at the same moment: each answer is the new count or a clear
    409, never a 500, and the summaries end at the count stored on the shift, counted once."""
    await cash_sale(client, till, "sale-race", [("single", 1)])
    closed = data(
        await client.post("/v1/shifts/close", json={"cash_counted": 90_000}, headers=bearer(till.cashier))
    )
    await projection.project_all(deps)
    owner_headers = await owner(client, world)
    url = f"/v1/shifts/{closed['shift_id']}/correct"
    answers = await asyncio.gather(
        *(
            client.post(url, json={"cash_counted": counted, "reason": "Recount"}, headers=owner_headers)
            for counted in (95_000, 99_000, 101_000, 97_000)
        )
    )
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    assert any(a.status_code == 200 for a in answers)
    assert all(error_code(a) == "E_CONFLICT" for a in answers if a.status_code == 409)
    stored = await deps.db[C.SHIFTS].find_one({"shift_id": closed["shift_id"]})
    assert stored is not None
    # the count that stands is the latest version's, whichever write landed last
    snapshots = await deps.db[C.SHIFT_SNAPSHOTS].find({"shift_id": closed["shift_id"]}).to_list()
    latest = max(snapshots, key=lambda snap: snap["version"])
    assert (stored["cash_counted"], stored["count_version"]) == (latest["cash_counted"], latest["version"])
    await projection.project_all(deps)
    for group_by in ("shift", "store"):
        totals = (
            await report(client, world, "shifts", **{"from": TODAY, "to": TODAY, "group_by": group_by})
        )["totals"]
        assert (totals["cash_counted"], totals["cash_diff"]) == (stored["cash_counted"], stored["cash_diff"])
    projected = await summaries(deps, world.tenant_id)
    await rebuild_tenant(deps, world.tenant_id)
    assert await summaries(deps, world.tenant_id) == projected


async def test_a_correction_overtaken_by_a_later_version_leaves_the_later_count(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    """Two corrections at once: the later version's write landed first (here: the shift already
    stands at version 9). The slower, earlier one answers 409 and moves neither the count, nor the
    report, nor the audit."""
    await cash_sale(client, till, "sale-overtaken", [("single", 1)])
    closed = data(
        await client.post("/v1/shifts/close", json={"cash_counted": 90_000}, headers=bearer(till.cashier))
    )
    owner_headers = await owner(client, world)
    url = f"/v1/shifts/{closed['shift_id']}/correct"
    first = await client.post(url, json={"cash_counted": 95_000, "reason": "Recount"}, headers=owner_headers)
    assert first.status_code == 200, first.text
    await projection.project_all(deps)
    before = await report(client, world, "shifts", **{"from": TODAY, "to": TODAY, "group_by": "store"})
    await deps.db[C.SHIFTS].update_one({"shift_id": closed["shift_id"]}, {"$set": {"count_version": 9}})

    late = await client.post(url, json={"cash_counted": 50_000, "reason": "Recount"}, headers=owner_headers)
    assert late.status_code == 409
    assert error_code(late) == "E_CONFLICT"
    stored = await deps.db[C.SHIFTS].find_one({"shift_id": closed["shift_id"]})
    assert stored is not None
    assert stored["cash_counted"] == 95_000
    await projection.project_all(deps)
    after = await report(client, world, "shifts", **{"from": TODAY, "to": TODAY, "group_by": "store"})
    assert after["totals"] == before["totals"]
    corrections = (
        await deps.db[C.AUDITS]
        .find({"tenant_id": world.tenant_id, "event_type": "shift.count_corrected"})
        .to_list()
    )
    assert [c["payload"]["after"] for c in corrections] == [95_000]
