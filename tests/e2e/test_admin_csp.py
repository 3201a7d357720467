"""The built admin works under its Content-Security-Policy: no violation anywhere, styles applied."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

pytestmark = pytest.mark.e2e


async def test_the_admin_runs_under_its_content_security_policy(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any]
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    first = await page.goto(f"{servers['admin']}/login")
    assert first is not None
    headers = await first.all_headers()
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"

    await page.get_by_label("Email").fill(demo["owner"]["email"])
    await page.get_by_label("Password").fill(demo["owner"]["password"])
    sign_in = page.get_by_role("button", name="Sign in")
    # Mantine's injected <style> elements apply: the button is not the browser's bare default.
    background = await sign_in.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)", "buttonface")
    await sign_in.click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    for link in ("Stores", "Audit log"):
        await page.get_by_role("link", name=link, exact=True).first.click()
        await page.wait_for_load_state("networkidle")
    assert violations == []
    await context.close()
