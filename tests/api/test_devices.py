"""Device pairing, login and lifecycle: pending → approved → suspended/revoked/rotated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from tests.factories.identity import (
    TenantWorld,
    bearer,
    data,
    device_login,
    holder_of,
    make_tenant,
    owner_token,
    pair_device,
    pin_login,
)
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def audits_of(deps: Deps, event_type: str) -> list[dict[str, Any]]:
    return await deps.db[C.AUDITS].find({"event_type": event_type}, {"_id": 0}).to_list()


def device_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) guarded by the device route table, found by walking the app."""

    def guarded(dependant: Any) -> bool:
        return any(
            getattr(d.call, "device_route", None) is not None or guarded(d) for d in dependant.dependencies
        )

    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and guarded(route.dependant):
            found.extend((method, context.path) for method in context.methods or ())
    return sorted(found)


async def call(
    client: httpx.AsyncClient, method: str, path: str, token: str, world: TenantWorld
) -> httpx.Response:
    path = path.replace("{store_id}", world.store_id)
    bodies = {
        "verify_pin": {
            "action": "refund",
            "pin": world.owner_pin,
            "employee_id": holder_of(world.tenant_id, world.owner_pin),
            "target_id": "01SALE0000000000000000000",
        },
        "quote": {"store_id": world.store_id, "lines": [{"package_id": "none", "qty": 1}]},
    }
    body = bodies.get(path.rsplit("/", 1)[-1])
    params = {"store_id": world.store_id} if method == "GET" else None
    return await client.request(method, path, headers=bearer(token), json=body, params=params)


async def test_pairing_waits_for_approval(client: httpx.AsyncClient, world: TenantWorld, deps: Deps) -> None:
    admin = bearer(await owner_token(client, world))
    key = data(
        await client.post(
            f"/v1/stores/{world.store_id}/site_keys",
            json={"label": "Front desk", "expires_in_hours": 2},
            headers=admin,
        ),
        201,
    )
    assert key["site_key"].startswith("sk_")
    registered = data(
        await client.post(
            "/v1/auth/device/register",
            json={
                "site_key": key["site_key"],
                "type": "POS",
                "name": "Till 1",
                "meta": {"model": "Sunmi V2"},
            },
        ),
        201,
    )
    assert registered["status"] == "pending"
    assert registered["store_id"] == world.store_id

    stored = await deps.db[C.DEVICES].find_one({"device_id": registered["device_id"]})
    assert stored is not None
    assert registered["device_token"] not in str(stored)  # only the hash is kept
    assert key["site_key"] not in str(await deps.db[C.SITE_KEYS].find_one({}))

    login = await client.post(
        "/v1/auth/device/login",
        json={"device_id": registered["device_id"], "device_token": registered["device_token"]},
    )
    assert login.status_code == 403
    assert error_code(login) == "E_APPROVAL_REQUIRED"

    pending = data(await client.get("/v1/devices", params={"status": "pending"}, headers=admin))
    assert [d["device_id"] for d in pending["items"]] == [registered["device_id"]]
    approved = data(await client.post(f"/v1/devices/{registered['device_id']}/approve", headers=admin))
    assert approved["status"] == "active"

    token = await device_login(client, registered["device_id"], registered["device_token"])
    me = data(await client.get("/v1/devices/me", headers=bearer(token)))
    assert me["name"] == "Till 1"
    assert me["caps"]["can_sell"] is True
    keys = data(await client.get(f"/v1/stores/{world.store_id}/site_keys", headers=admin))["items"]
    assert keys[0]["uses"] == 1
    assert "site_key" not in keys[0]


async def test_expired_or_revoked_site_key_is_refused(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> None:
    admin = bearer(await owner_token(client, world))
    key = data(
        await client.post(
            f"/v1/stores/{world.store_id}/site_keys", json={"expires_in_hours": 1}, headers=admin
        ),
        201,
    )
    body = {"site_key": key["site_key"], "type": "GATE", "name": "Gate 1"}
    clock.advance(timedelta(hours=1, seconds=1))
    response = await client.post("/v1/auth/device/register", json=body)
    assert response.status_code == 401
    assert error_code(response) == "E_UNAUTHENTICATED"

    world.tokens.clear()  # the owner's 15-minute session ended meanwhile
    admin = bearer(await owner_token(client, world))
    fresh = data(await client.post(f"/v1/stores/{world.store_id}/site_keys", json={}, headers=admin), 201)
    data(await client.post(f"/v1/site_keys/{fresh['site_key_id']}/revoke", headers=admin))
    response = await client.post("/v1/auth/device/register", json={**body, "site_key": fresh["site_key"]})
    assert response.status_code == 401


async def test_wrong_device_token_is_401_and_audited(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    device = await pair_device(client, world)
    response = await client.post(
        "/v1/auth/device/login", json={"device_id": device.device_id, "device_token": "dt_wrong"}
    )
    assert response.status_code == 401
    failures = await audits_of(deps, "auth.device.login_failed")
    assert [(f["device_id"], f["ip"]) for f in failures] == [(device.device_id, "127.0.0.1")]


async def test_suspended_device_is_refused_on_every_business_endpoint(
    app: FastAPI, client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    device = await pair_device(client, world)
    routes = device_routes(app)
    assert ("GET", "/v1/devices/me") in routes
    assert ("POST", "/v1/approvals/verify_pin") in routes
    for method, path in routes:  # all reachable while active
        response = await call(client, method, path, device.access_token, world)
        assert response.status_code in (200, 400, 403, 404, 409), (method, path, response.text)  # reached it
        if response.status_code != 200:
            assert not error_code(response).startswith("E_DEVICE"), (method, path)

    admin = bearer(await owner_token(client, world))
    suspended = data(
        await client.post(f"/v1/devices/{device.device_id}/suspend", json={"reason": "lost"}, headers=admin)
    )
    assert suspended["status"] == "suspended"
    assert suspended["suspended_at"] is not None

    for method, path in [*routes, ("POST", "/v1/employees/login")]:
        response = await call(client, method, path, device.access_token, world)
        if path == "/v1/employees/login":
            response = await pin_login(client, device, world.owner_pin)
        assert response.status_code == 403, (method, path)
        assert error_code(response) == "E_DEVICE_SUSPENDED", (method, path)
    login = await client.post(
        "/v1/auth/device/login", json={"device_id": device.device_id, "device_token": device.device_token}
    )
    assert error_code(login) == "E_DEVICE_SUSPENDED"
    denied = await audits_of(deps, "auth.device.denied")
    assert len(denied) == len(routes) + 2
    assert {d["device_id"] for d in denied} == {device.device_id}

    data(await client.post(f"/v1/devices/{device.device_id}/reactivate", headers=admin))
    assert (await client.get("/v1/devices/me", headers=bearer(device.access_token))).status_code == 200


async def test_revoked_device_is_refused_for_good(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    device = await pair_device(client, world)
    admin = bearer(await owner_token(client, world))
    data(await client.post(f"/v1/devices/{device.device_id}/revoke", headers=admin))
    response = await client.get("/v1/stores", headers=bearer(device.access_token))
    assert response.status_code == 403
    assert error_code(response) == "E_DEVICE_REVOKED"
    login = await client.post(
        "/v1/auth/device/login", json={"device_id": device.device_id, "device_token": device.device_token}
    )
    assert error_code(login) == "E_DEVICE_REVOKED"
    back = await client.post(f"/v1/devices/{device.device_id}/reactivate", headers=admin)
    assert back.status_code == 409
    assert error_code(back) == "E_CONFLICT"
    assert len(await audits_of(deps, "auth.device.denied")) == 2


async def test_rotating_the_token_ends_every_session(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    device = await pair_device(client, world)
    cashier_pin = "2468"
    from tests.factories.identity import add_employee

    await add_employee(client, world, role="Cashier", pin=cashier_pin)
    employee_session = data(await pin_login(client, device, cashier_pin))["access_token"]
    assert (await client.get("/v1/employees/me", headers=bearer(employee_session))).status_code == 200

    admin = bearer(await owner_token(client, world))
    rotated = data(await client.post(f"/v1/devices/{device.device_id}/rotate_token", headers=admin))
    assert rotated["token_version"] == 2
    assert rotated["device_token"] != device.device_token

    for token in (device.access_token, employee_session):
        response = await client.get("/v1/devices/me", headers=bearer(token))
        assert response.status_code == 401
        assert error_code(response) == "E_UNAUTHENTICATED"
    old = await client.post(
        "/v1/auth/device/login", json={"device_id": device.device_id, "device_token": device.device_token}
    )
    assert old.status_code == 401

    clock.advance(timedelta(minutes=5))
    new_token = await device_login(client, device.device_id, rotated["device_token"])
    clock.advance(timedelta(minutes=2))
    me = data(await client.get("/v1/devices/me", headers=bearer(new_token)))
    assert me["last_used_at"] == "2031-03-14T05:07:00.000Z"
    assert me["token_version"] == 2


async def test_last_used_is_written_at_most_once_a_minute(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    device = await pair_device(client, world)
    clock.advance(timedelta(seconds=30))
    await client.get("/v1/devices/me", headers=bearer(device.access_token))
    stored = await deps.db[C.DEVICES].find_one({"device_id": device.device_id})
    assert stored is not None
    assert stored["last_used_at"] == "2031-03-14T05:00:00.000Z"  # login time, < 1 min ago (stored as a stamp)
    clock.advance(timedelta(seconds=31))
    await client.get("/v1/devices/me", headers=bearer(device.access_token))
    stored = await deps.db[C.DEVICES].find_one({"device_id": device.device_id})
    assert stored is not None
    assert stored["last_used_at"] == "2031-03-14T05:01:01.000Z"


async def test_expired_access_token_is_401(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> None:
    device = await pair_device(client, world)
    clock.advance(timedelta(minutes=15))
    response = await client.get("/v1/devices/me", headers=bearer(device.access_token))
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


async def test_device_types_keep_to_their_routes(client: httpx.AsyncClient, world: TenantWorld) -> None:
    gate = await pair_device(client, world, type="GATE")
    kiosk = await pair_device(client, world, type="KIOSK")
    response = await client.post(
        "/v1/approvals/verify_pin",
        json={
            "action": "refund",
            "pin": world.owner_pin,
            "employee_id": holder_of(world.tenant_id, world.owner_pin),
            "target_id": "01SALE0000000000000000000",
        },
        headers=bearer(gate.access_token),
    )
    assert response.status_code == 403
    assert error_code(response) == "E_PERMISSION"
    kiosk_pin = await pin_login(client, kiosk, world.owner_pin)
    assert kiosk_pin.status_code == 403
    for token in (gate.access_token, kiosk.access_token):
        for path in ("/v1/devices", "/v1/audits", "/v1/employees", "/v1/roles", "/v1/access_logs"):
            response = await client.get(path, headers=bearer(token))
            assert response.status_code == 403, path
            assert error_code(response) == "E_PERMISSION"


async def test_admin_updates_notes_and_caps(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    device = await pair_device(client, world)
    admin = bearer(await owner_token(client, world))
    updated = data(
        await client.patch(
            f"/v1/devices/{device.device_id}",
            json={"notes": "Screen cracked", "caps": {"can_sell": False}},
            headers=admin,
        )
    )
    assert updated["notes"] == "Screen cracked"
    assert updated["caps"] == {"can_sell": False, "can_redeem": True, "kiosk_mode": False, "offline_cap": 10}
    assert len(await audits_of(deps, "device.updated")) == 1
    bad = await client.patch(f"/v1/devices/{device.device_id}", json={"caps": {"fly": True}}, headers=admin)
    assert bad.status_code == 400
