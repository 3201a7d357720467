"""The admin in a real browser: sign in as the demo owner, pair a device, suspend it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import register_device

pytestmark = pytest.mark.e2e


async def sign_in(page: Page, admin: str, demo: dict[str, Any]) -> None:
    await page.goto(f"{admin}/login")
    await page.get_by_label("Email").fill(demo["owner"]["email"])
    await page.get_by_label("Password").fill(demo["owner"]["password"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_login_page_then_wrong_password(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any]
) -> None:
    page = await browser.new_page()
    await page.goto(f"{servers['admin']}/")
    await expect(page).to_have_url(re.compile(r"/login$"))
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await page.get_by_label("Email").fill(demo["owner"]["email"])
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("The email, password or PIN is wrong.")).to_be_visible()
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert "bo_session" not in cookies


async def test_owner_pairs_a_device_and_suspends_it(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any], tmp_path: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in(page, servers["admin"], demo)
    session = {c["name"]: c for c in await context.cookies()}["bo_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie.includes('bo_session')") is False

    await page.get_by_role("link", name="Pair device").click()
    await page.get_by_label("Label").fill("Front desk till")
    await page.get_by_role("button", name="Create site key").click()
    site_key = (await page.get_by_test_id("site-key").inner_text()).strip()
    assert site_key.startswith("sk_")

    device = await asyncio.to_thread(register_device, servers["api"], site_key, "Till by the door")
    await expect(page.get_by_text("Till by the door")).to_be_visible(
        timeout=15_000
    )  # the wizard polls every 3 s
    await page.get_by_role("button", name="Approve").click()
    await expect(page.get_by_text("Device approved")).to_be_visible()

    login = await asyncio.to_thread(
        httpx.post,
        f"{servers['api']}/v1/auth/device/login",
        json={"device_id": device["device_id"], "device_token": device["device_token"]},
    )
    assert login.status_code == 200
    device_token = login.json()["data"]["access_token"]

    await page.goto(f"{servers['admin']}/devices/{device['device_id']}")
    await expect(page.get_by_test_id("device-status")).to_have_text("active")
    await page.get_by_role("button", name="Suspend").click()
    confirm = page.get_by_role("button", name="Confirm")
    if await confirm.count():
        await confirm.click()
    await expect(page.get_by_test_id("device-status")).to_have_text("suspended")
    await page.screenshot(path=str(tmp_path / "suspended.png"), full_page=True)

    refused = await asyncio.to_thread(
        httpx.get, f"{servers['api']}/v1/devices/me", headers={"Authorization": f"Bearer {device_token}"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "E_DEVICE_SUSPENDED"

    await page.get_by_role("link", name="Audit log").click()
    await expect(page.get_by_text("device.suspended").first).to_be_visible()
    await context.close()


async def test_phone_width_shows_the_menu_behind_a_burger(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any]
) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await sign_in(page, servers["admin"], demo)
    stores = page.get_by_role("link", name="Stores", exact=True)
    await expect(stores).not_to_be_in_viewport()  # the sidebar waits off-screen
    await page.get_by_role("button", name="Open navigation").click()
    await expect(page.get_by_role("link", name="Dashboard", exact=True)).to_be_in_viewport()
    await stores.scroll_into_view_if_needed()  # the menu scrolls: every entry is reachable
    await expect(stores).to_be_in_viewport()
    await context.close()
