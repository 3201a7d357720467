"""Sales: priced by the one engine, paid, ticketed with signed QR codes — once per key."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.sales import service
from boxoffice.sales.schemas import SaleCreate
from boxoffice.tickets import keys
from boxoffice.tickets.qr import verify
from boxoffice.tickets.repository import TicketRepository
from tests.factories.identity import TenantWorld, bearer, data, device_login, make_tenant, pin_login
from tests.factories.sales import Till, cashier_principal, open_till, pending_sale, sell
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    return await open_till(client, world)


async def test_a_sale_issues_signed_tickets(client: httpx.AsyncClient, till: Till, deps: Deps) -> None:
    response = await sell(
        client,
        till,
        "key-0001",
        [("single", 2), ("family", 1)],
        payment_method="cash",
        amount_tendered=100_000,
    )
    assert response.status_code == 201
    body = data(response, 201)
    sale, tickets = body["sale"], body["tickets"]
    assert sale["status"] == "completed"
    assert sale["subtotal"] == 2 * 15_000 + 49_900  # Saturday 14 March 2031: no morning price
    assert sale["change"] == 100_000 - sale["grand_total"]
    assert len(tickets) == 2 + 3  # a family bundle is 2 single entries and a 2-hour pass
    assert sum(t["price"] for t in tickets) == sale["grand_total"]
    assert sorted(t["ticket_id"] for t in tickets) == sorted(sale["ticket_ids"])
    ring = await keys.load(deps.db, deps.settings)
    for ticket in tickets:
        assert verify(ticket["qr_token"], ring.secrets) == ticket["ticket_id"]
        assert len(ticket["short_code"]) == 8
        assert ticket["valid_to"] == "2031-03-14T17:00:00.000Z"  # midnight in Bangkok, same day
    assert await deps.db[C.TICKETS].count_documents({"sale_id": sale["sale_id"]}) == 5


async def test_same_key_replays_and_a_different_body_is_refused(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    first = await sell(client, till, "key-0002", [("single", 1)])
    again = await sell(client, till, "key-0002", [("single", 1)])
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert data(again)["sale"] == data(first, 201)["sale"]
    assert data(again)["tickets"] == data(first, 201)["tickets"]
    other = await sell(client, till, "key-0002", [("single", 2)])
    assert other.status_code == 409
    assert error_code(other) == "E_IDEMPOTENCY_MISMATCH"
    assert await deps.db[C.SALES].count_documents({}) == 1


async def test_twenty_concurrent_posts_with_one_key_make_one_sale(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    responses = await asyncio.gather(*(sell(client, till, "key-0003", [("single", 3)]) for _ in range(20)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1
    assert all(r.status_code in (200, 201) or error_code(r) == "E_IN_PROGRESS" for r in responses)
    assert await deps.db[C.SALES].count_documents({}) == 1
    assert await deps.db[C.TICKETS].count_documents({}) == 3
    in_progress = [r for r in responses if r.status_code == 409]
    assert all(int(r.headers["retry-after"]) >= 1 for r in in_progress)


async def test_a_crash_between_sale_and_tickets_is_finished_by_the_retry(
    client: httpx.AsyncClient, till: Till, deps: Deps, app: object, clock: FixedClock, world: TenantWorld
) -> None:
    body = SaleCreate.model_validate(
        {"lines": [{"package_id": till.ids["single"], "qty": 4}], "payment_method": "qr"}
    )
    principal = await cashier_principal(deps, till)
    sale = await pending_sale(deps, principal, "key-0004", body)
    # The process dies after writing one ticket of four.
    await TicketRepository(deps.db, Scope(world.tenant_id)).insert_many(
        [{**sale["ticket_plan"][0], "sale_id": sale["sale_id"], "store_id": sale["store_id"]}]
    )
    busy = await sell(client, till, "key-0004", [("single", 4)], payment_method="qr")
    assert error_code(busy) == "E_IN_PROGRESS"  # the lease is still held by the dead request
    clock.advance(timedelta(seconds=31))
    till.cashier = await _relogin(client, till)
    retried = await sell(client, till, "key-0004", [("single", 4)], payment_method="qr")
    assert retried.status_code == 200
    assert data(retried)["sale"]["sale_id"] == sale["sale_id"]
    assert sorted(t["ticket_id"] for t in data(retried)["tickets"]) == sorted(sale["ticket_ids"])
    assert await deps.db[C.TICKETS].count_documents({"sale_id": sale["sale_id"]}) == 4
    assert await deps.db[C.SALES].count_documents({}) == 1


async def _relogin(client: httpx.AsyncClient, till: Till) -> str:
    token = await device_login(client, till.device.device_id, till.device.device_token)
    till.device.access_token = token
    session = data(await pin_login(client, till.device, "1111"))
    return str(session["access_token"])


async def test_the_clients_total_is_checked_not_trusted(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    response = await sell(client, till, "key-0005", [("single", 1)], client_total=100)
    assert response.status_code == 409
    assert error_code(response) == "E_CONFLICT"
    assert response.json()["error"]["details"]["quote"]["grand_total"] == 15_000
    assert await deps.db[C.SALES].count_documents({}) == 0
    short = await sell(
        client, till, "key-0006", [("single", 1)], payment_method="cash", amount_tendered=10_000
    )
    assert short.status_code == 400


async def test_no_sale_without_an_open_shift(client: httpx.AsyncClient, till: Till) -> None:
    data(await client.post("/v1/shifts/close", json={"cash_counted": 100_000}, headers=bearer(till.cashier)))
    response = await sell(client, till, "key-0007", [("single", 1)])
    assert response.status_code == 409
    assert error_code(response) == "E_NO_OPEN_SHIFT"
    missing_key = await client.post(
        "/v1/sales", json={"lines": [], "payment_method": "card"}, headers=bearer(till.cashier)
    )
    assert missing_key.status_code == 400


async def test_tickets_are_found_by_short_code_and_qr_across_a_key_rotation(
    client: httpx.AsyncClient, till: Till, deps: Deps, world: TenantWorld, app: FastAPI
) -> None:
    tickets = data(await sell(client, till, "key-0008", [("single", 1)]), 201)["tickets"]
    ticket = tickets[0]
    owner = bearer(world.tokens["owner"])
    code = ticket["short_code"]
    by_code = data(
        await client.get(
            "/v1/tickets", params={"short_code": f"{code[:4]}-{code[4:].lower()}"}, headers=owner
        )
    )["items"]
    assert [t["ticket_id"] for t in by_code] == [ticket["ticket_id"]]
    await keys.rotate(deps.db, deps.settings, deps.clock)
    await app.state.qr_keys.ring(fresh=True)  # what every replica does within 30 s
    by_qr = data(await client.get("/v1/tickets", params={"qr_token": ticket["qr_token"]}, headers=owner))[
        "items"
    ]
    assert [t["ticket_id"] for t in by_qr] == [ticket["ticket_id"]]
    new_ticket = data(await sell(client, till, "key-0009", [("single", 1)]), 201)["tickets"][0]
    assert new_ticket["qr_token"].split(".")[0] != ticket["qr_token"].split(".")[0]
    forged = ticket["qr_token"][:-4] + "AAAA"
    response = await client.get("/v1/tickets", params={"qr_token": forged}, headers=owner)
    assert response.status_code == 400
    assert error_code(response) == "E_INVALID_SIG"


async def test_the_sweeper_finishes_a_sale_whose_requester_died(
    client: httpx.AsyncClient, till: Till, deps: Deps, app: FastAPI, clock: FixedClock
) -> None:
    body = SaleCreate.model_validate(
        {"lines": [{"package_id": till.ids["two_hour"], "qty": 2}], "payment_method": "card"}
    )
    principal = await cashier_principal(deps, till)
    sale = await pending_sale(deps, principal, "key-sweep-1", body)
    assert await service.sweep_stale_sales(deps) == 0  # its lease still runs
    clock.advance(timedelta(seconds=31))
    assert await service.sweep_stale_sales(deps) == 1
    assert await service.sweep_stale_sales(deps) == 0
    stored = await deps.db[C.SALES].find_one({"sale_id": sale["sale_id"]})
    assert stored is not None
    assert stored["status"] == "completed"
    assert await deps.db[C.TICKETS].count_documents({"sale_id": sale["sale_id"]}) == 2
    till.cashier = await _relogin(client, till)
    replay = await sell(client, till, "key-sweep-1", [("two_hour", 2)])
    assert replay.status_code == 200
    assert sorted(t["ticket_id"] for t in data(replay)["tickets"]) == sorted(sale["ticket_ids"])


async def test_a_short_code_taken_by_another_ticket_is_drawn_again(
    client: httpx.AsyncClient, till: Till, deps: Deps, app: FastAPI, clock: FixedClock, world: TenantWorld
) -> None:
    body = SaleCreate.model_validate(
        {"lines": [{"package_id": till.ids["single"], "qty": 2}], "payment_method": "card"}
    )
    principal = await cashier_principal(deps, till)
    sale = await pending_sale(deps, principal, "key-collide-1", body)
    taken = sale["ticket_plan"][0]["short_code"]
    # Another sale's ticket already holds that code.
    await TicketRepository(deps.db, Scope(world.tenant_id)).insert_many(
        [{"ticket_id": "01OTHERTICKET0000000000000", "short_code": taken, "sale_id": "other"}]
    )
    clock.advance(timedelta(seconds=31))
    till.cashier = await _relogin(client, till)
    done = await sell(client, till, "key-collide-1", [("single", 2)])
    assert done.status_code == 200
    codes = [t["short_code"] for t in data(done)["tickets"]]
    assert taken not in codes
    assert len(set(codes)) == 2
    stored = await deps.db[C.TICKETS].find({"sale_id": sale["sale_id"]}).to_list()
    assert sorted(t["short_code"] for t in stored) == sorted(codes)
    replay = await sell(client, till, "key-collide-1", [("single", 2)])
    assert [t["short_code"] for t in data(replay)["tickets"]] == codes
