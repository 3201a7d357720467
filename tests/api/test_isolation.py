"""Tenant and store isolation: a device, an employee and an admin of tenant A read or change
nothing of tenant B, nor of a store they do not belong to (404, never 200)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import httpx
import pytest

from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from tests.factories.identity import (
    TenantWorld,
    add_employee,
    bearer,
    data,
    login_password,
    make_tenant,
    owner_token,
    pair_device,
    pin_login,
)
from tests.helpers import error_code

TARGET_PINS = (f"{n:04d}" for n in itertools.count(7000))  # PINs are unique per tenant


@dataclass
class Targets:
    store_id: str
    device_id: str
    employee_id: str
    role_id: str
    site_key_id: str


async def targets_in(client: httpx.AsyncClient, world: TenantWorld, store_id: str) -> Targets:
    admin = bearer(await owner_token(client, world))
    device = await pair_device(client, world, store_id=store_id)
    employee = await add_employee(client, world, role="Cashier", pin=next(TARGET_PINS), store_id=store_id)
    role = data(
        await client.post(
            "/v1/roles", json={"name": f"Custom {store_id[-4:]}", "permissions": ["sell"]}, headers=admin
        ),
        201,
    )
    key = data(await client.post(f"/v1/stores/{store_id}/site_keys", json={}, headers=admin), 201)
    return Targets(store_id, device.device_id, employee["employee_id"], role["role_id"], key["site_key_id"])


def attempts(t: Targets) -> list[tuple[str, str, dict[str, object] | None]]:
    """Every read and write a caller could aim at another tenant's or store's records."""
    return [
        ("GET", f"/v1/stores/{t.store_id}", None),
        ("PATCH", f"/v1/stores/{t.store_id}", {"name": "Hijacked"}),
        ("POST", f"/v1/stores/{t.store_id}/site_keys", {}),
        ("GET", f"/v1/stores/{t.store_id}/site_keys", None),
        ("POST", f"/v1/site_keys/{t.site_key_id}/revoke", None),
        ("GET", f"/v1/devices/{t.device_id}", None),
        ("PATCH", f"/v1/devices/{t.device_id}", {"notes": "mine now"}),
        ("POST", f"/v1/devices/{t.device_id}/suspend", None),
        ("POST", f"/v1/devices/{t.device_id}/revoke", None),
        ("POST", f"/v1/devices/{t.device_id}/rotate_token", None),
        ("GET", f"/v1/employees/{t.employee_id}", None),
        ("PATCH", f"/v1/employees/{t.employee_id}", {"name": "Hijacked"}),
        ("POST", f"/v1/employees/{t.employee_id}/reset_pin", {"pin": "123456"}),
        ("POST", f"/v1/employees/{t.employee_id}/suspend", None),
        ("PATCH", f"/v1/roles/{t.role_id}", {"name": "Hijacked"}),
        ("DELETE", f"/v1/roles/{t.role_id}", None),
    ]


@pytest.fixture
async def two_tenants(
    deps: Deps, client: httpx.AsyncClient
) -> tuple[TenantWorld, TenantWorld, Targets, Targets]:
    a, b = await make_tenant(deps, "A"), await make_tenant(deps, "B")
    return a, b, await targets_in(client, b, b.store_id), await targets_in(client, a, a.other_store_id)


async def callers(client: httpx.AsyncClient, a: TenantWorld) -> dict[str, str]:
    """Tenant A's device, its employee on that device, its store-scoped manager, and its owner."""
    device = await pair_device(client, a)
    await add_employee(client, a, role="Supervisor", pin="6543")
    manager = await add_employee(client, a, role="Manager", pin="6544", password="manager-password")
    return {
        "device": device.access_token,
        "employee_on_device": data(await pin_login(client, device, "6543"))["access_token"],
        "store_manager": await login_password(client, manager["email"], "manager-password"),
        "owner": await owner_token(client, a),
    }


async def test_nothing_of_another_tenant_is_reachable(
    client: httpx.AsyncClient, two_tenants: tuple[TenantWorld, TenantWorld, Targets, Targets]
) -> None:
    a, b, b_targets, _ = two_tenants
    ghost = Targets(*(new_id() for _ in range(5)))  # ids that exist nowhere
    for caller, token in (await callers(client, a)).items():
        for (method, path, body), (_, ghost_path, _) in zip(
            attempts(b_targets), attempts(ghost), strict=True
        ):
            response = await client.request(method, path, json=body, headers=bearer(token))
            assert response.status_code in (403, 404), (caller, method, path, response.status_code)
            # The answer is the same as for an id that exists nowhere: B's records cannot be probed.
            missing = await client.request(method, ghost_path, json=body, headers=bearer(token))
            assert (response.status_code, error_code(response)) == (missing.status_code, error_code(missing))
            if caller == "owner":
                assert response.status_code == 404, (caller, method, path)
    # and nothing changed in B
    b_admin = bearer(await owner_token(client, b))
    device = data(await client.get(f"/v1/devices/{b_targets.device_id}", headers=b_admin))
    assert device["status"] == "active"
    assert device["notes"] == ""
    assert data(await client.get(f"/v1/stores/{b_targets.store_id}", headers=b_admin))["name"] == "B Main"


async def test_lists_show_only_the_callers_tenant_and_stores(
    client: httpx.AsyncClient, two_tenants: tuple[TenantWorld, TenantWorld, Targets, Targets]
) -> None:
    a, b, _, annex = two_tenants
    tokens = await callers(client, a)
    owner, manager = bearer(tokens["owner"]), bearer(tokens["store_manager"])

    owner_stores = {s["store_id"] for s in data(await client.get("/v1/stores", headers=owner))["items"]}
    assert owner_stores == {a.store_id, a.other_store_id}
    manager_stores = {s["store_id"] for s in data(await client.get("/v1/stores", headers=manager))["items"]}
    assert manager_stores == {a.store_id}
    device_stores = {
        s["store_id"] for s in data(await client.get("/v1/stores", headers=bearer(tokens["device"])))["items"]
    }
    assert device_stores == {a.store_id}

    owner_devices = {d["store_id"] for d in data(await client.get("/v1/devices", headers=owner))["items"]}
    assert owner_devices == {a.store_id, a.other_store_id}
    manager_devices = data(await client.get("/v1/devices", headers=manager))["items"]
    assert {d["store_id"] for d in manager_devices} == {a.store_id}
    assert annex.device_id not in {d["device_id"] for d in manager_devices}

    for caller in (owner, manager):
        employees = data(await client.get("/v1/employees", headers=caller))["items"]
        assert all(e["email"].endswith((".test",)) for e in employees)
        assert b.owner_email not in {e["email"] for e in employees}
    manager_view = {
        e["employee_id"] for e in data(await client.get("/v1/employees", headers=manager))["items"]
    }
    assert annex.employee_id not in manager_view

    audits = data(await client.get("/v1/audits", params={"limit": 200}, headers=owner))["items"]
    assert audits
    assert not any(entry["store_id"] == b.store_id for entry in audits)
    assert not any(entry["payload"].get("owner_email") == b.owner_email for entry in audits)


async def test_store_manager_cannot_touch_another_store(
    client: httpx.AsyncClient, two_tenants: tuple[TenantWorld, TenantWorld, Targets, Targets]
) -> None:
    a, _, _, annex = two_tenants
    manager = bearer((await callers(client, a))["store_manager"])
    for method, path, body in attempts(annex):
        if path.startswith("/v1/roles"):
            continue  # roles are tenant-wide; a store manager may not edit them at all (403)
        response = await client.request(method, path, json=body, headers=manager)
        if (
            method == "GET"
            or path.startswith(("/v1/devices", "/v1/employees", "/v1/site_keys"))
            or "site_keys" in path
        ):
            # permissions the manager holds, at their own store only
            assert response.status_code == 404, (method, path, response.text)
            assert error_code(response) == "E_NOT_FOUND"
        else:
            assert response.status_code == 403, (method, path, response.text)  # settings_write: not held
