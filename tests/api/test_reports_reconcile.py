"""Reconciliation: a month of business made through the API reconciles four ways to the satang —
sales less refunds, shift snapshots, ticket price shares and report summaries — and a figure
changed behind the application's back (a sale's total, a ticket's price, a summary, a shift
snapshot) is named with the records behind it; by the API and by the nightly command alike."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from boxoffice import cli
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.reports import projection
from boxoffice.reports.rebuild import rebuild_tenant
from boxoffice.reports.repository import StateRepository
from tests.api.test_reports import SUPERVISOR_PIN, TODAY, a_day_of_business
from tests.factories.catalog import demo_catalog
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
from tests.factories.sales import Till, approval, open_till, refund, reprint, sell
from tests.helpers import error_code

BANGKOK = ZoneInfo("Asia/Bangkok")
MONTH: dict[str, Any] = {"from": "2031-03-01", "to": "2031-03-31"}


# ---- a venue doing business through the API ------------------------------------------------------


@dataclass
class Counter:
    """One POS (its cashier's PIN) and the store it sells at."""

    till: Till
    pin: str
    store_id: str
    open: bool = True


@dataclass
class Venue:
    """A tenant's tills and gates, driven through the API day after day."""

    client: httpx.AsyncClient
    world: TenantWorld
    clock: FixedClock
    counters: list[Counter]
    gates: list[PairedDevice]
    supervisor_pins: dict[str, str]  # store → the PIN of a supervisor there
    ids: dict[str, str]
    rng: random.Random
    sold: list[tuple[Counter, dict[str, Any]]] = field(default_factory=list)
    keys: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    def key(self, kind: str) -> str:
        return f"{kind}-{next(self.keys):05d}"

    async def relogin(self) -> None:
        """Sessions last 15 minutes: after time passes everyone signs in again."""
        self.world.tokens.clear()
        for counter in self.counters:
            device = counter.till.device
            device.access_token = await device_login(self.client, device.device_id, device.device_token)
            counter.till.cashier = data(await pin_login(self.client, device, counter.pin))["access_token"]
        for gate in self.gates:
            gate.access_token = await device_login(self.client, gate.device_id, gate.device_token)

    async def later(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        await self.relogin()

    async def next_morning(self) -> None:
        """The next local day, 10:00; every shift opens again."""
        local = self.clock.now().astimezone(BANGKOK)
        morning = datetime(local.year, local.month, local.day, 10, tzinfo=BANGKOK) + timedelta(days=1)
        self.clock.set(morning)
        await self.relogin()
        for counter in self.counters:
            if not counter.open:
                body = {"cash_open": self.rng.choice([50_000, 100_000])}
                data(
                    await self.client.post(
                        "/v1/shifts/open", json=body, headers=bearer(counter.till.cashier)
                    ),
                    201,
                )
                counter.open = True

    async def sell(self) -> dict[str, Any]:
        counter = self.rng.choice(self.counters)
        lines = [(self.rng.choice(["single", "two_hour", "family"]), self.rng.randint(1, 3))]
        if self.rng.random() < 0.3:
            lines.append((self.rng.choice(["single", "two_hour"]), 1))
        method = self.rng.choice(["cash", "card", "qr"])
        extra: dict[str, Any] = {"amount_tendered": 1_000_000} if method == "cash" else {}
        if self.rng.random() < 0.2:
            extra["promo_code"] = "WELCOME10"
        body = data(
            await sell(self.client, counter.till, self.key("sale"), lines, payment_method=method, **extra),
            201,
        )
        self.sold.append((counter, body))
        return dict(body)

    async def refund(self) -> dict[str, Any] | None:
        """A refund of a recent sale on the till that sold it (whole, or some tickets)."""
        counter, sale = self.rng.choice(self.sold[-6:])
        sale_id = sale["sale"]["sale_id"]
        context: dict[str, Any] = {}
        if sale["sale"]["payment_method"] != "cash" and self.rng.random() < 0.3:
            context["refund_method"] = "cash"
        token = await approval(
            self.client,
            counter.till,
            "refund",
            self.supervisor_pins[counter.store_id],
            target_id=sale_id,
            **context,
        )
        tickets = [t["ticket_id"] for t in sale["tickets"]]
        chosen = (
            {"ticket_ids": self.rng.sample(tickets, self.rng.randint(1, len(tickets)))}
            if self.rng.random() < 0.5
            else {}
        )
        answer = await refund(self.client, counter.till, self.key("refund"), sale_id, token, **chosen)
        if answer.status_code == 409:  # used, expired or refunded meanwhile: nothing to pay back
            return None
        return dict(data(answer, 201))

    async def reprint(self) -> None:
        counter, sale = self.rng.choice(self.sold[-4:])
        ticket = self.rng.choice(sale["tickets"])
        token = await approval(
            self.client,
            counter.till,
            "reprint",
            self.supervisor_pins[counter.store_id],
            target_id=ticket["ticket_id"],
        )
        answer = await reprint(self.client, counter.till, self.key("reprint"), ticket["ticket_id"], token)
        assert answer.status_code in (201, 409, 429), answer.text  # refunded, or the daily cap

    async def scan(self) -> dict[str, Any]:
        _, sale = self.rng.choice(self.sold[-8:])
        ticket = self.rng.choice(sale["tickets"])
        gates = [g for g in self.gates if g.store_id == sale["sale"]["store_id"]] or self.gates
        gate = self.rng.choice(gates)
        body: dict[str, Any] = {"qr_token": ticket["qr_token"]}
        zone = self.rng.choice(["ball-pit", "ball-pit", "trampoline-a", None])
        if zone:
            body["zone"] = zone
        answer: dict[str, Any] = data(
            await self.client.post("/v1/tickets/redeem", json=body, headers=bearer(gate.access_token))
        )
        return answer

    async def drawer(self) -> None:
        counter = self.rng.choice([c for c in self.counters if c.open])
        headers = {**bearer(counter.till.cashier), "Idempotency-Key": self.key("cash")}
        data(
            await self.client.post(
                "/v1/shifts/pay_in", json={"amount": 20_000, "reason": "change float"}, headers=headers
            )
        )
        headers = {**bearer(counter.till.cashier), "Idempotency-Key": self.key("cash")}
        data(
            await self.client.post(
                "/v1/shifts/pay_out", json={"amount": 5_000, "reason": "ice for the cafe"}, headers=headers
            )
        )

    async def close(self) -> None:
        for counter in self.counters:
            if counter.open:
                counted = self.rng.choice([0, 100_000, 250_000])
                data(
                    await self.client.post(
                        "/v1/shifts/close",
                        json={"cash_counted": counted},
                        headers=bearer(counter.till.cashier),
                    )
                )
                counter.open = False

    async def a_day(self, sales: int) -> None:
        """Sales through the day, a refund and a reprint or two, scans, drawer movements, shifts
        closed at night."""
        for _ in range(sales):
            await self.sell()
            if self.rng.random() < 0.6:
                await self.scan()
            await self.later(self.rng.randint(10, 50))
        await self.refund()
        if self.rng.random() < 0.7:
            await self.reprint()
        await self.drawer()
        for _ in range(self.rng.randint(1, 3)):
            await self.scan()
        await self.close()


async def a_venue(
    client: httpx.AsyncClient,
    world: TenantWorld,
    clock: FixedClock,
    rng: random.Random,
    *,
    stores: int = 1,
    tills_per_store: int = 1,
) -> Venue:
    """Tills (a POS with a cashier each, shifts open) and a gate per store, one supervisor per store."""
    ids = await demo_catalog(client, world)
    store_ids = [world.store_id, world.other_store_id][:stores]
    counters: list[Counter] = []
    gates: list[PairedDevice] = []
    supervisors: dict[str, str] = {}
    pins = iter(range(1111, 9999, 1111))
    for n, store_id in enumerate(store_ids):
        for _ in range(tills_per_store):
            pin = f"{next(pins)}"
            if store_id == world.store_id:
                till = await open_till(client, world, cash_open=100_000, pin=pin, ids=ids)
            else:
                device = await pair_device(client, world, store_id=store_id)
                await add_employee(client, world, role="Cashier", pin=pin, store_id=store_id)
                cashier = data(await pin_login(client, device, pin))["access_token"]
                body = {"cash_open": 100_000}
                data(await client.post("/v1/shifts/open", json=body, headers=bearer(cashier)), 201)
                till = Till(device, cashier, ids)
            counters.append(Counter(till, pin, store_id))
        supervisors[store_id] = SUPERVISOR_PIN if n == 0 else "8888"
        await add_employee(client, world, role="Supervisor", pin=supervisors[store_id], store_id=store_id)
        gates.append(await pair_device(client, world, type="GATE", store_id=store_id))
    return Venue(client, world, clock, counters, gates, supervisors, ids, rng)


# ---- reading the answer ---------------------------------------------------------------------------


async def reconcile(client: httpx.AsyncClient, world: TenantWorld, **params: Any) -> dict[str, Any]:
    headers = bearer(await owner_token(client, world))
    answer: dict[str, Any] = data(await client.get("/v1/reports/reconcile", params=params, headers=headers))
    return answer


def named(answer: dict[str, Any], kind: str, record_id: str) -> list[dict[str, Any]]:
    """The differences that name this record (as the one off, or among those behind it)."""
    return [
        d
        for d in answer["differences"]
        if d["record"] == {"kind": kind, "id": record_id} or {"kind": kind, "id": record_id} in d["records"]
    ]


def assert_clean(answer: dict[str, Any]) -> None:
    assert answer["differences"] == [], answer["differences"][:5]
    assert answer["clean"] is True
    assert answer["differences_total"] == 0


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


# ---- the tests ------------------------------------------------------------------------------------


async def test_a_month_of_business_reconciles_four_ways_to_the_satang(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    venue = await a_venue(client, world, clock, random.Random(1403), tills_per_store=2)
    for day in range(5):
        if day:
            await venue.next_morning()
        await venue.a_day(sales=4)
        if day == 2:  # the projector runs part-way through the month
            await projection.project_all(deps)
    await projection.project_all(deps)

    answer = await reconcile(client, world, **MONTH)
    assert_clean(answer)
    checked, figures = answer["checked"], answer["figures"]
    assert checked["sales"] == len(venue.sold) == 20
    assert checked["tickets"] == sum(len(s["tickets"]) for _, s in venue.sold)
    assert checked["refunds"] >= 3
    assert checked["shifts"] == 10
    assert checked["summaries"] > 50
    assert checked["months"] > 5
    # the period's money, each way it is kept
    assert figures["sales_taken"] == sum(s["sale"]["amount_due"] for _, s in venue.sold)
    assert figures["tickets_value"] + figures["exclusive_taxes"] + figures["fees"] == figures["sales_taken"]
    assert figures["tickets_refunded"] == figures["refunds_amount"] > 0
    assert (figures["report_taken"], figures["report_refunds"]) == (
        figures["sales_taken"],
        figures["refunds_amount"],
    )
    # every sale was made on a shift opened and closed in the month
    assert figures["shifts_sales_total"] == figures["sales_taken"]
    assert figures["shifts_refunds_total"] == figures["refunds_amount"]
    assert figures["net_taken"] == figures["sales_taken"] - figures["refunds_amount"]

    one_store = await reconcile(client, world, **MONTH, store_id=world.store_id)
    assert_clean(one_store)
    assert one_store["store_ids"] == [world.store_id]
    week = await reconcile(client, world, **{"from": "2031-03-15", "to": "2031-03-16"})
    assert_clean(week)  # a period cut through the month: its month documents still add up
    assert 0 < week["checked"]["sales"] < 20
    await rebuild_tenant(deps, world.tenant_id)  # a rebuild changes nothing a clean check looks at
    assert_clean(await reconcile(client, world, **MONTH))


@pytest.fixture
async def a_day(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> dict[str, Any]:
    """A day of business (sales, a refund, a reprint, scans, a closed shift), projected, clean."""
    till = await open_till(client, world, cash_open=100_000)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    gate = await pair_device(client, world, type="GATE")
    day = await a_day_of_business(client, world, till, gate, clock)
    await projection.project_all(deps)
    assert_clean(await reconcile(client, world, **{"from": TODAY, "to": TODAY}))
    return day


async def test_a_sale_total_changed_in_the_database_is_named(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, a_day: dict[str, Any]
) -> None:
    sale = a_day["sales"][0]["sale"]
    await deps.db[C.SALES].update_one({"_id": sale["sale_id"]}, {"$inc": {"grand_total": 100}})

    answer = await reconcile(client, world, **{"from": TODAY, "to": TODAY})
    assert answer["clean"] is False
    about = named(answer, "sale", sale["sale_id"])
    checks = {d["check"] for d in about}
    assert {"sale_totals", "ticket_shares", "shift_snapshot", "summaries"} <= checks
    totals = {d["field"]: d for d in about if d["check"] == "sale_totals"}
    assert set(totals) == {"grand_total", "amount_due"}  # the lines and what was paid no longer agree
    total = totals["grand_total"]
    assert total["record"] == {"kind": "sale", "id": sale["sale_id"]}
    assert (total["field"], total["expected"], total["found"]) == (
        "grand_total",
        sale["grand_total"],
        sale["grand_total"] + 100,
    )
    assert (total["store_id"], total["day"]) == (world.store_id, TODAY)
    summary = next(d for d in about if d["check"] == "summaries" and d["field"] == "total")
    assert summary["expected"] - summary["found"] == 100  # the records now say 100 more than counted
    shift = next(d for d in about if d["check"] == "shift_snapshot")
    assert shift["record"]["kind"] == "snapshot"
    assert answer["differences_total"] == len(answer["differences"])


async def test_a_ticket_price_changed_is_named(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, a_day: dict[str, Any]
) -> None:
    sale = a_day["sales"][1]
    ticket = sale["tickets"][0]
    await deps.db[C.TICKETS].update_one({"_id": ticket["ticket_id"]}, {"$inc": {"price": -700}})

    answer = await reconcile(client, world, **{"from": TODAY, "to": TODAY})
    shares = [d for d in named(answer, "ticket", ticket["ticket_id"]) if d["check"] == "ticket_shares"]
    assert {(d["record"]["kind"], d["field"]) for d in shares} == {
        ("ticket", "price"),
        ("sale", "tickets_price"),
    }
    price = next(d for d in shares if d["field"] == "price")
    assert (price["expected"], price["found"]) == (ticket["price"], ticket["price"] - 700)
    assert {"kind": "sale", "id": sale["sale"]["sale_id"]} in price["records"]
    value = [d for d in named(answer, "ticket", ticket["ticket_id"]) if d["check"] == "summaries"]
    assert {d["field"] for d in value} == {"value"}  # the tickets report's sold value


async def test_a_summary_altered_is_named(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, a_day: dict[str, Any]
) -> None:
    summary = await deps.db[C.REPORT_SUMMARIES].find_one(
        {"tenant_id": world.tenant_id, "family": "refunds", "rollup": False, "day": TODAY}
    )
    assert summary is not None
    await deps.db[C.REPORT_SUMMARIES].update_one({"_id": summary["_id"]}, {"$inc": {"amount": 5_000}})

    answer = await reconcile(client, world, **{"from": TODAY, "to": TODAY})
    [off] = [d for d in answer["differences"] if d["record"] == {"kind": "summary", "id": summary["_id"]}]
    assert (off["check"], off["field"], off["found"] - off["expected"]) == ("summaries", "amount", 5_000)
    assert {"kind": "refund", "id": a_day["refund"]["refund"]["refund_id"]} in off["records"]
    month = [d for d in answer["differences"] if d["day"] == TODAY[:7]]  # the month no longer adds up
    assert [(d["field"], d["expected"] - d["found"]) for d in month] == [("amount", 5_000)]
    assert {"kind": "summary", "id": summary["_id"]} in month[0]["records"]
    assert answer["differences_total"] == 2


async def test_a_shift_snapshot_altered_is_named(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, a_day: dict[str, Any]
) -> None:
    shift_id = a_day["shift"]["shift_id"]
    await deps.db[C.SHIFT_SNAPSHOTS].update_one(
        {"tenant_id": world.tenant_id, "shift_id": shift_id, "version": 1},
        {"$inc": {"totals.cash_sales": 2_500}},
    )

    answer = await reconcile(client, world, **{"from": TODAY, "to": TODAY})
    off = [d for d in answer["differences"] if d["check"] == "shift_snapshot"]
    assert off
    assert all({"kind": "shift", "id": shift_id} in d["records"] for d in off)
    snapshot = {"kind": "snapshot", "id": f"{shift_id}#v1"}
    fields = {(d["record"]["kind"], d["field"]) for d in off}
    assert ("snapshot", "totals.cash_sales") in fields  # against the sales recorded on the shift
    assert ("snapshot", "cash_expected") in fields  # its own arithmetic no longer holds
    assert ("shift", "totals.cash_sales") in fields  # the shift no longer shows its snapshot
    recorded = next(d for d in off if d["field"] == "totals.cash_sales" and d["record"] == snapshot)
    assert recorded["found"] - recorded["expected"] == 2_500
    assert not [d for d in answer["differences"] if d["check"] != "shift_snapshot"]


async def test_another_tenant_sees_none_of_it_and_a_cashier_is_refused(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    till = await open_till(client, world, cash_open=100_000)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    gate = await pair_device(client, world, type="GATE")
    day = await a_day_of_business(client, world, till, gate, clock)
    await projection.project_all(deps)
    sale_id = day["sales"][0]["sale"]["sale_id"]
    await deps.db[C.SALES].update_one({"_id": sale_id}, {"$inc": {"grand_total": 1}})
    mine = await reconcile(client, world, **{"from": TODAY, "to": TODAY})
    assert named(mine, "sale", sale_id)

    other = await make_tenant(deps, "B")
    theirs_response = await client.get(
        "/v1/reports/reconcile",
        params={"from": TODAY, "to": TODAY},
        headers=bearer(await owner_token(client, other)),
    )
    theirs = data(theirs_response)
    assert_clean(theirs)
    assert all(n == 0 for n in theirs["checked"].values() if n != theirs["checked"]["months"])
    assert sorted(theirs["store_ids"]) == sorted([other.store_id, other.other_store_id])
    for secret in (world.tenant_id, world.store_id, sale_id):
        assert secret not in theirs_response.text
    foreign = await client.get(
        "/v1/reports/reconcile",
        params={"from": TODAY, "to": TODAY, "store_id": world.store_id},
        headers=bearer(await owner_token(client, other)),
    )
    assert (foreign.status_code, error_code(foreign)) == (404, "E_NOT_FOUND")

    world.tokens.clear()
    till.cashier = data(await pin_login(client, till.device, "1111"))["access_token"]
    refused = await client.get("/v1/reports/reconcile", headers=bearer(till.cashier))
    assert (refused.status_code, error_code(refused)) == (403, "E_PERMISSION")
    for params in (
        {"from": "2031-03-15", "to": "2031-03-14"},
        {"from": "2030-01-01", "to": TODAY},
        {"to": "14/03/2031"},
    ):
        bad = await client.get(
            "/v1/reports/reconcile", params=params, headers=bearer(await owner_token(client, world))
        )
        assert error_code(bad) == "E_VALIDATION", params


async def test_the_nightly_command_exits_1_on_a_difference_and_0_when_clean(
    client: httpx.AsyncClient,
    world: TenantWorld,
    deps: Deps,
    a_day: dict[str, Any],
    base_env: dict[str, str],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in base_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli, "SystemClock", lambda: clock)  # the command reads the test's time
    argv = ["reports", "reconcile", "--tenant", world.tenant_id, "--from", TODAY, "--to", TODAY]

    assert await asyncio.to_thread(cli.main, argv) == 0
    printed = capsys.readouterr().out
    assert f"tenant {world.tenant_id}: {TODAY}..{TODAY}" in printed
    assert "clean" in printed

    sale_id = a_day["sales"][2]["sale"]["sale_id"]
    await deps.db[C.SALES].update_one({"_id": sale_id}, {"$inc": {"subtotal": 300}})
    assert await asyncio.to_thread(cli.main, argv) == 1
    printed = capsys.readouterr().out
    assert "DIFFERENCES" in printed
    assert f"sale_totals: sale {sale_id} subtotal" in printed
    assert await asyncio.to_thread(cli.main, [*argv, "--store", world.other_store_id]) == 0  # not that store
    assert (
        await asyncio.to_thread(cli.main, ["reports", "reconcile", "--from", "2031-03-15", "--to", TODAY])
        == 2
    )


async def test_a_check_while_a_rebuild_holds_the_summaries_answers_in_progress_and_changes_nothing(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    """A long rebuild holds the tenant's projector lease: reconcile waits (10 s), then says to come
    back rather than compare summaries that are being rewritten."""
    state = StateRepository(deps.db, Scope(world.tenant_id))
    now = clock.now()
    assert await state.take_lease("rebuild", now, now + timedelta(hours=1)) is not None
    owner = bearer(await owner_token(client, world))
    busy = await client.get("/v1/reports/reconcile", params={"from": TODAY, "to": TODAY}, headers=owner)
    assert (busy.status_code, error_code(busy)) == (409, "E_IN_PROGRESS")
    assert busy.headers["retry-after"] == "5"
    held = await deps.db[C.REPORT_STATE].find_one({"_id": world.tenant_id})
    assert held is not None
    assert held["owner"] == "rebuild"  # the rebuild keeps its lease
    await state.release("rebuild", now)
    free = await client.get("/v1/reports/reconcile", params={"from": TODAY, "to": TODAY}, headers=owner)
    assert free.status_code == 200, free.text
    assert_clean(data(free))
