"""The dashboard and the Fraud Watch in a real browser, over weeks of demo history: the dashboard
shows the demo store's day and last week's, fits a phone, and moves by itself after a sale made
through the API; a cashier's reprint spike is flagged with its explanation, and its drill-down opens
exactly their reprints."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from boxoffice.config import Settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.demo_history import seed_history
from tests.e2e.test_admin_browser import sign_in

# The same history as the report pages' test: seeded once per parameters, so both share it.
from tests.e2e.test_reports_browser import HISTORY_DAYS, SALES_PER_DAY

pytestmark = pytest.mark.e2e

Headers = dict[str, str]

#: Reprints planted for one new cashier today: far above a baseline of none, and above the floor (3).
SPIKE = 8


@pytest.fixture(scope="module")
def history(e2e_settings: Settings, demo: dict[str, Any]) -> dict[str, int]:
    async def run() -> dict[str, int]:
        db = Database(e2e_settings.mongo_uri, e2e_settings.mongo_db)
        try:
            return await seed_history(
                Deps(db, SystemClock(), e2e_settings), days=HISTORY_DAYS, sales_per_day=SALES_PER_DAY
            )
        finally:
            await db.close()

    return asyncio.run(run())


# ---- what the POS does, through the API ----------------------------------------------------------


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def owner(client: httpx.Client, demo: dict[str, Any]) -> Headers:
    body = {"email": demo["owner"]["email"], "password": demo["owner"]["password"]}
    return bearer(data(client.post("/v1/employees/login", json=body))["access_token"])


def new_pos(client: httpx.Client, demo: dict[str, Any], name: str) -> tuple[str, Headers]:
    """A POS registered with the demo site key (approved on registering) and signed in."""
    body = {"site_key": demo["site_key"], "type": "POS", "name": name}
    registered = data(client.post("/v1/auth/device/register", json=body), 201)
    login = {"device_id": registered["device_id"], "device_token": registered["device_token"]}
    token = data(client.post("/v1/auth/device/login", json=login))["access_token"]
    return registered["device_id"], bearer(token)


def hire(client: httpx.Client, demo: dict[str, Any], name: str, pin: str, role: str) -> str:
    admin = owner(client, demo)
    roles = data(client.get("/v1/roles", headers=admin))["items"]
    body = {
        "name": name,
        "email": f"e2e.{uuid.uuid4().hex[:10]}@demo.test",
        "pin": pin,
        "memberships": [
            {
                "store_id": demo["store_id"],
                "role_ids": [next(r["role_id"] for r in roles if r["name"] == role)],
            }
        ],
    }
    employee_id: str = data(client.post("/v1/employees", json=body, headers=admin), 201)["employee_id"]
    return employee_id


def open_till(client: httpx.Client, pos: Headers, employee_id: str, pin: str) -> Headers:
    """The cashier signs in on the POS with their PIN and opens a shift."""
    signed = client.post("/v1/employees/login", json={"employee_id": employee_id, "pin": pin}, headers=pos)
    till = bearer(data(signed)["access_token"])
    data(client.post("/v1/shifts/open", json={"cash_open": 50_000}, headers=till), 201)
    return till


def sell_one(client: httpx.Client, pos: Headers, till: Headers) -> dict[str, Any]:
    packages = data(client.get("/v1/catalog/packages", headers=pos))["items"]
    single = next(p["package_id"] for p in packages if p["name"] == "Single Entry")
    body = {"lines": [{"package_id": single, "qty": 1}], "payment_method": "cash", "amount_tendered": 50_000}
    headers = {**till, "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
    sold: dict[str, Any] = data(client.post("/v1/sales", json=body, headers=headers), 201)
    return sold


def a_new_cashier_sells(api: str, demo: dict[str, Any], device_name: str) -> dict[str, Any]:
    """A shift lead hired today, on a POS of their own, with a shift open and one sale made."""
    pin = f"{random.randrange(10**5, 10**6)}"
    name = f"Cashier {uuid.uuid4().hex[:4].upper()}"
    with httpx.Client(base_url=api, timeout=15) as client:
        device_id, pos = new_pos(client, demo, device_name)
        employee_id = hire(client, demo, name, pin, "Supervisor")
        till = open_till(client, pos, employee_id, pin)
        sold = sell_one(client, pos, till)
    return {
        "name": name,
        "employee_id": employee_id,
        "pin": pin,
        "device_id": device_id,
        "pos": pos,
        "till": till,
        "sold": sold,
    }


def plant_reprint_spike(api: str, demo: dict[str, Any]) -> dict[str, Any]:
    """A new cashier (no reprints in the 28 days before: a baseline of none) sells a ticket and
    reprints it eight times, approving each with their own PIN, as a shift lead may."""
    cashier = a_new_cashier_sells(api, demo, f"Spike till {uuid.uuid4().hex[:4]}")
    ticket_id = cashier["sold"]["tickets"][0]["ticket_id"]
    with httpx.Client(base_url=api, timeout=15) as client:
        for _ in range(SPIKE):
            approval = {
                "action": "reprint",
                "pin": cashier["pin"],
                "employee_id": cashier["employee_id"],
                "target_id": ticket_id,
            }
            granted = client.post("/v1/approvals/verify_pin", json=approval, headers=cashier["pos"])
            body = {
                "ticket_id": ticket_id,
                "approval_token": data(granted)["approval_token"],
                "reason_code": "printer_jam",
            }
            headers = {**cashier["till"], "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
            data(client.post("/v1/tickets/reprint", json=body, headers=headers), 201)
    return cashier


def wait_for_flag(api: str, demo: dict[str, Any], employee_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The Fraud Watch reads summaries the projector keeps (a pass within seconds of a write)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=api, timeout=15) as client:
        admin = owner(client, demo)
        while True:
            answer = data(
                client.get("/v1/reports/fraud", params={"store_id": demo["store_id"]}, headers=admin)
            )
            flags = [
                f
                for f in answer["stores"][0]["flags"]
                if (f["entity_id"], f["metric"]) == (employee_id, "reprints")
            ]
            if flags:
                flag: dict[str, Any] = flags[0]
                return flag
            assert time.monotonic() < deadline, f"no reprint flag for {employee_id}: {answer}"
            time.sleep(1)


# ---- the browser ---------------------------------------------------------------------------------


async def test_the_dashboard_shows_the_demo_day_and_fits_a_phone(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any], history: dict[str, int]
) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await sign_in(page, servers["admin"], demo)
    await page.goto(f"{servers['admin']}/")
    await expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    await expect(page.get_by_test_id("stat-sales")).to_be_visible(timeout=20_000)
    await expect(page.get_by_test_id("dashboard-store")).to_contain_text("Bangkok Central")
    # The history ends yesterday: the same weekday last week sold, in several payment types.
    payments = page.get_by_role("table", name="Sales by payment type")
    await expect(payments.locator("tbody tr").first).to_be_visible()
    assert await payments.locator("tbody tr").count() >= 2
    await expect(page.get_by_test_id("hourly-chart")).to_be_visible(timeout=20_000)
    await expect(page.get_by_role("region", name="Gate scans today")).to_be_visible()
    await expect(page.get_by_role("table", name="Devices")).to_be_visible()
    # Wide tables scroll inside their boxes; the page itself never scrolls sideways.
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    await context.close()


async def test_the_dashboard_moves_by_itself_after_a_sale(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any], history: dict[str, int]
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await sign_in(page, servers["admin"], demo)
    await page.goto(f"{servers['admin']}/")
    sales = page.get_by_test_id("stat-sales")
    await expect(sales).to_be_visible(timeout=20_000)
    before = int(await sales.get_attribute("data-value") or "-1")
    net_before = int(await page.get_by_test_id("stat-net").get_attribute("data-value") or "-1")
    await page.evaluate("window.__sameDocument = true")

    till_name = f"Dashboard till {uuid.uuid4().hex[:4]}"
    cashier = await asyncio.to_thread(a_new_cashier_sells, servers["api"], demo, till_name)
    sale = cashier["sold"]["sale"]

    # The projector folds the sale in within seconds; the page asks again every 15 s.
    await expect(sales).to_have_attribute("data-value", str(before + 1), timeout=60_000)
    await expect(page.get_by_test_id("stat-sales-value")).to_have_text(f"{before + 1:,}")
    net_after = int(await page.get_by_test_id("stat-net").get_attribute("data-value") or "-1")
    assert net_after - net_before == sale["subtotal"] - sale["discount_total"]  # net: gross - discounts
    await expect(page.get_by_role("table", name="Open shifts")).to_contain_text(till_name, timeout=20_000)
    await expect(page.get_by_role("table", name="Open shifts")).to_contain_text(cashier["name"])
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"


async def test_a_fraud_watch_flag_opens_its_records(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any], history: dict[str, int]
) -> None:
    cashier = await asyncio.to_thread(plant_reprint_spike, servers["api"], demo)
    await asyncio.to_thread(wait_for_flag, servers["api"], demo, cashier["employee_id"])

    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await sign_in(page, servers["admin"], demo)
    await page.get_by_role("link", name="Fraud Watch").click()
    await expect(page.get_by_role("heading", name="Fraud Watch", exact=True)).to_be_visible()
    flag = page.locator(
        f"[data-testid='fraud-flag'][data-entity-id='{cashier['employee_id']}'][data-metric='reprints']"
    )
    await expect(flag).to_be_visible(timeout=20_000)
    await expect(flag.get_by_test_id("fraud-flag-explanation")).to_contain_text(
        f"{cashier['name']}: {SPIKE} reprints today"
    )
    # Nobody else on the same history is flagged for reprints, and the row is highlighted.
    reprint_flags = page.locator("[data-testid='fraud-flag'][data-metric='reprints']")
    flagged = {
        await reprint_flags.nth(n).get_attribute("data-entity-id") for n in range(await reprint_flags.count())
    }
    assert flagged <= {cashier["employee_id"], cashier["device_id"]}, flagged
    row = page.locator(
        f"[data-testid='fraud-metric'][data-entity-id='{cashier['employee_id']}'][data-metric='reprints']"
    )
    await expect(row).to_have_attribute("data-flagged", "true")

    await flag.get_by_role("link", name="Open the reprints").click()
    await expect(page.get_by_role("heading", name="Reprints", exact=True)).to_be_visible()
    assert f"employee={cashier['employee_id']}" in page.url
    assert f"store={demo['store_id']}" in page.url
    table = page.get_by_role("table", name="Reprints")
    await expect(table.locator("tbody tr")).to_have_count(SPIKE, timeout=20_000)
    await expect(table.locator("tbody tr").first).to_contain_text(cashier["name"])
