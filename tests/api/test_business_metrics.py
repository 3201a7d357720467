"""Business metrics on `/metrics`: sales and their amount, tickets issued, redemptions by result
and reason (online and offline), reprints, refunds and their amount, manual discounts — each
counted once per change, never again for a retried request or a replayed op — and the offline
backlog and open alerts, read when scraped. Parsed as Prometheus parses them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from ulid import ULID

from boxoffice.alerts import service as alerts
from boxoffice.alerts.schemas import AlertKind
from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.deps import Deps
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    add_employee,
    bearer,
    data,
    make_tenant,
    owner_token,
    pair_device,
)
from tests.factories.sales import Till, approval, open_till, refund, reprint, sell

SUPERVISOR_PIN = "9999"


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    """Every sample, as Prometheus reads the exposition: (name, labels) → value."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    """Summed over every label set."""
    return sum(v for (n, _), v in samples.items() if n == name)


async def scan(client: httpx.AsyncClient, gate: PairedDevice, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = data(
        await client.post("/v1/tickets/redeem", json=body, headers=bearer(gate.access_token))
    )
    return answer


async def upload(
    client: httpx.AsyncClient,
    device: PairedDevice,
    ops: list[dict[str, Any]],
    remaining: int = 0,
    token: str = "",
) -> list[dict[str, Any]]:
    """`token`: a staff member's session on the device (a POS's sales need one)."""
    results: list[dict[str, Any]] = data(
        await client.post(
            "/v1/sync/batch",
            json={"ops": ops, "outbox_remaining": remaining},
            headers=bearer(token or device.access_token),
        )
    )["results"]
    return results


async def a_morning(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, gate: PairedDevice
) -> dict[str, Any]:
    """A discounted cash sale (sent twice: its answer was lost), a card sale, two scans (PASS, FAIL
    duplicate_use; one sent twice), a refund (sent twice) and a reprint."""
    token = await approval(client, till, "manual_discount", SUPERVISOR_PIN, amount=3_000)
    body = {"manual_discount": {"amount": 3_000}, "approval_token": token}
    discounted = data(
        await sell(
            client, till, "sale-0001", [("single", 2)], payment_method="cash", amount_tendered=10**6, **body
        ),
        201,
    )
    replayed = await sell(
        client, till, "sale-0001", [("single", 2)], payment_method="cash", amount_tendered=10**6, **body
    )
    assert replayed.status_code in (200, 201)
    assert replayed.json()["data"]["sale"]["sale_id"] == discounted["sale"]["sale_id"]
    card = data(await sell(client, till, "sale-0002", [("family", 1)], payment_method="card"), 201)
    ticket = discounted["tickets"][0]
    scan_id = str(ULID())
    assert (await scan(client, gate, qr_token=ticket["qr_token"], scan_id=scan_id))["result"] == "pass"
    assert (await scan(client, gate, qr_token=ticket["qr_token"], scan_id=scan_id))["result"] == "pass"
    assert (await scan(client, gate, qr_token=ticket["qr_token"]))["reason"] == "duplicate_use"
    sale_id = card["sale"]["sale_id"]
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sale_id)
    refunded = data(
        await refund(
            client, till, "refund-0001", sale_id, token, ticket_ids=[card["tickets"][0]["ticket_id"]]
        ),
        201,
    )
    again = await refund(
        client, till, "refund-0001", sale_id, token, ticket_ids=[card["tickets"][0]["ticket_id"]]
    )
    assert again.status_code in (200, 201)
    token = await approval(client, till, "reprint", SUPERVISOR_PIN, target_id=ticket["ticket_id"])
    data(await reprint(client, till, "reprint-0001", ticket["ticket_id"], token), 201)
    return {
        "sales": [discounted["sale"], card["sale"]],
        "tickets": discounted["tickets"] + card["tickets"],
        "refund": refunded["refund"],
    }


async def test_a_mornings_business_is_counted_once_each(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> None:
    before = await scrape(client)
    assert value(before, "boxoffice_sales_total", payment_type="cash") == 0
    till = await open_till(client, world)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    gate = await pair_device(client, world, type="GATE")
    morning = await a_morning(client, world, till, gate)
    cash_sale, card_sale = morning["sales"]

    samples = await scrape(client)
    assert value(samples, "boxoffice_sales_total", payment_type="cash") == 1
    assert value(samples, "boxoffice_sales_total", payment_type="card") == 1
    assert value(samples, "boxoffice_sales_satang_total", payment_type="cash") == cash_sale["grand_total"]
    assert value(samples, "boxoffice_sales_satang_total", payment_type="card") == card_sale["grand_total"]
    assert total(samples, "boxoffice_tickets_issued_total") == len(morning["tickets"])
    assert (
        value(samples, "boxoffice_tickets_issued_total", type="single") == 2 + 2
    )  # two sold, two in the bundle
    assert value(samples, "boxoffice_redemptions_total", result="pass", reason="none", offline="false") == 1
    assert (
        value(samples, "boxoffice_redemptions_total", result="fail", reason="duplicate_use", offline="false")
        == 1
    )
    assert value(samples, "boxoffice_refunds_total", method="card") == 1
    assert value(samples, "boxoffice_refunds_satang_total", method="card") == morning["refund"]["amount"] > 0
    assert value(samples, "boxoffice_reprints_total") == 1
    assert value(samples, "boxoffice_manual_discounts_total") == 1
    assert value(samples, "boxoffice_manual_discounts_satang_total") == 3_000
    # counters come with their creation time, as prometheus_client writes them
    assert ("boxoffice_sales_created", frozenset({("payment_type", "cash")})) in samples
    # no ids in any label: a series per tenant, device or ticket cannot pile up
    names = {name for (name, labels) in samples for name in dict(labels)}
    assert not {n for n in names if n.endswith("_id")}


async def test_offline_scans_and_sales_count_once_however_often_the_upload_is_sent(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> None:
    till = await open_till(client, world)
    gate = await pair_device(client, world, type="GATE")
    sold = data(await sell(client, till, "sale-0001", [("single", 2)], payment_method="qr"), 201)
    ops = [
        {
            "op_id": str(ULID()),
            "type": "redemption",
            "ts": isoformat_z(clock.now() + timedelta(seconds=n)),
            "payload": {"qr_token": t["qr_token"], "result": "pass"},
        }
        for n, t in enumerate(sold["tickets"])
    ]
    clock.advance(timedelta(minutes=1))
    for _ in range(3):
        await upload(client, gate, ops)
    sale_op = {
        "op_id": str(ULID()),
        "type": "sale",
        "ts": isoformat_z(clock.now()),
        "payload": {
            "lines": [{"package_id": till.ids["single"], "qty": 1}],
            "payment_method": "cash",
            "amount_tendered": 100_000,
        },
    }
    statuses = [
        (await upload(client, till.device, [sale_op], token=till.cashier))[0]["status"] for _ in range(2)
    ]
    assert statuses == ["applied", "duplicate"]
    samples = await scrape(client)
    assert value(samples, "boxoffice_redemptions_total", result="pass", reason="none", offline="true") == 2
    assert value(samples, "boxoffice_sales_total", payment_type="qr") == 1
    assert value(samples, "boxoffice_sales_total", payment_type="cash") == 1


async def test_the_backlog_and_open_alerts_are_read_when_scraped(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock, deps: Deps
) -> None:
    gates = [await pair_device(client, world, type="GATE") for _ in range(3)]
    note = {"type": "audit", "ts": isoformat_z(clock.now()), "payload": {"event_type": "note"}}
    await upload(client, gates[0], [{**note, "op_id": str(ULID())}], remaining=4)
    await upload(client, gates[1], [{**note, "op_id": str(ULID())}], remaining=2)
    await upload(client, gates[2], [{**note, "op_id": str(ULID())}], remaining=0)
    other = await make_tenant(deps, "B")
    raised: list[tuple[TenantWorld, AlertKind, str]] = [
        (world, "cash_difference", "shift-1"),
        (world, "cash_difference", "shift-2"),
        (other, "cash_difference", "shift-3"),
        (world, "unsynced_ops", "device-1"),
        (world, "webhook_failing", "hook-1"),
    ]
    for tenant, kind, cause in raised:
        await alerts.raise_alert(
            deps, tenant.tenant_id, kind=kind, cause_key=cause, store_id=None, title=cause, detail="-"
        )
    await alerts.resolve_alert(deps, world.tenant_id, kind="webhook_failing", cause_key="hook-1")
    found = await alerts.raise_alert(
        deps, world.tenant_id, kind="unsynced_ops", cause_key="device-1", store_id=None, title="-", detail="-"
    )
    acked = await client.post(
        f"/v1/alerts/{found.alert['alert_id']}/acknowledge",
        json={"note": "seen"},
        headers=bearer(await owner_token(client, world)),
    )
    assert acked.status_code == 200

    samples = await scrape(client)
    assert value(samples, "boxoffice_offline_backlog_ops") == 6
    assert value(samples, "boxoffice_offline_backlog_devices") == 2
    assert value(samples, "boxoffice_alerts_open", kind="cash_difference", status="open") == 3
    assert value(samples, "boxoffice_alerts_open", kind="unsynced_ops", status="acknowledged") == 1
    assert value(samples, "boxoffice_alerts_open", kind="webhook_failing", status="open") == 0
    assert value(samples, "boxoffice_alerts_raised_total", kind="cash_difference") == 3
    # the backlog drains: the gauge follows at the next scrape
    await upload(client, gates[0], [{**note, "op_id": str(ULID())}], remaining=0)
    samples = await scrape(client)
    assert (
        value(samples, "boxoffice_offline_backlog_ops"),
        value(samples, "boxoffice_offline_backlog_devices"),
    ) == (
        2,
        1,
    )
