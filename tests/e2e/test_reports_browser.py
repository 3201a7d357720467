"""The report pages in a real browser, over weeks of demo history: for each report the totals row on
screen is the CSV's TOTAL row, figure for figure, and the CSV's rows are the table's rows."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from boxoffice.config import Settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.demo_history import seed_history
from tests.e2e.test_admin_browser import sign_in

pytestmark = pytest.mark.e2e

#: Days of history (ending yesterday): inside the "Last 30 days" preset the pages are opened with.
HISTORY_DAYS = 21
SALES_PER_DAY = 25


@pytest.fixture(scope="module")
def history(e2e_settings: Settings, demo: dict[str, Any]) -> dict[str, int]:
    """The demo store's recent weeks: sales, shifts, scans, refunds and reprints."""

    async def run() -> dict[str, int]:
        db = Database(e2e_settings.mongo_uri, e2e_settings.mongo_db)
        try:
            return await seed_history(
                Deps(db, SystemClock(), e2e_settings), days=HISTORY_DAYS, sales_per_day=SALES_PER_DAY
            )
        finally:
            await db.close()

    return asyncio.run(run())


def thb(satang: int) -> str:
    """What the admin shows for an amount: ฿1,234.50, -฿5.00."""
    sign = "-" if satang < 0 else ""
    return f"{sign}฿{abs(satang) // 100:,}.{abs(satang) % 100:02d}"


def shown_as(text: str, csv_value: str) -> bool:
    """Whether a totals cell's text is the CSV's figure as the admin formats it."""
    if csv_value == "":
        return text == "—"
    value = json.loads(csv_value)
    if text.endswith("%"):
        return text == f"{value * 100:.1f}%"
    if "฿" in text or text == "Balanced":
        return text in (thb(value), f"{thb(value)} short", f"+{thb(value)} over") or (
            text == "Balanced" and value == 0
        )
    return text == f"{value:,}"


async def screen_totals(page: Page) -> dict[str, tuple[str, str]]:
    """The totals row: figure → (its raw value, its text)."""
    cells = page.get_by_test_id("report-totals").locator("[data-testid^='total-']")
    totals: dict[str, tuple[str, str]] = {}
    for i in range(await cells.count()):
        cell = cells.nth(i)
        field = (await cell.get_attribute("data-testid") or "").removeprefix("total-")
        totals[field] = (await cell.get_attribute("data-value") or "", (await cell.inner_text()).strip())
    return totals


async def export_csv(page: Page, tmp_path: Path) -> tuple[str, list[dict[str, str]]]:
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Export CSV").click()
    download = await waiting.value
    target = tmp_path / download.suggested_filename
    await download.save_as(target)
    return download.suggested_filename, list(csv.DictReader(io.StringIO(target.read_text("utf-8"))))


async def check_report(page: Page, tmp_path: Path, report: str, group_by: str) -> dict[str, str]:
    """The totals and rows on screen against the CSV of the same query; returns the CSV's totals."""
    table = page.get_by_test_id("report-table")
    await expect(table).to_be_visible(timeout=20_000)
    # the totals row comes with the answer: after a change of grouping the table is drawn again,
    # and for a moment has no totals row
    totals = await screen_totals(page)
    for _ in range(100):
        if totals:
            break
        await page.wait_for_timeout(200)
        totals = await screen_totals(page)
    assert totals, "the totals row shows no figures"
    await page.screenshot(path=str(tmp_path / f"{report}-by-{group_by}.png"), full_page=True)
    filename, rows = await export_csv(page, tmp_path)
    assert re.fullmatch(
        rf"{report}-\d{{4}}-\d{{2}}-\d{{2}}-\d{{4}}-\d{{2}}-\d{{2}}-by-{group_by}\.csv", filename
    )
    total_row = rows[-1]
    assert total_row["group"] == "TOTAL"
    for field, (raw, text) in totals.items():
        assert raw == total_row[field], (report, field, raw, total_row[field])
        assert shown_as(text, total_row[field]), (report, field, text, total_row[field])
    assert await table.locator("tbody tr").count() == len(rows) - 1
    groups = [await r.get_attribute("data-group") for r in await table.locator("tbody tr").all()]
    assert groups == [r["group"] for r in rows[:-1]]
    return total_row


async def test_every_report_shows_what_its_csv_says(
    browser: Browser,
    servers: dict[str, str],
    demo: dict[str, Any],
    history: dict[str, int],
    tmp_path: Path,
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    admin = servers["admin"]
    await sign_in(page, admin, demo)

    await page.get_by_role("link", name="Sales report").click()
    await expect(page.get_by_role("heading", name="Sales report")).to_be_visible()
    await page.get_by_text("Last 30 days", exact=True).click()
    sales = await check_report(page, tmp_path, "sales", "day")
    assert int(sales["count"]) > 0
    assert int(sales["taken"]) > 0

    # The grouping and a picker change both the table and the CSV alike.
    await page.get_by_role("textbox", name="Group by").click()
    await page.get_by_role("option", name="Payment type").click()
    await page.get_by_role("textbox", name="Store").click()
    await page.get_by_role("option", name="Bangkok Central").click()
    await expect(page).to_have_url(re.compile(rf"group=payment_type&store={demo['store_id']}$"))
    by_payment = await check_report(page, tmp_path, "sales", "payment_type")
    assert int(by_payment["count"]) <= int(sales["count"])

    # A day row leads to that day's sales.
    await page.get_by_role("button", name="Clear filters").click()
    await page.get_by_text("Last 30 days", exact=True).click()
    await expect(page.get_by_test_id("report-table")).to_be_visible(timeout=20_000)
    await (
        page.get_by_test_id("report-table")
        .get_by_role("link", name=re.compile("open the records"))
        .first.click()
    )
    await expect(page.get_by_role("heading", name="Sales", exact=True)).to_be_visible()
    await expect(page.get_by_role("table", name="Sales")).to_be_visible()

    for path, report, group_by in (
        ("/reports/summary/shifts?range=30d", "shifts", "shift"),
        ("/reports/summary/tickets?range=30d", "tickets", "day"),
        ("/reports/summary/refunds?range=30d", "refunds", "day"),
        ("/reports/summary/refunds?range=30d&view=reprints", "reprints", "day"),
        ("/reports/summary/throughput?range=30d&group=hour", "throughput", "hour"),
    ):
        await page.goto(f"{admin}{path}")
        totals = await check_report(page, tmp_path, report, group_by)
        figure = {"shifts": "shifts", "tickets": "issued", "refunds": "count", "reprints": "count"}
        assert int(totals[figure.get(report, "scans")]) > 0, (report, totals)

    assert violations == []
    await context.close()


async def test_a_report_fits_a_phone(
    browser: Browser,
    servers: dict[str, str],
    demo: dict[str, Any],
    history: dict[str, int],
    tmp_path: Path,
) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await sign_in(page, servers["admin"], demo)
    await page.goto(f"{servers['admin']}/reports/summary/sales?range=30d")
    await expect(page.get_by_test_id("report-table")).to_be_visible(timeout=20_000)
    # The wide table scrolls inside its box; the page itself never scrolls sideways.
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    await page.screenshot(path=str(tmp_path / "sales-phone.png"), full_page=True)
    await expect(page.get_by_role("link", name="Export CSV")).to_be_visible()
    await context.close()
