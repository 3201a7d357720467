"""A ticket's whole story in the browser: sold on a POS, refunded with a supervisor's approval,
refused at the gate — and the ticket page and the audit log tell it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_admin_browser import sign_in

pytestmark = pytest.mark.e2e


def sell_refund_and_scan(api: str, demo: dict[str, Any]) -> dict[str, Any]:
    """What the POS and the gate do, through the API."""
    with httpx.Client(base_url=api, timeout=10) as client:

        def device(kind: str) -> dict[str, str]:
            registered = client.post(
                "/v1/auth/device/register",
                json={
                    "site_key": demo["site_key"],
                    "type": kind,
                    "name": f"E2E {kind} {uuid.uuid4().hex[:4]}",
                },
            ).json()["data"]
            login = client.post(
                "/v1/auth/device/login",
                json={"device_id": registered["device_id"], "device_token": registered["device_token"]},
            )
            return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}

        pos, gate = device("POS"), device("GATE")
        tiles = {
            t["name"]: t["employee_id"]
            for t in client.get("/v1/devices/me/staff", headers=pos).json()["data"]
        }
        cashier = client.post(
            "/v1/employees/login",
            json={"employee_id": tiles[demo["cashier"]["name"]], "pin": demo["cashier"]["pin"]},
            headers=pos,
        )
        till = {"Authorization": f"Bearer {cashier.json()['data']['access_token']}"}
        client.post("/v1/shifts/open", json={"cash_open": 50_000}, headers=till)  # 409 if open already
        packages = client.get("/v1/catalog/packages", headers=pos).json()["data"]["items"]
        single = next(p["package_id"] for p in packages if p["name"] == "Single Entry")
        sold = client.post(
            "/v1/sales",
            json={
                "lines": [{"package_id": single, "qty": 1}],
                "payment_method": "cash",
                "amount_tendered": 20_000,
            },
            headers={**till, "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"},
        ).json()["data"]
        sale_id, ticket = sold["sale"]["sale_id"], sold["tickets"][0]
        approval = client.post(
            "/v1/approvals/verify_pin",
            json={
                "action": "refund",
                "pin": demo["supervisor"]["pin"],
                "employee_id": tiles[demo["supervisor"]["name"]],
                "target_id": sale_id,
            },
            headers=pos,
        ).json()["data"]["approval_token"]
        refunded = client.post(
            "/v1/tickets/refund",
            json={
                "sale_id": sale_id,
                "approval_token": approval,
                "reason_code": "closure",
                "reason_text": "Storm",
            },
            headers={**till, "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"},
        )
        assert refunded.status_code == 201, refunded.text
        scanned = client.post(
            "/v1/tickets/redeem", json={"qr_token": ticket["qr_token"]}, headers=gate
        ).json()["data"]
        assert (scanned["result"], scanned["reason"]) == ("fail", "refunded")
        return ticket


async def test_the_ticket_page_and_the_audit_log_tell_a_refunded_tickets_story(
    browser: Browser, servers: dict[str, str], demo: dict[str, Any]
) -> None:
    ticket = await asyncio.to_thread(sell_refund_and_scan, servers["api"], demo)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await sign_in(page, servers["admin"], demo)
    await page.goto(f"{servers['admin']}/reports/tickets/{ticket['ticket_id']}")

    events = page.get_by_test_id("timeline-event")
    await expect(events).to_have_count(3)
    kinds = [await events.nth(n).get_attribute("data-kind") for n in range(3)]
    assert kinds == ["issued", "refunded", "redeemed"]
    await expect(events.nth(1)).to_contain_text("Storm")
    await expect(events.nth(2)).to_contain_text("FAIL")

    await page.get_by_role("link", name="Open in audit log").click()
    await expect(page.get_by_text("refund.created")).to_be_visible()
    await expect(page.get_by_text("sale.completed")).to_be_visible()
