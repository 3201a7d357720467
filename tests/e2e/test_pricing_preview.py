"""The admin's price preview shows exactly what the quote endpoint (and so a sale) charges."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.test_admin_browser import sign_in

pytestmark = pytest.mark.e2e
STORE_ID = "01JDEMPARK000000000000STR1"


def satang(text: str) -> int:
    """ "฿1,234.50" → 123450 (and "-฿5.00" → -500)."""
    digits = re.sub(r"[^0-9.-]", "", text)
    baht, _, cents = digits.partition(".")
    sign = -1 if baht.startswith("-") else 1
    return sign * (abs(int(baht or "0")) * 100 + int((cents or "0").ljust(2, "0")))


async def choose(page: Page, label: str, option: str, index: int = 0) -> None:
    await page.get_by_label(label, exact=True).nth(index).click()
    await page.get_by_role(
        "option", name=re.compile(f"^{re.escape(option)}")
    ).click()  # "Single Entry · ฿150.00"


def api_quote(
    api: str, demo: dict[str, Any], lines: list[tuple[str, int]], promo: str, at: str
) -> dict[str, Any]:
    login = httpx.post(
        f"{api}/v1/employees/login",
        json={"email": demo["owner"]["email"], "password": demo["owner"]["password"]},
    )
    headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    packages = httpx.get(f"{api}/v1/catalog/packages", headers=headers).json()["data"]["items"]
    by_name = {p["name"]: p["package_id"] for p in packages}
    body = {
        "store_id": STORE_ID,
        "lines": [{"package_id": by_name[n], "qty": q} for n, q in lines],
        "promo_code": promo,
        "at": at,
    }
    response = httpx.post(f"{api}/v1/pricing/quote", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["data"]
    return result


async def test_preview_matches_the_quote_endpoint(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any]
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 1000}, timezone_id="Asia/Bangkok")
    page = await context.new_page()
    await sign_in(page, servers["admin"], demo)
    await page.goto(f"{servers['admin']}/items/pricing")

    await choose(page, "Store", "Bangkok Central")
    await choose(page, "Package", "Single Entry")
    await page.get_by_label("Qty", exact=True).nth(0).fill("3")
    await page.get_by_role("button", name="Add line").click()
    await choose(page, "Package", "Family Bundle", index=1)
    await page.get_by_label("Promo code").fill("WELCOME10")
    await page.get_by_label("Price at").fill("2031-03-11T11:00")  # a Tuesday morning: Single Entry at ฿120

    grand = page.get_by_test_id("quote-grand-total")
    expected = await asyncio.to_thread(
        api_quote,
        servers["api"],
        demo,
        [("Single Entry", 3), ("Family Bundle", 1)],
        "WELCOME10",
        "2031-03-11T04:00:00Z",
    )
    assert expected["lines"][0]["unit_price"] == 12_000 or expected["lines"][1]["unit_price"] == 12_000
    await expect(grand).to_have_text(re.compile(r"฿"))

    async def shown(test_id: str) -> int:
        return satang(await page.get_by_test_id(test_id).inner_text())

    await expect(grand).to_have_text(re.compile(re.escape(f"{expected['grand_total'] // 100:,}.")))  # settles
    assert await shown("quote-grand-total") == expected["grand_total"]
    assert await shown("quote-subtotal") == expected["subtotal"]
    assert abs(await shown("quote-discount-total")) == expected["discount_total"]
    assert await shown("quote-tax-total") == expected["tax_total"]
    await context.close()
