"""Money integrity, tried as a dishonest cashier or a clumsy client would: one approval buys one
thing of the size it names, a POS sells only through a signed-in cashier, every setting bites,
Idempotency-Keys belong to their caller, and no sale is larger than the store allows."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.sales import service
from tests.factories.catalog import add_package, admin, demo_catalog
from tests.factories.identity import (
    TenantWorld,
    add_employee,
    bearer,
    data,
    holder_of,
    make_tenant,
    pair_device,
    pin_login,
)
from tests.factories.sales import Till, approval, open_till, refund, sell
from tests.helpers import error_code

SUPERVISOR_PIN = "9999"


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    opened = await open_till(client, world)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    return opened


async def put_setting(
    client: httpx.AsyncClient, world: TenantWorld, section: str, value: Any, store_id: str | None = None
) -> None:
    params = {"store_id": store_id} if store_id else None
    data(
        await client.put(
            f"/v1/settings/{section}", json=value, headers=await admin(client, world), params=params
        )
    )


async def effective(client: httpx.AsyncClient, world: TenantWorld, section: str) -> Any:
    values = data(
        await client.get(
            "/v1/settings/effective", params={"store_id": world.store_id}, headers=await admin(client, world)
        )
    )["values"]
    return values[section]


# ---- one approval, one thing ---------------------------------------------------------------------


async def test_one_discount_approval_under_concurrent_sales_funds_one_and_the_sweeper_adds_none(
    client: httpx.AsyncClient, till: Till, deps: Deps, clock: FixedClock
) -> None:
    token = await approval(client, till, "manual_discount", SUPERVISOR_PIN, amount=5_000)
    answers = await asyncio.gather(
        *(
            sell(
                client,
                till,
                f"disc-{n:04d}",
                [("single", 1)],
                manual_discount={"amount": 5_000},
                approval_token=token,
            )
            for n in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] + [403] * 5
    assert {error_code(a) for a in answers if a.status_code == 403} == {"E_APPROVAL_REQUIRED"}
    assert await deps.db[C.SALES].count_documents({}) == 1  # refused sales were never written
    clock.advance(timedelta(minutes=5))
    assert await service.sweep_stale_sales(deps) == 0
    assert await deps.db[C.SALES].count_documents({}) == 1
    assert await deps.db[C.TICKETS].count_documents({}) == 1
    sold = next(a for a in answers if a.status_code == 201)
    assert data(sold, 201)["sale"]["discount_total"] == 5_000


async def test_a_discount_approval_covers_only_the_size_it_names(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    token = await approval(client, till, "manual_discount", SUPERVISOR_PIN, amount=3_000)
    bigger = await sell(
        client, till, "disc-big-1", [("single", 1)], manual_discount={"amount": 3_001}, approval_token=token
    )
    assert error_code(bigger) == "E_APPROVAL_REQUIRED"
    percent = await sell(
        client, till, "disc-pct-1", [("single", 1)], manual_discount={"percent_bp": 100}, approval_token=token
    )
    assert error_code(percent) == "E_APPROVAL_REQUIRED"  # an amount approval is no percent approval
    smaller = await sell(
        client, till, "disc-ok-01", [("single", 1)], manual_discount={"amount": 2_000}, approval_token=token
    )
    assert data(smaller, 201)["sale"]["discount_total"] == 2_000
    assert await deps.db[C.SALES].count_documents({}) == 1
    unnamed = await client.post(
        "/v1/approvals/verify_pin",
        json={
            "action": "manual_discount",
            "pin": SUPERVISOR_PIN,
            "employee_id": holder_of(till.device.tenant_id, SUPERVISOR_PIN),
        },
        headers=bearer(till.device.access_token),
    )
    assert error_code(unnamed) == "E_VALIDATION"  # a blank cheque is not issued


async def test_refund_and_reprint_approvals_always_name_their_target(
    client: httpx.AsyncClient, till: Till
) -> None:
    for action in ("refund", "reprint"):
        blank = await client.post(
            "/v1/approvals/verify_pin",
            json={
                "action": action,
                "pin": SUPERVISOR_PIN,
                "employee_id": holder_of(till.device.tenant_id, SUPERVISOR_PIN),
            },
            headers=bearer(till.device.access_token),
        )
        assert error_code(blank) == "E_VALIDATION"


# ---- a POS sells through its cashier; a kiosk only while kiosks are on ----------------------------


async def test_a_bare_pos_token_cannot_sell_open_shifts_refund_or_reprint(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    bare = bearer(till.device.access_token)
    lines = [{"package_id": till.ids["single"], "qty": 1}]
    sold = await client.post(
        "/v1/sales",
        json={"lines": lines, "payment_method": "other"},
        headers={**bare, "Idempotency-Key": "bare-sale-1"},
    )
    assert (sold.status_code, error_code(sold)) == (403, "E_PERMISSION")
    assert "Sign in" in sold.json()["error"]["message"]
    other_pos = await pair_device(client, world)
    opened = await client.post(
        "/v1/shifts/open", json={"cash_open": 0}, headers=bearer(other_pos.access_token)
    )
    assert error_code(opened) == "E_PERMISSION"
    refunded = await client.post(
        "/v1/tickets/refund",
        json={"sale_id": "x" * 26, "approval_token": "ap_x", "reason_code": "customer_request"},
        headers={**bare, "Idempotency-Key": "bare-refund-1"},
    )
    assert error_code(refunded) == "E_PERMISSION"
    reprinted = await client.post(
        "/v1/tickets/reprint",
        json={"ticket_id": "x" * 26, "approval_token": "ap_x", "reason_code": "printer_jam"},
        headers={**bare, "Idempotency-Key": "bare-reprint-1"},
    )
    assert error_code(reprinted) == "E_PERMISSION"
    assert await deps.db[C.SALES].count_documents({}) == 0
    assert await deps.db[C.SHIFTS].count_documents({"device_id": other_pos.device_id}) == 0


async def test_a_kiosk_sells_as_itself_only_while_the_kiosk_feature_is_on(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    ids = await demo_catalog(client, world)
    kiosk = await pair_device(client, world, type="KIOSK")
    body = {"lines": [{"package_id": ids["single"], "qty": 1}], "payment_method": "card"}
    sold = data(
        await client.post(
            "/v1/sales", json=body, headers={**bearer(kiosk.access_token), "Idempotency-Key": "kiosk-0001"}
        ),
        201,
    )
    assert sold["sale"]["issued_by"] == kiosk.device_id
    features = await effective(client, world, "features")
    await put_setting(client, world, "features", {**features, "kiosk": False}, store_id=world.store_id)
    refused = await client.post(
        "/v1/sales", json=body, headers={**bearer(kiosk.access_token), "Idempotency-Key": "kiosk-0002"}
    )
    assert (refused.status_code, error_code(refused)) == (403, "E_PERMISSION")
    assert "Kiosk sales are turned off" in refused.json()["error"]["message"]
    assert await deps.db[C.SALES].count_documents({}) == 1


# ---- payment types: off means refused; fees on the sale, shift and receipt --------------------------


async def test_a_disabled_payment_type_is_refused_with_its_own_code(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    refused = await sell(
        client, till, "other-0001", [("single", 1)], payment_method="other"
    )  # off by default
    assert (refused.status_code, error_code(refused)) == (422, "E_PAYMENT_DISABLED")
    types = await effective(client, world, "payment_types")
    await put_setting(client, world, "payment_types", [{**t, "enabled": t["code"] != "card"} for t in types])
    assert error_code(await sell(client, till, "card-0001", [("single", 1)])) == "E_PAYMENT_DISABLED"
    quoted = await client.post(
        "/v1/pricing/quote",
        json={
            "store_id": world.store_id,
            "lines": [{"package_id": till.ids["single"], "qty": 1}],
            "payment_method": "card",
        },
        headers=bearer(till.cashier),
    )
    assert error_code(quoted) == "E_PAYMENT_DISABLED"
    assert await deps.db[C.SALES].count_documents({}) == 0


async def test_payment_fees_appear_on_the_quote_sale_shift_and_receipt(
    client: httpx.AsyncClient, world: TenantWorld, till: Till
) -> None:
    types = await effective(client, world, "payment_types")
    card_fee = {"fee_bp": 150, "fee_satang": 500}  # 1.5 % + ฿5
    await put_setting(
        client, world, "payment_types", [{**t, **card_fee} if t["code"] == "card" else t for t in types]
    )
    quote = data(
        await client.post(
            "/v1/pricing/quote",
            json={
                "store_id": world.store_id,
                "lines": [{"package_id": till.ids["single"], "qty": 2}],
                "payment_method": "card",
            },
            headers=bearer(till.cashier),
        )
    )
    assert (quote["grand_total"], quote["payment_fee"], quote["amount_due"]) == (30_000, 950, 30_950)
    sale = data(await sell(client, till, "fee-card-1", [("single", 2)], client_total=30_000), 201)["sale"]
    assert (sale["grand_total"], sale["fee_total"], sale["amount_due"]) == (30_000, 950, 30_950)
    cash = data(
        await sell(
            client, till, "fee-cash-1", [("single", 1)], payment_method="cash", amount_tendered=15_000
        ),
        201,
    )["sale"]
    assert (cash["fee_total"], cash["change"]) == (0, 0)  # cash has no fee here
    totals = data(await client.get("/v1/shifts/current", headers=bearer(till.cashier)))["totals"]
    assert totals["by_payment_type"]["card"] == 30_950
    assert (totals["sales_total"], totals["fees_total"]) == (45_950, 950)
    receipt = data(await client.get(f"/v1/sales/{sale['sale_id']}/receipt", headers=bearer(till.cashier)))[
        "text"
    ]
    assert "Card fee" in receipt
    assert "TO PAY" in receipt
    assert "309.50" in receipt
    owner = await admin(client, world)
    csv_text = (await client.get("/v1/sales/export.csv", headers=owner)).text
    header, *rows = csv_text.strip().splitlines()
    assert "fee_total" in header.split(",")
    assert any(",950,30950," in row for row in rows)


async def test_multi_price_uses_the_store_price_only_while_it_is_on(
    client: httpx.AsyncClient, world: TenantWorld, till: Till
) -> None:
    package = await add_package(
        client, world, name="Local Pass", price=20_000, store_prices={world.store_id: 17_500}
    )
    lines = [{"package_id": package["package_id"], "qty": 1}]

    async def quoted() -> int:
        body = {"store_id": world.store_id, "lines": lines}
        total: int = data(await client.post("/v1/pricing/quote", json=body, headers=bearer(till.cashier)))[
            "grand_total"
        ]
        return total

    assert await quoted() == 17_500
    features = await effective(client, world, "features")
    await put_setting(client, world, "features", {**features, "multi_price": False})
    assert await quoted() == 20_000
    stranger = await client.post(
        "/v1/catalog/packages",
        json={"name": "Bad", "type": "single", "price": 100, "store_prices": {"not-a-store": 50}},
        headers=await admin(client, world),
    )
    assert error_code(stranger) == "E_VALIDATION"


# ---- Idempotency-Keys belong to their caller ----------------------------------------------------------


async def test_another_pos_reusing_a_key_gets_its_own_sale_never_the_first_ones(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    first = data(await sell(client, till, "shared-key-1", [("single", 1)]), 201)
    second_pos = await pair_device(client, world)
    other_cashier = data(await pin_login(client, second_pos, "1111"))["access_token"]
    data(await client.post("/v1/shifts/open", json={"cash_open": 0}, headers=bearer(other_cashier)), 201)
    second_till = Till(second_pos, other_cashier, till.ids)
    mine = await sell(client, second_till, "shared-key-1", [("single", 1)])
    assert mine.status_code == 201
    assert "idempotent-replayed" not in mine.headers
    assert data(mine, 201)["sale"]["sale_id"] != first["sale"]["sale_id"]
    assert {t["qr_token"] for t in data(mine, 201)["tickets"]}.isdisjoint(
        {t["qr_token"] for t in first["tickets"]}
    )
    annex_pos = await pair_device(client, world, store_id=world.other_store_id)
    annex_cashier = await add_employee(
        client, world, role="Cashier", pin="2222", store_id=world.other_store_id
    )
    assert annex_cashier
    annex_token = data(await pin_login(client, annex_pos, "2222"))["access_token"]
    data(await client.post("/v1/shifts/open", json={"cash_open": 0}, headers=bearer(annex_token)), 201)
    annex = await sell(client, Till(annex_pos, annex_token, till.ids), "shared-key-1", [("single", 1)])
    assert annex.status_code == 201  # another store: its own sale, never a 500
    assert await deps.db[C.SALES].count_documents({}) == 3


# ---- sale size ----------------------------------------------------------------------------------------


async def test_a_sale_issues_at_most_the_stores_ticket_cap(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    huge = await sell(client, till, "huge-00001", [("single", 101)])
    assert (huge.status_code, error_code(huge)) == (422, "E_TOO_LARGE")
    assert huge.json()["error"]["details"] == {"max_tickets_per_sale": 100, "tickets": 101}
    await put_setting(client, world, "sales", {"max_tickets_per_sale": 5})
    bundles = await sell(client, till, "huge-00002", [("family", 2)])  # 2 bundles of 3 = 6 tickets
    assert error_code(bundles) == "E_TOO_LARGE"
    assert data(await sell(client, till, "huge-00003", [("single", 5)]), 201)
    assert await deps.db[C.TICKETS].count_documents({}) == 5


# ---- refunds go back the way the money came ------------------------------------------------------------


async def test_a_card_sale_is_refunded_to_the_card_unless_the_approver_chooses_cash(
    client: httpx.AsyncClient, till: Till, deps: Deps
) -> None:
    first = data(await sell(client, till, "card-sale-1", [("single", 1)]), 201)["sale"]["sale_id"]
    second = data(await sell(client, till, "card-sale-2", [("single", 1)]), 201)["sale"]["sale_id"]
    plain = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=first)
    to_cash = await refund(client, till, "rf-cash-01", first, plain, method="cash")
    assert error_code(to_cash) == "E_APPROVAL_REQUIRED"  # the cashier alone cannot choose cash
    assert await deps.db[C.REFUNDS].count_documents({}) == 0
    done = data(await refund(client, till, "rf-card-01", first, plain), 201)["refund"]
    assert done["method"] == "card"
    chosen = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=second, refund_method="cash")
    cash = data(await refund(client, till, "rf-cash-02", second, chosen), 201)["refund"]
    assert cash["method"] == "cash"
    stored = await deps.db[C.REFUNDS].find_one({"refund_id": cash["refund_id"]})
    assert stored is not None
    assert stored["method_chosen_by"] == stored["approver_id"]
    totals = data(await client.get("/v1/shifts/current", headers=bearer(till.cashier)))["totals"]
    assert totals["cash_refunds"] == 15_000  # only the approved cash refund leaves the drawer
