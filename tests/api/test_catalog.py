"""Packages and what devices may sell; pricing rules and their conflicts; quotes."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from tests.factories.catalog import add_package, add_rule, admin, demo_catalog
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
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def names_for(client: httpx.AsyncClient, token: str) -> list[str]:
    return [p["name"] for p in data(await client.get("/v1/catalog/packages", headers=bearer(token)))["items"]]


async def test_devices_see_only_what_they_may_sell_now(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> None:
    now = clock.now()
    await add_package(client, world, name="On sale")
    await add_package(client, world, name="Archived", active=False)
    await add_package(
        client, world, name="Starts tomorrow", active_window={"from": (now + timedelta(days=1)).isoformat()}
    )
    await add_package(
        client, world, name="Ended", active_window={"to": (now - timedelta(seconds=1)).isoformat()}
    )
    await add_package(client, world, name="Kiosk only", visible_on={"POS": False, "KIOSK": True})
    await add_package(client, world, name="Other store", store_id=world.other_store_id)
    pos = await pair_device(client, world)
    kiosk = await pair_device(client, world, type="KIOSK")
    reserved = await add_package(client, world, name="This till only", allowed_devices=[pos.device_id])

    assert await names_for(client, pos.access_token) == ["On sale", "This till only"]
    assert await names_for(client, kiosk.access_token) == ["Kiosk only", "On sale"]
    clock.advance(timedelta(days=1))
    world.tokens.clear()  # yesterday's sessions have expired
    pos_token = data(
        await client.post(
            "/v1/auth/device/login", json={"device_id": pos.device_id, "device_token": pos.device_token}
        )
    )["access_token"]
    assert "Starts tomorrow" in await names_for(client, pos_token)
    gate = await pair_device(client, world, type="GATE")
    assert (await client.get("/v1/catalog/packages", headers=bearer(gate.access_token))).status_code == 403
    assert reserved["allowed_devices"] == [pos.device_id]


async def test_device_catalog_has_an_etag(client: httpx.AsyncClient, world: TenantWorld) -> None:
    package = await add_package(client, world, name="On sale")
    pos = await pair_device(client, world)
    first = await client.get("/v1/catalog/packages", headers=bearer(pos.access_token))
    etag = first.headers["etag"]
    again = await client.get(
        "/v1/catalog/packages", headers={**bearer(pos.access_token), "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    data(
        await client.patch(
            f"/v1/catalog/packages/{package['package_id']}",
            json={"price": 16_000},
            headers=await admin(client, world),
        )
    )
    changed = await client.get(
        "/v1/catalog/packages", headers={**bearer(pos.access_token), "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert data(changed)["items"][0]["price"] == 16_000


async def test_package_validation_and_permissions(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    headers = await admin(client, world)
    bad = [
        {"name": "No quota", "type": "multi", "price": 1},
        {"name": "Empty bundle", "type": "bundle", "price": 1},
        {"name": "Negative", "type": "single", "price": -1},
        {"name": "Unknown zone", "type": "single", "price": 1, "zones": ["moon"]},
        {
            "name": "Bad window",
            "type": "single",
            "price": 1,
            "active_window": {"from": "2031-03-15T00:00:00Z", "to": "2031-03-14T00:00:00Z"},
        },
    ]
    for body in bad:
        response = await client.post("/v1/catalog/packages", json=body, headers=headers)
        assert response.status_code == 400, body
        assert error_code(response) == "E_VALIDATION"
    supervisor = await add_employee(client, world, role="Supervisor", pin="9999", password="supervisor-pass")
    token = data(
        await client.post(
            "/v1/employees/login", json={"email": supervisor["email"], "password": "supervisor-pass"}
        )
    )["access_token"]
    denied = await client.post(
        "/v1/catalog/packages", json={"name": "X", "type": "single", "price": 1}, headers=bearer(token)
    )
    assert denied.status_code == 403
    package = await add_package(client, world)
    archived = data(await client.delete(f"/v1/catalog/packages/{package['package_id']}", headers=headers))
    assert archived["active"] is False
    events = {e["event_type"] for e in await deps.db[C.AUDITS].find({"tenant_id": world.tenant_id}).to_list()}
    assert {"package.created", "package.updated"} <= events


async def test_a_rule_that_would_conflict_silently_is_refused(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    single = await add_package(client, world)
    base = {
        "kind": "line_percent",
        "params": {"package_ids": [single["package_id"]], "percent_bp": 1_000},
        "priority": 5,
    }
    first = data(await add_rule(client, world, name="Members", **base), 201)
    clash = await add_rule(
        client, world, name="Students", **{**base, "params": {"package_ids": [], "percent_bp": 500}}
    )
    assert clash.status_code == 409
    body = clash.json()["error"]
    assert body["code"] == "E_RULE_CONFLICT"
    assert "Members" in body["message"]
    assert body["details"] == {"rule_id": first["rule_id"], "name": "Members"}
    # no conflict: another priority, other weekdays, or a store the other does not reach
    assert (await add_rule(client, world, name="P4", **{**base, "priority": 4})).status_code == 201
    weekend = {**base, "days_of_week": [5, 6]}
    data(
        await client.patch(
            f"/v1/pricing/rules/{first['rule_id']}",
            json={"days_of_week": [0, 1, 2, 3, 4]},
            headers=await admin(client, world),
        )
    )
    assert (await add_rule(client, world, name="Weekend", **weekend)).status_code == 201
    # and an update that would create a conflict is refused too
    moved = await client.patch(
        f"/v1/pricing/rules/{first['rule_id']}",
        json={"days_of_week": [6]},
        headers=await admin(client, world),
    )
    assert moved.status_code == 409
    same_code = await add_rule(
        client, world, name="Dup", kind="promo_code", params={"code": "X10", "percent_bp": 1000}
    )
    assert same_code.status_code == 201
    assert (
        await add_rule(client, world, name="Dup2", kind="promo_code", params={"code": "x10", "amount": 100})
    ).status_code == 409


async def quote(
    client: httpx.AsyncClient, token: str, store_id: str, lines: list[tuple[str, int]], **extra: object
) -> httpx.Response:
    body = {"store_id": store_id, "lines": [{"package_id": p, "qty": q} for p, q in lines], **extra}
    return await client.post("/v1/pricing/quote", json=body, headers=bearer(token))


@pytest.mark.parametrize(
    ("at", "unit"),
    [
        ("2031-03-11T02:59:59Z", 15_000),  # Tuesday 09:59:59 in Bangkok
        ("2031-03-11T03:00:00Z", 12_000),  # 10:00 Bangkok: the window opens
        ("2031-03-11T04:59:59Z", 12_000),
        ("2031-03-11T05:00:00Z", 15_000),  # 12:00 Bangkok: closed again
        ("2031-03-15T03:30:00Z", 15_000),  # Saturday
    ],
)
async def test_quote_switches_time_of_day_price_at_the_edge(
    client: httpx.AsyncClient, world: TenantWorld, at: str, unit: int
) -> None:
    ids = await demo_catalog(client, world)
    pos = await pair_device(client, world)
    result = data(await quote(client, pos.access_token, world.store_id, [(ids["single"], 2)], at=at))
    assert result["lines"][0]["unit_price"] == unit
    assert result["grand_total"] == 2 * unit
    assert result["tz"] == "Asia/Bangkok"


async def test_quote_with_promo_bundle_and_vat(client: httpx.AsyncClient, world: TenantWorld) -> None:
    ids = await demo_catalog(client, world)
    pos = await pair_device(client, world)
    result = data(
        await quote(
            client,
            pos.access_token,
            world.store_id,
            [(ids["family"], 1), (ids["two_hour"], 1)],
            promo_code="welcome10",
            at="2031-03-15T03:00:00Z",
        )
    )
    assert (result["subtotal"], result["discount_total"], result["grand_total"]) == (74_900, 7_490, 67_410)
    family = next(line for line in result["lines"] if line["package_id"] == ids["family"])
    assert sum(s["amount"] for s in family["bundle_shares"]) == family["net_total"]
    assert result["tax_total"] == sum(line["tax"] for line in result["lines"])
    unknown = await quote(client, pos.access_token, world.store_id, [(ids["single"], 1)], promo_code="NOPE10")
    assert unknown.status_code == 400
    assert "NOPE10" in unknown.json()["error"]["message"]


async def test_manual_discount_needs_the_permission_or_an_approval(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    ids = await demo_catalog(client, world)
    pos = await pair_device(client, world)
    await add_employee(client, world, role="Cashier", pin="1111")
    await add_employee(client, world, role="Supervisor", pin="9999")
    cashier = data(await pin_login(client, pos, "1111"))["access_token"]
    cart = [(ids["two_hour"], 1)]
    denied = await quote(client, cashier, world.store_id, cart, manual_discount={"amount": 5_000})
    assert denied.status_code == 403
    assert error_code(denied) == "E_APPROVAL_REQUIRED"  # the POS asks a supervisor for their PIN
    approval = data(
        await client.post(
            "/v1/approvals/verify_pin",
            json={
                "action": "manual_discount",
                "pin": "9999",
                "employee_id": holder_of(world.tenant_id, "9999"),
                "context": {"amount": 5_000},
            },
            headers=bearer(pos.access_token),
        )
    )["approval_token"]
    allowed = data(
        await quote(
            client, cashier, world.store_id, cart, manual_discount={"amount": 5_000}, approval_token=approval
        )
    )
    assert allowed["grand_total"] == 20_000
    supervisor = data(await pin_login(client, pos, "9999"))["access_token"]
    assert (
        data(await quote(client, supervisor, world.store_id, cart, manual_discount={"percent_bp": 10_000}))[
            "grand_total"
        ]
        == 0
    )


async def test_quote_refuses_what_is_not_for_sale(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    archived = await add_package(client, world, name="Old", active=False)
    elsewhere = await add_package(client, world, name="Annex only", store_id=world.other_store_id)
    pos = await pair_device(client, world)
    for package in (archived, elsewhere):
        response = await quote(client, pos.access_token, world.store_id, [(package["package_id"], 1)])
        assert response.status_code == 400
    other = await make_tenant(deps, "B")
    foreign = await add_package(client, other, name="Theirs")
    assert (
        await quote(client, pos.access_token, world.store_id, [(foreign["package_id"], 1)])
    ).status_code == 400
    assert (
        await quote(client, pos.access_token, other.store_id, [(foreign["package_id"], 1)])
    ).status_code == 404


async def test_a_pos_reads_its_active_rules_to_price_offline(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    await demo_catalog(client, world)
    retired = data(await add_rule(client, world, name="Old", kind="cart_amount", params={"amount": 100}), 201)
    data(await client.delete(f"/v1/pricing/rules/{retired['rule_id']}", headers=await admin(client, world)))
    pos = await pair_device(client, world)
    names = [
        r["name"]
        for r in data(await client.get("/v1/pricing/rules", headers=bearer(pos.access_token)))["items"]
    ]
    assert sorted(names) == ["Weekday morning", "Welcome"]
    elsewhere = await client.get(
        "/v1/pricing/rules", params={"store_id": world.other_store_id}, headers=bearer(pos.access_token)
    )
    assert elsewhere.status_code == 404
