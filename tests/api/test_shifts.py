"""Shifts: one open per POS, cash movements, a frozen close snapshot, corrections kept as history,
(the day that reconciles three ways lives in test_reconciliation.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C, stamp
from boxoffice.core.deps import Deps
from boxoffice.sales import shifts
from tests.conftest import TEST_START
from tests.factories.identity import (
    TenantWorld,
    add_employee,
    bearer,
    data,
    login_password,
    make_tenant,
    pin_login,
)
from tests.factories.sales import Till, open_till, sell
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    return await open_till(client, world, cash_open=200_000)


async def move(
    client: httpx.AsyncClient,
    till: Till,
    kind: str,
    key: str,
    amount: int,
    reason: str = "Float top-up",
    token: str | None = None,
) -> httpx.Response:
    """A pay-in or pay-out on the till, under an Idempotency-Key."""
    return await client.post(
        f"/v1/shifts/{kind}",
        json={"amount": amount, "reason": reason},
        headers={**bearer(token or till.cashier), "Idempotency-Key": key},
    )


async def test_close_freezes_a_snapshot_with_the_cash_difference(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    cashier = bearer(till.cashier)
    await sell(client, till, "k-cash-1", [("single", 2)], payment_method="cash", amount_tendered=50_000)
    await sell(client, till, "k-card-1", [("two_hour", 1)], payment_method="card")
    data(await move(client, till, "pay_in", "key-pay-in-1", 10_000, "Change from the bank"))
    data(await move(client, till, "pay_out", "key-pay-out-1", 5_000, "Ice for the cafe"))
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
    again = await move(client, till, "pay_in", "key-pay-in-2", 1, "late")
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


async def test_pay_in_and_out_are_once_per_key_and_the_key_is_the_callers_own(
    client: httpx.AsyncClient, till: Till, world: TenantWorld, deps: Deps
) -> None:
    first = await move(client, till, "pay_in", "key-once-0001", 10_000)
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    again = await move(client, till, "pay_in", "key-once-0001", 10_000)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]  # the first answer, replayed
    assert first.json()["data"]["totals"]["pay_ins"] == 10_000
    other_body = await move(client, till, "pay_in", "key-once-0001", 20_000)
    assert error_code(other_body) == "E_IDEMPOTENCY_MISMATCH"
    other_kind = await move(client, till, "pay_out", "key-once-0001", 10_000)
    assert error_code(other_kind) == "E_IDEMPOTENCY_MISMATCH"
    missing = await client.post(
        "/v1/shifts/pay_in", json={"amount": 1, "reason": "no key"}, headers=bearer(till.cashier)
    )
    assert error_code(missing) == "E_VALIDATION"
    # Another cashier on the same POS, and another POS: the same key is their own new request.
    await add_employee(client, world, role="Cashier", pin="3333")
    colleague = data(await pin_login(client, till.device, "3333"))["access_token"]
    theirs = data(await move(client, till, "pay_in", "key-once-0001", 10_000, token=colleague))
    assert theirs["totals"]["pay_ins"] == 20_000
    other_till = await open_till(client, world, pin="4444", ids=till.ids)
    elsewhere = data(await move(client, other_till, "pay_in", "key-once-0001", 10_000))
    assert elsewhere["totals"]["pay_ins"] == 10_000  # its own shift, never the first caller's answer
    assert await deps.db[C.AUDITS].count_documents({"event_type": "shift.pay_in"}) == 3


async def test_five_concurrent_identical_pay_outs_are_applied_once(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    responses = await asyncio.gather(
        *(move(client, till, "pay_out", "key-same-pay-out", 7_000, "Bank run") for _ in range(5))
    )
    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    assert {error_code(r) for r in responses if r.status_code == 409} <= {"E_IN_PROGRESS"}
    current = data(await client.get("/v1/shifts/current", headers=bearer(till.cashier)))
    assert current["totals"]["pay_outs"] == 7_000
    assert await deps.db[C.AUDITS].count_documents({"event_type": "shift.pay_out"}) == 1
    retried = await move(client, till, "pay_out", "key-same-pay-out", 7_000, "Bank run")
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["data"]["totals"]["pay_outs"] == 7_000


async def test_pay_outs_never_take_the_drawer_below_zero_even_concurrently(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    till = await open_till(client, world, cash_open=10_000)
    await sell(client, till, "k-cash-sale-1", [("single", 1)], payment_method="cash", amount_tendered=20_000)
    await sell(client, till, "k-card-sale-1", [("single", 1)], payment_method="card")  # not in the drawer
    # The drawer: 10,000 float + 15,000 cash sale = 25,000. Five pay-outs of 6,000: four fit.
    responses = await asyncio.gather(
        *(move(client, till, "pay_out", f"key-drawer-{n:04d}", 6_000, "Safe drop") for n in range(5))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 200, 200, 409], [r.text for r in responses]
    [refused] = [r for r in responses if r.status_code == 409]
    assert error_code(refused) == "E_INSUFFICIENT_CASH"
    assert refused.json()["error"]["details"]["amount"] == 6_000
    assert refused.json()["error"]["details"]["drawer_cash"] == 1_000
    too_much = await move(client, till, "pay_out", "key-drawer-late", 1_001, "Safe drop")
    assert error_code(too_much) == "E_INSUFFICIENT_CASH"
    assert (await move(client, till, "pay_out", "key-drawer-late", 1_000, "Safe drop")).status_code == 200
    closed = data(
        await client.post("/v1/shifts/close", json={"cash_counted": 0}, headers=bearer(till.cashier))
    )
    assert closed["totals"]["pay_outs"] == 25_000
    assert closed["cash_expected"] == 0  # never below zero
    assert await deps.db[C.AUDITS].count_documents({"event_type": "shift.pay_out"}) == 5
    # A refused movement left nothing behind; its key was free to use again.
    assert await deps.db[C.CASH_MOVEMENTS].count_documents({"status": "applied"}) == 5
    assert await deps.db[C.CASH_MOVEMENTS].count_documents({"status": "pending"}) == 0


async def test_a_pay_out_whose_answer_was_lost_mid_way_is_finished_once_by_its_retry(
    client: httpx.AsyncClient, till: Till, deps: Deps, clock: FixedClock
) -> None:
    data(await move(client, till, "pay_out", "key-crashed-1", 4_000))
    # As the database would look had the request died after counting it, before finishing.
    await deps.db[C.CASH_MOVEMENTS].update_one(
        {"kind": "pay_out"}, {"$set": {"status": "pending", "lease_until": stamp(clock.now())}}
    )
    clock.advance(timedelta(seconds=1))
    finished = await move(client, till, "pay_out", "key-crashed-1", 4_000)
    assert finished.headers["idempotent-replayed"] == "true"
    assert finished.json()["data"]["totals"]["pay_outs"] == 4_000  # counted once
    stored = await deps.db[C.SHIFTS].find_one({"status": "open"})
    assert stored is not None
    assert (stored["drawer_pay_outs"], stored["drawer_seq"]) == (4_000, 1)


async def test_a_shift_opened_before_drawer_counters_starts_them_from_its_records(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    shift = await deps.db[C.SHIFTS].find_one({"status": "open"})
    assert shift is not None
    await deps.db[C.SHIFTS].update_one(
        {"_id": shift["_id"]}, {"$unset": {"drawer_seq": "", "drawer_pay_ins": "", "drawer_pay_outs": ""}}
    )
    await deps.db[C.CASH_MOVEMENTS].insert_one(
        {
            "tenant_id": shift["tenant_id"],
            "movement_id": "01LEGACYMOVEMENT0000000000",
            "shift_id": shift["shift_id"],
            "store_id": shift["store_id"],
            "kind": "pay_out",
            "amount": 150_000,
            "reason": "Before the upgrade",
            "at": stamp(TEST_START),
            "by": None,
        }
    )
    running = data(await client.get("/v1/shifts/current", headers=bearer(till.cashier)))
    assert running["totals"]["pay_outs"] == 150_000
    refused = await move(client, till, "pay_out", "key-legacy-01", 60_000)  # 200,000 - 150,000 left
    assert error_code(refused) == "E_INSUFFICIENT_CASH"
    after = data(await move(client, till, "pay_in", "key-legacy-02", 10_000))
    assert (after["totals"]["pay_ins"], after["totals"]["pay_outs"]) == (10_000, 150_000)
