"""Fraud Watch: a month of business driven through the API, one cashier's planted reprint spike
flagged with its explanation and nobody else; after-hours sales judged on the store's wall clock
(Bangkok, and London across the March change); a flag raised as an alert once however often the
check runs; the daily figures kept on write and rebuilt from the records to the same documents;
another tenant, a role without the permission and bad input refused."""

from __future__ import annotations

import asyncio
import random
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from ulid import ULID

from boxoffice.app import background_loops
from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.fraud import service as fraud
from boxoffice.reports import projection
from boxoffice.reports.rebuild import rebuild_tenant
from boxoffice.reports.repository import SummaryRepository
from tests.factories.catalog import demo_catalog
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    bearer,
    data,
    device_login,
    login_password,
    make_tenant,
    owner_token,
    pair_device,
)
from tests.helpers import error_code

#: The history starts here (noon in Bangkok); the spike day is 28 days later, 2031-03-14.
START = datetime(2031, 2, 14, 5, 0, tzinfo=UTC)
SPIKE_DAY = "2031-03-14"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Staff:
    """An employee signed in on their own POS, with a shift open."""

    name: str
    employee_id: str
    pin: str
    device: PairedDevice
    token: str = ""


@pytest.fixture
async def world(deps: Deps, clock: FixedClock) -> TenantWorld:
    clock.set(START)
    return await make_tenant(deps, "A")


@pytest.fixture
async def ids(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, str]:
    return await demo_catalog(client, world)


async def owner(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, str]:
    world.tokens.pop("owner", None)  # sessions last 15 minutes: the clock moves by days here
    return bearer(await owner_token(client, world))


async def hire(
    client: httpx.AsyncClient,
    world: TenantWorld,
    name: str,
    pin: str,
    *,
    role: str = "Supervisor",
    store_id: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    store = store_id or world.store_id
    body: dict[str, Any] = {
        "name": name,
        "email": f"{name.lower().replace(' ', '.')}.{ULID()}@staff.test",
        "pin": pin,
        "memberships": [{"store_id": store, "role_ids": [world.role_ids[role]]}],
    }
    if password:
        body["password"] = password
    created: dict[str, Any] = data(
        await client.post("/v1/employees", json=body, headers=await owner(client, world)), 201
    )
    return created


async def staff_on_pos(
    client: httpx.AsyncClient,
    world: TenantWorld,
    name: str,
    pin: str,
    *,
    role: str = "Supervisor",
    store_id: str | None = None,
) -> Staff:
    """A shift lead on a POS of their own: they approve their own reprints (their role may)."""
    device = await pair_device(client, world, store_id=store_id)
    person = await hire(client, world, name, pin, role=role, store_id=store_id)
    staff = Staff(name, person["employee_id"], pin, device)
    await sign_in(client, staff)
    data(await client.post("/v1/shifts/open", json={"cash_open": 0}, headers=bearer(staff.token)), 201)
    return staff


async def sign_in(client: httpx.AsyncClient, staff: Staff) -> None:
    """The POS and its cashier sign in again (sessions last 15 minutes)."""
    staff.device.access_token = await device_login(client, staff.device.device_id, staff.device.device_token)
    body = {"employee_id": staff.employee_id, "pin": staff.pin}
    signed = await client.post("/v1/employees/login", json=body, headers=bearer(staff.device.access_token))
    staff.token = data(signed)["access_token"]


async def sell(client: httpx.AsyncClient, staff: Staff, ids: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {"lines": [{"package_id": ids["single"], "qty": 1}], "payment_method": "card", **extra}
    headers = {**bearer(staff.token), "Idempotency-Key": str(ULID())}
    sold: dict[str, Any] = data(await client.post("/v1/sales", json=body, headers=headers), 201)
    return sold


async def approve(
    client: httpx.AsyncClient,
    on: Staff,
    approver: Staff,
    action: str,
    target_id: str | None = None,
    **context: Any,
) -> str:
    body: dict[str, Any] = {
        "action": action,
        "pin": approver.pin,
        "employee_id": approver.employee_id,
        "context": context,
    }
    if target_id:
        body["target_id"] = target_id
    granted = await client.post("/v1/approvals/verify_pin", json=body, headers=bearer(on.device.access_token))
    token: str = data(granted)["approval_token"]
    return token


async def reprint(client: httpx.AsyncClient, staff: Staff, ticket_id: str, times: int) -> None:
    for _ in range(times):
        token = await approve(client, staff, staff, "reprint", ticket_id)
        body = {"ticket_id": ticket_id, "approval_token": token, "reason_code": "printer_jam"}
        headers = {**bearer(staff.token), "Idempotency-Key": str(ULID())}
        data(await client.post("/v1/tickets/reprint", json=body, headers=headers), 201)


async def fraud_report(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> httpx.Response:
    return await client.get("/v1/reports/fraud", params=params, headers=headers)


async def store_day(
    client: httpx.AsyncClient, world: TenantWorld, store_id: str, day: str, **params: str
) -> dict[str, Any]:
    answer = data(
        await fraud_report(client, await owner(client, world), store_id=store_id, day=day, **params)
    )
    [store] = answer["stores"]
    assert (store["store_id"], store["day"]) == (store_id, day)
    return dict(store)


def metric(store: dict[str, Any], entity_id: str, name: str) -> dict[str, Any]:
    entity = next(e for e in store["entities"] if e["entity_id"] == entity_id)
    found: dict[str, Any] = next(m for m in entity["metrics"] if m["metric"] == name)
    return found


async def put_setting(
    client: httpx.AsyncClient, world: TenantWorld, section: str, value: Any, store_id: str | None = None
) -> None:
    params = {"store_id": store_id} if store_id else {}
    data(
        await client.put(
            f"/v1/settings/{section}", json=value, params=params, headers=await owner(client, world)
        )
    )


async def fraud_alerts(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    page = data(await client.get("/v1/alerts", params={"kind": "fraud_flag", "limit": 200}, headers=headers))
    items: list[dict[str, Any]] = page["items"]
    return items


# ---- a month of business with one planted spike --------------------------------------------------


@dataclass
class Month:
    staff: list[Staff]
    bee: Staff
    reprints: dict[str, list[int]]  # employee → reprints per day of the 28 before the spike day


async def a_month_with_a_spike(
    client: httpx.AsyncClient, world: TenantWorld, ids: dict[str, str], clock: FixedClock, deps: Deps
) -> Month:
    """Four shift leads, each on a POS, each day a sale and 0 to 2 reprints (approved by
    themselves); on the last day Bee reprints 8 times."""
    staff = [
        await staff_on_pos(client, world, name, pin)
        for name, pin in (
            ("Cashier Bee", "2101"),
            ("Cashier Ann", "2102"),
            ("Cashier Cid", "2103"),
            ("Cashier Dee", "2104"),
        )
    ]
    bee = staff[0]
    rng = random.Random(15)
    reprints: dict[str, list[int]] = {s.employee_id: [] for s in staff}
    for n in range(29):
        clock.set(START + timedelta(days=n))
        for person in staff:
            await sign_in(client, person)
            ticket = (await sell(client, person, ids))["tickets"][0]
            times = 8 if (n == 28 and person is bee) else rng.choice((0, 1, 1, 2))
            await reprint(client, person, ticket["ticket_id"], times)
            if n < 28:
                reprints[person.employee_id].append(times)
            clock.advance(timedelta(minutes=5))
    await projection.project_all(deps)
    return Month(staff, bee, reprints)


def usual(values: list[int]) -> str:
    return f"usually {statistics.fmean(values):.1f} ± {statistics.pstdev(values):.1f} a day"


async def test_a_planted_reprint_spike_is_flagged_explained_linked_and_alerted_once(
    client: httpx.AsyncClient, world: TenantWorld, ids: dict[str, str], clock: FixedClock, deps: Deps
) -> None:
    month = await a_month_with_a_spike(client, world, ids, clock, deps)
    bee = month.bee
    store = await store_day(client, world, world.store_id, SPIKE_DAY)
    assert (store["closed"], store["z_threshold"], store["floors"]["reprints"]) == (False, 3.0, 3)

    employees = [e for e in store["entities"] if e["entity"] == "employee"]
    assert sorted(e["name"] for e in employees) == [
        "Cashier Ann",
        "Cashier Bee",
        "Cashier Cid",
        "Cashier Dee",
    ]
    assert [e["name"] for e in employees if e["flagged"]] == ["Cashier Bee"]
    devices = [e for e in store["entities"] if e["entity"] == "device"]
    assert len(devices) == 4
    assert [e["entity_id"] for e in devices if e["flagged"]] == [bee.device.device_id]

    spike = metric(store, bee.employee_id, "reprints")
    history = month.reprints[bee.employee_id]
    assert spike["count"] == 8
    assert spike["baseline_mean"] == pytest.approx(statistics.fmean(history), abs=0.001)
    assert spike["baseline_stdev"] == pytest.approx(statistics.pstdev(history), abs=0.001)
    assert spike["z"] >= 3
    others_today = sorted(
        metric(store, s.employee_id, "reprints")["count"] for s in month.staff if s is not bee
    )
    assert spike["peers"] == 3
    assert spike["peer_median"] == others_today[1]
    assert spike["explanation"] == (
        f"Cashier Bee: 8 reprints today, {usual(history)}; "
        f"the store's 3 other employees that day: median {others_today[1]}"
    )
    # she approved them herself: the approvals she gave spike with them; nothing else does
    flags = {(f["name"], f["metric"]) for f in store["flags"] if f["entity"] == "employee"}
    assert flags == {("Cashier Bee", "reprints"), ("Cashier Bee", "approvals")}
    assert all(f["alert_id"] is None for f in store["flags"])  # the day is not over

    # the drill-down lists exactly her 8 reprints of the day
    [link] = spike["drill_downs"]
    listed = data(await client.get(link, headers=await owner(client, world)))["items"]
    assert len(listed) == 8
    assert {r["printed_by"] for r in listed} == {bee.employee_id}

    # the same history by device only: Bee's POS, with the day's sales beside it
    by_device = await store_day(client, world, world.store_id, SPIKE_DAY, entity="device")
    assert {e["entity"] for e in by_device["entities"]} == {"device"}
    [flag] = by_device["flags"]
    assert (flag["entity_id"], flag["metric"], flag["count"]) == (bee.device.device_id, "reprints", 8)
    pos = next(e for e in by_device["entities"] if e["entity_id"] == bee.device.device_id)
    assert (pos["sales"], pos["sales_amount"]) == (1, 15_000)

    # the day's flags become alerts once it is over, however often the check runs
    headers = await owner(client, world)
    assert await fraud_alerts(client, headers) == []
    assert await fraud.check_closed_days(deps) >= 1  # the days before the spike: nothing to raise
    assert await fraud_alerts(client, headers) == []

    clock.set(datetime(2031, 3, 14, 17, 5, tzinfo=UTC))  # 00:05 in Bangkok: inside the grace
    await fraud.check_closed_days(deps)
    assert await fraud_alerts(client, await owner(client, world)) == []
    clock.set(datetime(2031, 3, 14, 17, 30, tzinfo=UTC))  # the spike day is over
    headers = await owner(client, world)
    judged = await asyncio.gather(*(fraud.check_closed_days(deps) for _ in range(3)))  # racing
    assert sum(judged) >= 1
    raised = await fraud_alerts(client, headers)
    sightings = {a["alert_id"]: a["occurrences"] for a in raised}  # the racers each saw it
    for _ in range(3):
        assert await fraud.check_closed_days(deps) == 0  # judged already: nothing is read again
    assert {a["alert_id"]: a["occurrences"] for a in await fraud_alerts(client, headers)} == sightings
    assert sorted(
        (a["links"].get("employee_id") or a["links"].get("device_id"), a["title"]) for a in raised
    ) == sorted(
        [
            (bee.employee_id, f"Fraud Watch: Cashier Bee, 8 reprints on {SPIKE_DAY}"),
            (bee.employee_id, f"Fraud Watch: Cashier Bee, 8 approvals given on {SPIKE_DAY}"),
            (bee.device.device_id, f"Fraud Watch: POS device, 8 reprints on {SPIKE_DAY}"),
        ]
    )
    reprints = next(a for a in raised if "reprints" in a["title"] and "employee_id" in a["links"])
    assert reprints["cause_key"] == f"{world.store_id}:employee:{bee.employee_id}:reprints:{SPIKE_DAY}"
    assert reprints["detail"].startswith("Cashier Bee: 8 reprints on 2031-03-14, usually")
    listed = data(await client.get(reprints["links"]["records"], headers=headers))["items"]
    assert len(listed) == 8

    # reading the report of the closed day names the same alerts and raises nothing new
    for _ in range(2):
        store = await store_day(client, world, world.store_id, SPIKE_DAY)
    assert store["closed"] is True
    assert {f["alert_id"] for f in store["flags"]} == {a["alert_id"] for a in raised}
    again = await fraud_alerts(client, headers)
    assert {a["alert_id"]: a["occurrences"] for a in again} == sightings
    assert await deps.db[C.AUDITS].count_documents({"event_type": "alert.raised"}) == 3
    assert await deps.db[C.EVENTS].count_documents({"type": "alert.raised"}) == 3

    # a higher floor: the same z-score is no longer a spike
    await put_setting(
        client,
        world,
        "fraud",
        {"z_threshold": 3.0, "floors": {"reprints": 9, "approvals": 9}},
    )
    floored = await store_day(client, world, world.store_id, SPIKE_DAY)
    assert metric(floored, bee.employee_id, "reprints")["z"] == spike["z"]
    assert floored["flags"] == []
    assert floored["floors"]["reprints"] == 9


async def test_another_tenant_and_the_wrong_callers_see_nothing(
    client: httpx.AsyncClient, world: TenantWorld, ids: dict[str, str], clock: FixedClock, deps: Deps
) -> None:
    bee = await staff_on_pos(client, world, "Cashier Bee", "2101")
    ticket = (await sell(client, bee, ids))["tickets"][0]
    await reprint(client, bee, ticket["ticket_id"], 4)
    await projection.project_all(deps)
    day = START.date().isoformat()
    mine = await store_day(client, world, world.store_id, day)
    flagged = sorted((f["entity"], f["metric"]) for f in mine["flags"])
    assert flagged == [("device", "reprints"), ("employee", "reprints")]  # 4 against nothing

    other = await make_tenant(deps, "B")
    theirs = bearer(await login_password(client, other.owner_email, other.owner_password))
    seen = data(await fraud_report(client, theirs, day=day))["stores"]
    assert sorted(s["store_id"] for s in seen) == sorted([other.store_id, other.other_store_id])
    assert all(s["entities"] == [] and s["flags"] == [] for s in seen)
    foreign = await fraud_report(client, theirs, store_id=world.store_id, day=day)
    assert (foreign.status_code, error_code(foreign)) == (404, "E_NOT_FOUND")
    clock.advance(timedelta(days=1))
    theirs = bearer(await login_password(client, other.owner_email, other.owner_password))
    await fraud.check_closed_days(deps)
    assert len(await fraud_alerts(client, await owner(client, world))) == 2
    assert await fraud_alerts(client, theirs) == []

    # a cashier in the back office, and a device, hold no reports_view
    eve = await hire(client, world, "Cashier Eve", "2105", role="Cashier", password="cashier-password-1")
    refused = await fraud_report(
        client, bearer(await login_password(client, eve["email"], "cashier-password-1"))
    )
    assert (refused.status_code, error_code(refused)) == (403, "E_PERMISSION")
    await sign_in(client, bee)
    as_device = await fraud_report(client, bearer(bee.device.access_token))
    assert (as_device.status_code, error_code(as_device)) == (403, "E_PERMISSION")
    anonymous = await client.get("/v1/reports/fraud")
    assert (anonymous.status_code, error_code(anonymous)) == (401, "E_UNAUTHENTICATED")

    # bad input is refused in the envelope
    headers = await owner(client, world)
    for params in ({"entity": "robot"}, {"day": "2031-13-01"}, {"day": "14/02/2031"}, {"day": "2031-12-31"}):
        bad = await fraud_report(client, headers, **params)
        assert (bad.status_code, error_code(bad)) == (400, "E_VALIDATION"), params


# ---- after hours, on the store's wall clock -------------------------------------------------------


def every_day(open_: str, close: str) -> dict[str, Any]:
    return {day: {"open": open_, "close": close} for day in WEEK}


async def sell_at(
    client: httpx.AsyncClient, clock: FixedClock, staff: Staff, ids: dict[str, str], at: datetime
) -> dict[str, Any]:
    clock.set(at)
    await sign_in(client, staff)
    return await sell(client, staff, ids)


async def test_after_hours_sales_are_flagged_at_the_right_local_time_in_bangkok(
    client: httpx.AsyncClient, world: TenantWorld, ids: dict[str, str], clock: FixedClock, deps: Deps
) -> None:
    await put_setting(client, world, "hours", every_day("10:00", "20:00"), store_id=world.store_id)
    bee = await staff_on_pos(client, world, "Cashier Bee", "2101")
    local = [(9, 50), (10, 0), (19, 59), (20, 0), (21, 30)]  # Bangkok is UTC+7
    for hour, minute in local:
        await sell_at(client, clock, bee, ids, datetime(2031, 2, 15, hour - 7, minute, tzinfo=UTC))
    clock.set(datetime(2031, 2, 16, 3, 0, tzinfo=UTC))
    await projection.project_all(deps)
    store = await store_day(client, world, world.store_id, "2031-02-15")
    late = metric(store, bee.employee_id, "after_hours")
    assert (late["count"], late["amount"], late["flagged"]) == (3, 45_000, True)  # 09:50, 20:00, 21:30
    assert late["explanation"] == (
        "Cashier Bee: 3 after-hours sales (450.00 THB) on 2031-02-15, usually 0.0 ± 0.0 a day"
    )
    before_opening, after_closing = late["drill_downs"]
    listed = [
        data(await client.get(link, headers=await owner(client, world)))["items"]
        for link in (before_opening, after_closing)
    ]
    assert [[s["created_at"] for s in items] for items in listed] == [
        ["2031-02-15T02:50:00.000Z"],
        ["2031-02-15T14:30:00.000Z", "2031-02-15T13:00:00.000Z"],
    ]
    assert parse_qs(urlsplit(after_closing).query)["employee_id"] == [bee.employee_id]
    # the other store keeps the tenant's hours (open all day): its figures are its own
    annex = await store_day(client, world, world.other_store_id, "2031-02-15")
    assert annex["entities"] == []

    # the dashboard's hourly rollup: one document for the store's day, by local hour
    [hours] = await SummaryRepository(deps.db, Scope(world.tenant_id)).in_periods(
        "sales_hour", [world.store_id], "2031-02-15", "2031-02-15", rollup=True
    )
    assert {k: v for k, v in hours.items() if k.endswith("_count")} == {
        "h09_count": 1,
        "h10_count": 1,
        "h19_count": 1,
        "h20_count": 1,
        "h21_count": 1,
    }
    assert hours["h21_gross"] == hours["h21_net"] == hours["h21_total"] == 15_000


async def test_after_hours_follow_daylight_saving_in_london(
    client: httpx.AsyncClient, world: TenantWorld, ids: dict[str, str], clock: FixedClock, deps: Deps
) -> None:
    london = data(
        await client.post(
            "/v1/stores", json={"name": "A London", "tz": "Europe/London"}, headers=await owner(client, world)
        ),
        201,
    )["store_id"]
    await put_setting(client, world, "hours", every_day("10:00", "18:00"), store_id=london)
    bee = await staff_on_pos(client, world, "Cashier Bee", "2101", store_id=london)
    # Friday 28 March, GMT: 09:30 UTC is 09:30 (closed), 17:30 UTC is 17:30 (open)
    for at in (datetime(2031, 3, 28, 9, 30, tzinfo=UTC), datetime(2031, 3, 28, 17, 30, tzinfo=UTC)):
        await sell_at(client, clock, bee, ids, at)
    # Monday 31 March, BST: 09:30 UTC is 10:30 (open); 17:10 to 17:40 UTC are 18:10 to 18:40 (closed)
    for hour, minute in ((9, 30), (17, 10), (17, 20), (17, 30), (17, 40)):
        await sell_at(client, clock, bee, ids, datetime(2031, 3, 31, hour, minute, tzinfo=UTC))
    clock.set(datetime(2031, 4, 1, 12, 0, tzinfo=UTC))
    await projection.project_all(deps)

    friday = await store_day(client, world, london, "2031-03-28")
    late = metric(friday, bee.employee_id, "after_hours")
    assert (late["count"], late["flagged"]) == (1, False)  # the 09:30 sale, alone: no spike
    monday = await store_day(client, world, london, "2031-03-31")
    late = metric(monday, bee.employee_id, "after_hours")
    assert (late["count"], late["amount"], late["flagged"]) == (4, 60_000, True)
    assert str(late["explanation"]).startswith("Cashier Bee: 4 after-hours sales (600.00 THB) on 2031-03-31")
    before_opening, after_closing = late["drill_downs"]
    assert parse_qs(urlsplit(before_opening).query)["from"] == ["2031-03-30T23:00:00.000Z"]  # BST midnight
    assert parse_qs(urlsplit(before_opening).query)["to"] == ["2031-03-31T09:00:00.000Z"]  # 10:00 BST
    assert parse_qs(urlsplit(after_closing).query)["from"] == ["2031-03-31T17:00:00.000Z"]  # 18:00 BST
    listed = data(await client.get(after_closing, headers=await owner(client, world)))["items"]
    assert len(listed) == 4
    [flag] = [f for f in monday["flags"] if f["entity"] == "employee"]
    assert flag["alert_id"] is not None  # a closed day's flag is raised when the report reads it
    # the change day itself is a 23-hour day in London
    sunday = await store_day(client, world, london, "2031-03-30")
    assert sunday["entities"] == []


# ---- kept on write, rebuilt from the records ------------------------------------------------------


async def test_the_daily_figures_are_kept_on_write_and_rebuilt_to_the_same_documents(
    client: httpx.AsyncClient, world: TenantWorld, ids: dict[str, str], clock: FixedClock, deps: Deps
) -> None:
    await put_setting(client, world, "hours", every_day("10:00", "20:00"))
    lead = await staff_on_pos(client, world, "Lead Kay", "2201")
    cashier = await staff_on_pos(client, world, "Cashier Lou", "2202", role="Cashier")
    gate = await pair_device(client, world, type="GATE")
    # a manual discount the cashier may not give alone: the lead approves it
    token = await approve(client, cashier, lead, "manual_discount", amount=5_000)
    discounted = await sell(client, cashier, ids, manual_discount={"amount": 5_000}, approval_token=token)
    # a refund the lead approves, a reprint, an after-hours sale (21:00 in Bangkok)
    other = await sell(client, cashier, ids)
    token = await approve(client, cashier, lead, "refund", other["sale"]["sale_id"])
    refund = {"sale_id": other["sale"]["sale_id"], "approval_token": token, "reason_code": "customer_request"}
    headers = {**bearer(cashier.token), "Idempotency-Key": str(ULID())}
    refunded = data(await client.post("/v1/tickets/refund", json=refund, headers=headers), 201)
    ticket = discounted["tickets"][0]
    token = await approve(client, cashier, lead, "reprint", ticket["ticket_id"])
    body = {"ticket_id": ticket["ticket_id"], "approval_token": token, "reason_code": "printer_jam"}
    headers = {**bearer(cashier.token), "Idempotency-Key": str(ULID())}
    data(await client.post("/v1/tickets/reprint", json=body, headers=headers), 201)
    late = await sell_at(client, clock, cashier, ids, datetime(2031, 2, 14, 14, 0, tzinfo=UTC))
    # at the gate: offline, a pass and a second one the ticket had no use for; online, a pass and a
    # duplicate
    gate.access_token = await device_login(client, gate.device_id, gate.device_token)
    offline_at = clock.now()
    clock.advance(timedelta(minutes=5))
    ops = [
        {
            "op_id": str(ULID()),
            "type": "redemption",
            "ts": isoformat_z(offline_at + timedelta(minutes=n)),
            "payload": {"qr_token": ticket["qr_token"], "result": "pass"},
        }
        for n in (1, 2)
    ]
    uploaded = await client.post("/v1/sync/batch", json={"ops": ops}, headers=bearer(gate.access_token))
    results = data(uploaded)["results"]
    assert [(r["result"]["result"], r["result"]["offline_conflict"]) for r in results] == [
        ("pass", False),
        ("fail", True),
    ]
    scans = [
        data(
            await client.post(
                "/v1/tickets/redeem",
                json={"qr_token": late["tickets"][0]["qr_token"]},
                headers=bearer(gate.access_token),
            )
        )
        for _ in range(2)
    ]
    assert [(s["result"], s["reason"]) for s in scans] == [("pass", None), ("fail", "duplicate_use")]
    await projection.project_all(deps)

    repo = SummaryRepository(deps.db, Scope(world.tenant_id))
    docs = await repo.in_periods("activity", [world.store_id], "2031-02-14", "2031-02-14", rollup=False)
    by = {(d["entity_kind"], d["entity_id"]): d for d in docs}
    figures = (
        "sales",
        "manual_discounts",
        "manual_discounts_amount",
        "refunds",
        "refunds_amount",
        "reprints",
        "approvals",
        "approvals_amount",
        "after_hours",
        "after_hours_amount",
    )
    shown = {key: {f: int(by[key].get(f) or 0) for f in figures} for key in by if key[0] == "employee"}
    refund_amount = refunded["refund"]["amount"]
    assert shown[("employee", cashier.employee_id)] == {
        "sales": 3,
        "manual_discounts": 1,
        "manual_discounts_amount": 5_000,
        "refunds": 1,
        "refunds_amount": refund_amount,
        "reprints": 1,
        "approvals": 0,
        "approvals_amount": 0,
        "after_hours": 1,
        "after_hours_amount": 15_000,
    }
    assert shown[("employee", lead.employee_id)] == {
        "sales": 0,
        "manual_discounts": 0,
        "manual_discounts_amount": 0,
        "refunds": 0,
        "refunds_amount": 0,
        "reprints": 0,
        "approvals": 3,  # the discount, the refund, the reprint
        "approvals_amount": 5_000 + refund_amount,
        "after_hours": 0,
        "after_hours_amount": 0,
    }
    at_gate = by[("device", gate.device_id)]
    assert (at_gate["scans"], at_gate["duplicate_use"], at_gate["duplicate_use_offline"]) == (4, 2, 1)
    assert at_gate["offline_conflicts"] == 1

    everything = {str(d["_id"]): d for d in await repo.all_of_tenant()}
    rebuilt = await rebuild_tenant(deps, world.tenant_id)
    assert rebuilt.deleted == 0
    assert {str(d["_id"]): d for d in await repo.all_of_tenant()} == everything
    assert any(d["family"] == "sales_hour" for d in everything.values())


def test_the_daily_check_runs_as_a_leased_background_loop(deps: Deps) -> None:
    worker = SimpleNamespace(background_pass=None)
    names = [loop.name for loop in background_loops(deps, worker, "replica-1")]  # type: ignore[arg-type]
    assert fraud.LOOP in names
