"""Refunds and reprints: approved, with a reason, exactly once, never more than was paid, and the
whole story of a ticket in its timeline and the audit explorer."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from boxoffice.aftersale import refunds
from boxoffice.aftersale.schemas import RefundCreate
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from tests.factories.catalog import add_package, admin
from tests.factories.identity import (
    TenantWorld,
    add_employee,
    bearer,
    data,
    holder_of,
    login_password,
    make_tenant,
)
from tests.factories.sales import Till, approval, cashier_principal, open_till, refund, reprint, sell
from tests.helpers import error_code

SUPERVISOR_PIN = "9999"


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    opened = await open_till(client, world, cash_open=100_000)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    return opened


async def cash_sale(client: httpx.AsyncClient, till: Till, key: str, lines: list[tuple[str, int]]) -> Any:
    response = await sell(client, till, key, lines, payment_method="cash", amount_tendered=1_000_000)
    return data(response, 201)


async def current_totals(client: httpx.AsyncClient, till: Till) -> dict[str, Any]:
    totals: dict[str, Any] = data(await client.get("/v1/shifts/current", headers=bearer(till.cashier)))[
        "totals"
    ]
    return totals


async def test_a_whole_sale_refund_lands_in_the_shift_and_replays(
    client: httpx.AsyncClient, till: Till, deps: Deps, world: TenantWorld
) -> None:
    sold = await cash_sale(client, till, "sale-0001", [("single", 2), ("family", 1)])
    sale_id, paid = sold["sale"]["sale_id"], sold["sale"]["grand_total"]
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)

    first = await refund(client, till, "refund-0001", sale_id, token, reason_text="Rain")
    body = data(first, 201)
    assert body["refund"]["amount"] == paid
    assert body["refund"]["method"] == "cash"
    assert {t["status"] for t in body["tickets"]} == {"refunded"}
    assert sum(t["refunded_amount"] for t in body["tickets"]) == paid

    again = await refund(client, till, "refund-0001", sale_id, token, reason_text="Rain")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert data(again)["refund"]["refund_id"] == body["refund"]["refund_id"]
    other = await refund(client, till, "refund-0001", sale_id, token, reason_text="Other")
    assert error_code(other) == "E_IDEMPOTENCY_MISMATCH"

    totals = await current_totals(client, till)
    assert totals["refunds_total"] == paid
    assert totals["cash_refunds"] == paid
    closed = data(
        await client.post("/v1/shifts/close", json={"cash_counted": 100_000}, headers=bearer(till.cashier))
    )
    assert closed["cash_expected"] == 100_000  # float + cash sale - cash refund
    assert closed["cash_diff"] == 0
    assert await deps.db[C.REFUNDS].count_documents({}) == 1
    # the drill-down by who refunded: this cashier's refund, nobody else's
    cashier_id = body["refund"]["refunded_by"]
    headers = await admin(client, world)
    mine = data(await client.get("/v1/refunds", params={"employee_id": cashier_id}, headers=headers))
    assert [r["refund_id"] for r in mine["items"]] == [body["refund"]["refund_id"]]
    nobody = data(await client.get("/v1/refunds", params={"employee_id": "01NOBODY"}, headers=headers))
    assert nobody["items"] == []


async def test_a_refund_needs_a_fresh_approval_for_this_sale_and_a_known_reason(
    client: httpx.AsyncClient, till: Till
) -> None:
    sale_id = (await cash_sale(client, till, "sale-0001", [("single", 1)]))["sale"]["sale_id"]
    other_id = (await cash_sale(client, till, "sale-0002", [("single", 1)]))["sale"]["sale_id"]

    assert error_code(await refund(client, till, "r-000001", sale_id, "ap_made_up")) == "E_APPROVAL_REQUIRED"
    for_reprint = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=sale_id)
    assert error_code(await refund(client, till, "r-000002", sale_id, for_reprint)) == "E_APPROVAL_REQUIRED"
    for_other_sale = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=other_id)
    assert (
        error_code(await refund(client, till, "r-000003", sale_id, for_other_sale)) == "E_APPROVAL_REQUIRED"
    )
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    unknown = await refund(client, till, "r-000004", sale_id, token, reason_code="felt_like_it")
    assert error_code(unknown) == "E_VALIDATION"
    assert data(await refund(client, till, "r-000005", sale_id, token), 201)["refund"]["amount"] == 15_000
    used_again = await refund(client, till, "r-000006", other_id, token)
    assert error_code(used_again) == "E_APPROVAL_REQUIRED"  # each approval works once


async def test_the_cashier_role_alone_cannot_approve(client: httpx.AsyncClient, till: Till) -> None:
    denied = await client.post(
        "/v1/approvals/verify_pin",
        json={
            "action": "refund",
            "pin": "1111",
            "employee_id": holder_of(till.device.tenant_id, "1111"),
            "target_id": "01SOMESALE0000000000000000",
        },
        headers=bearer(till.device.access_token),
    )
    assert error_code(denied) == "E_PERMISSION"


async def test_chosen_tickets_used_ones_refused_and_never_twice(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    sold = await cash_sale(client, till, "sale-0001", [("single", 3)])
    sale_id = sold["sale"]["sale_id"]
    first, second, third = (t["ticket_id"] for t in sold["tickets"])
    await deps.db[C.TICKETS].update_one({"ticket_id": third}, {"$set": {"used": 1}})  # scanned in

    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    refused = await refund(client, till, "r-000001", sale_id, token)  # whole sale: one is used
    assert error_code(refused) == "E_CONFLICT"
    details = refused.json()["error"]["details"]
    assert details["refusals"] == [{"ticket_id": third, "reason": "already used"}]
    assert sorted(details["refundable"]) == sorted([first, second])

    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    done = data(await refund(client, till, "r-000002", sale_id, token, ticket_ids=[first]), 201)
    assert done["refund"]["lines"] == [{"ticket_id": first, "amount": 15_000}]
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    twice = await refund(client, till, "r-000003", sale_id, token, ticket_ids=[first, second])
    assert twice.json()["error"]["details"]["refusals"] == [
        {"ticket_id": first, "reason": "already refunded"}
    ]
    stranger = await refund(client, till, "r-000004", sale_id, token, ticket_ids=["01NOTINTHISSALE"])
    assert error_code(stranger) == "E_VALIDATION"


async def test_a_partly_used_multi_pass_refunds_pro_rata_or_not_at_all(
    client: httpx.AsyncClient, till: Till, world: TenantWorld, deps: Deps
) -> None:
    ten = await add_package(client, world, name="10 visits", type="multi", price=100_000, quota_or_minutes=10)
    till.ids["ten"] = ten["package_id"]
    sold = await cash_sale(client, till, "sale-0001", [("ten", 2)])
    sale_id = sold["sale"]["sale_id"]
    one, other = (t["ticket_id"] for t in sold["tickets"])
    await deps.db[C.TICKETS].update_one({"ticket_id": one}, {"$set": {"used": 3}})
    await deps.db[C.TICKETS].update_one({"ticket_id": other}, {"$set": {"used": 10}})

    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    used_up = await refund(client, till, "r-000001", sale_id, token, ticket_ids=[other])
    assert used_up.json()["error"]["details"]["refusals"][0]["reason"] == "used up"
    headers = await admin(client, world)
    data(await client.put("/v1/settings/refunds", json={"partial_use": "refuse"}, headers=headers))
    refused = await refund(client, till, "r-000002", sale_id, token, ticket_ids=[one])
    assert error_code(refused) == "E_CONFLICT"
    data(await client.put("/v1/settings/refunds", json={"partial_use": "pro_rata"}, headers=headers))
    done = data(await refund(client, till, "r-000003", sale_id, token, ticket_ids=[one]), 201)
    assert done["refund"]["amount"] == 70_000  # 7 of 10 visits left


async def test_concurrent_refunds_of_one_sale_pay_back_once(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    sold = await cash_sale(client, till, "sale-0001", [("single", 2)])
    sale_id, paid = sold["sale"]["sale_id"], sold["sale"]["grand_total"]
    tokens = [await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id) for _ in range(8)]
    answers = await asyncio.gather(
        *(refund(client, till, f"race-{n:04d}", sale_id, token) for n, token in enumerate(tokens))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    refunds = await deps.db[C.REFUNDS].find({"status": "completed"}).to_list()
    assert sum(r["amount"] for r in refunds) == paid


async def test_concurrent_retries_of_one_refund_key_refund_once(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    sale_id = (await cash_sale(client, till, "sale-0001", [("single", 2)]))["sale"]["sale_id"]
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    answers = await asyncio.gather(*(refund(client, till, "one-key-01", sale_id, token) for _ in range(8)))
    assert {a.status_code for a in answers} <= {200, 201, 409}
    assert [a.status_code for a in answers].count(201) == 1
    assert all(error_code(a) == "E_IN_PROGRESS" for a in answers if a.status_code == 409)
    assert await deps.db[C.REFUNDS].count_documents({}) == 1


async def test_a_reprint_needs_an_approval_counts_and_is_capped(
    client: httpx.AsyncClient, till: Till, world: TenantWorld
) -> None:
    ticket = (await cash_sale(client, till, "sale-0001", [("single", 1)]))["tickets"][0]
    ticket_id = ticket["ticket_id"]
    assert ticket["printed_count"] == 1
    assert (
        error_code(await reprint(client, till, "p-000001", ticket_id, "ap_nothing")) == "E_APPROVAL_REQUIRED"
    )

    token = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=ticket_id)
    done = data(await reprint(client, till, "p-000002", ticket_id, token), 201)
    assert done["ticket"]["printed_count"] == 2
    replay = await reprint(client, till, "p-000002", ticket_id, token)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert data(replay)["ticket"]["printed_count"] == 2  # not counted again

    data(
        await client.put(
            "/v1/settings/reprints",
            json={"daily_cap_per_device": 5, "daily_cap_per_staff": 1},
            headers=await admin(client, world),
        )
    )
    token = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=ticket_id)
    capped = await reprint(client, till, "p-000003", ticket_id, token)
    assert capped.status_code == 429
    assert error_code(capped) == "E_CAP_EXCEEDED"
    assert int(capped.headers["Retry-After"]) > 0
    ticket_now = data(await client.get(f"/v1/tickets/{ticket_id}", headers=bearer(till.cashier)))
    assert ticket_now["printed_count"] == 2


async def test_a_refunded_ticket_is_not_reprinted(client: httpx.AsyncClient, till: Till) -> None:
    sold = await cash_sale(client, till, "sale-0001", [("single", 1)])
    ticket_id = sold["tickets"][0]["ticket_id"]
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sold["sale"]["sale_id"])
    data(await refund(client, till, "r-000001", sold["sale"]["sale_id"], token), 201)
    token = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=ticket_id)
    refused = await reprint(client, till, "p-000001", ticket_id, token)
    assert error_code(refused) == "E_CONFLICT"


async def test_the_timeline_and_the_audit_explorer_tell_a_tickets_whole_story(
    client: httpx.AsyncClient, till: Till, world: TenantWorld, clock: FixedClock
) -> None:
    sold = await cash_sale(client, till, "sale-0001", [("single", 2)])
    sale_id, ticket_id = sold["sale"]["sale_id"], sold["tickets"][0]["ticket_id"]
    clock.advance(timedelta(minutes=1))
    token = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=ticket_id)
    clock.advance(timedelta(minutes=1))
    data(await reprint(client, till, "p-000001", ticket_id, token, reason_text="Paper ran out"), 201)
    clock.advance(timedelta(minutes=2))
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    data(await refund(client, till, "r-000001", sale_id, token, ticket_ids=[ticket_id]), 201)

    owner = bearer(await login_password(client, world.owner_email, world.owner_password))
    story = data(await client.get(f"/v1/tickets/{ticket_id}/timeline", headers=owner))
    assert story["ticket"]["status"] == "refunded"
    assert [e["kind"] for e in story["events"]] == ["issued", "audit", "printed", "refunded"]
    assert story["events"][1]["summary"] == "approval.granted"
    assert story["events"][2]["details"]["reason_text"] == "Paper ran out"

    audits = data(await client.get("/v1/audits", params={"subject_id": ticket_id}, headers=owner))["items"]
    assert [a["event_type"] for a in reversed(audits)] == [
        "sale.completed",
        "approval.granted",
        "reprint.created",
        "refund.created",
    ]
    sibling = sold["tickets"][1]["ticket_id"]
    sibling_audits = data(await client.get("/v1/audits", params={"subject_id": sibling}, headers=owner))[
        "items"
    ]
    assert [a["event_type"] for a in sibling_audits] == ["sale.completed"]
    listed = data(await client.get("/v1/refunds", params={"sale_id": sale_id}, headers=owner))["items"]
    assert [r["amount"] for r in listed] == [15_000]


async def test_an_active_ticket_past_its_validity_shows_expired(
    client: httpx.AsyncClient, till: Till, world: TenantWorld, clock: FixedClock
) -> None:
    ticket_id = (await cash_sale(client, till, "sale-0001", [("single", 1)]))["tickets"][0]["ticket_id"]
    clock.advance(timedelta(days=2))
    owner = bearer(await login_password(client, world.owner_email, world.owner_password))
    shown = data(await client.get(f"/v1/tickets/{ticket_id}", headers=owner))
    assert shown["status"] == "expired"


async def test_the_sweeper_finishes_a_refund_whose_requester_died(
    client: httpx.AsyncClient, till: Till, deps: Deps, clock: FixedClock
) -> None:
    sold = await cash_sale(client, till, "sale-0001", [("single", 2)])
    sale_id = sold["sale"]["sale_id"]
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    body = RefundCreate(sale_id=sale_id, approval_token=token, reason_code="closure")
    pending, is_new = await refunds.begin_refund(
        deps, await cashier_principal(deps, till), "r-crash-01", body
    )
    assert is_new  # written, then the API died before flipping a ticket
    assert await refunds.sweep_stale_refunds(deps) == 0  # its lease still runs
    clock.advance(timedelta(seconds=31))
    assert await refunds.sweep_stale_refunds(deps) == 1
    assert await refunds.sweep_stale_refunds(deps) == 0
    stored = await deps.db[C.REFUNDS].find_one({"refund_id": pending["refund_id"]})
    assert stored is not None
    assert (stored["status"], stored["amount"]) == ("completed", sold["sale"]["grand_total"])
    assert await deps.db[C.TICKETS].count_documents({"sale_id": sale_id, "status": "refunded"}) == 2
    retried = await refund(client, till, "r-crash-01", sale_id, token, reason_code="closure")
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert data(retried)["refund"]["refund_id"] == pending["refund_id"]
