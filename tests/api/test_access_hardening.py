"""Access hardening, tried as an attacker would: PINs guessed from many devices and addresses,
lockout used as a weapon, sessions that should end, roles edited beyond one's own, and risky
actions repeated by one member of staff."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.staff import lockout
from tests.factories.identity import (
    PairedDevice,
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
from tests.factories.sales import open_till, sell
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@asynccontextmanager
async def client_at(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address` (the peer the API sees)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
        yield c


async def alerts(client: httpx.AsyncClient, world: TenantWorld) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = data(
        await client.get("/v1/alerts", headers=bearer(await owner_token(client, world)))
    )["items"]
    return items


# ---- guessing PINs -------------------------------------------------------------------------------


async def test_pin_guessing_from_many_devices_is_bounded_per_employee_and_tenant_and_alerts(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    """Twelve devices guess three employees' PINs: whatever the number of devices, only the daily
    allowance for strangers is ever checked, and the owner hears about it."""
    staff = [await add_employee(client, world, role="Cashier", pin=f"{7000 + n}") for n in range(3)]
    devices = []
    for n in range(12):
        devices.append(await pair_device(client, world))
        if n % 8 == 7:
            clock.advance(timedelta(minutes=1))  # registrations are limited per address
    answers: dict[int, int] = {}
    guess = 0
    for device in devices:
        for employee in staff:
            for _ in range(6):
                guess += 1
                wrong = f"{guess % 10_000:04d}" if guess % 10_000 not in range(7000, 7003) else "0000"
                status = (
                    await pin_login(client, device, wrong, employee_id=employee["employee_id"])
                ).status_code
                answers[status] = answers.get(status, 0) + 1
        clock.advance(timedelta(seconds=10))
    checked = answers.get(401, 0)
    assert checked == 3 * lockout.UNTRUSTED_DAILY_BUDGET  # 216 tries; 30 were really checked
    assert set(answers) <= {401, 423}
    # What those limits allow, at full speed with unlimited devices and addresses:
    assert lockout.days_to_guess(employees=20, pin_digits=4) > 30
    assert lockout.days_to_guess(employees=1_000, pin_digits=4, trusted_pairs=5) > 30
    raised = await alerts(client, world)
    kinds = sorted(a["kind"] for a in raised)
    assert kinds == ["account_guessing"] * 3 + ["pin_burst"]  # once per cause, never twice
    burst = next(a for a in raised if a["kind"] == "pin_burst")
    assert "wrong PINs" in burst["title"]
    # The cashiers still sign in where they always do (once trusted there), and the right PIN on a
    # fresh device waits for tomorrow: the day's allowance for strangers is spent.
    fresh = await pair_device(client, world)
    assert (
        error_code(await pin_login(client, fresh, "7000", employee_id=staff[0]["employee_id"]))
        == "E_PIN_LOCKED"
    )
    clock.advance(timedelta(days=1))
    fresh.access_token = data(
        await client.post(
            "/v1/auth/device/login", json={"device_id": fresh.device_id, "device_token": fresh.device_token}
        )
    )["access_token"]
    assert (await pin_login(client, fresh, "7000", employee_id=staff[0]["employee_id"])).status_code == 200


async def test_a_pin_alone_names_nobody(client: httpx.AsyncClient, world: TenantWorld) -> None:
    device = await pair_device(client, world)
    refused = await client.post(
        "/v1/employees/login", json={"pin": world.owner_pin}, headers=bearer(device.access_token)
    )
    assert error_code(refused) == "E_VALIDATION"
    tiles = data(await client.get("/v1/devices/me/staff", headers=bearer(device.access_token)))
    assert [t["name"] for t in tiles] == ["Owner A"]
    assert set(tiles[0]) == {"employee_id", "name"}  # a name tile, nothing more


# ---- lockout as a weapon ---------------------------------------------------------------------------


async def test_a_stranger_cannot_lock_the_owner_out_of_their_own_network(
    app: FastAPI, world: TenantWorld, deps: Deps
) -> None:
    async with client_at(app, "203.0.113.7") as home:
        assert await login_password(home, world.owner_email, world.owner_password)  # the owner's network
    wrong = {"email": world.owner_email, "password": "not-the-password"}
    for n in range(4):  # strangers on four addresses spend the whole allowance for strangers
        async with client_at(app, f"198.51.100.{n}") as stranger:
            codes = [(await stranger.post("/v1/employees/login", json=wrong)).status_code for _ in range(6)]
            assert codes[0] in (401, 423)
    async with client_at(app, "198.51.100.99") as stranger:
        right = await stranger.post(
            "/v1/employees/login", json={"email": world.owner_email, "password": world.owner_password}
        )
        assert error_code(right) == "E_PIN_LOCKED"  # even the right password, from a new address
    async with client_at(app, "203.0.113.7") as home:
        assert await login_password(home, world.owner_email, world.owner_password)  # still gets in
    failures = await deps.db[C.AUDITS].count_documents({"event_type": "auth.employee.login_failed"})
    assert failures == lockout.UNTRUSTED_DAILY_BUDGET  # each checked failure audited, with its address
    async with client_at(app, "203.0.113.7") as home:
        raised = await alerts(home, world)
    assert [a["kind"] for a in raised] == ["account_guessing"]


# ---- sessions that end --------------------------------------------------------------------------------


async def signed_in(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/v1/employees/me", headers=bearer(token))).status_code


async def test_sign_out_ends_every_session_of_the_employee(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    device = await pair_device(client, world)
    back_office = await login_password(client, world.owner_email, world.owner_password)
    on_device = data(await pin_login(client, device, world.owner_pin))["access_token"]
    assert await signed_in(client, back_office) == 200
    data(await client.post("/v1/employees/logout", headers=bearer(back_office)))
    assert await signed_in(client, back_office) == 401
    assert await signed_in(client, on_device) == 401
    refreshed = await client.post("/v1/employees/refresh", headers=bearer(back_office))
    assert refreshed.status_code == 401  # not for the 12 hours a refresh used to allow
    assert (
        await signed_in(client, await login_password(client, world.owner_email, world.owner_password)) == 200
    )


async def test_password_role_and_status_changes_end_sessions(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    owner = bearer(await owner_token(client, world))
    manager = await add_employee(client, world, role="Manager", pin="4321", password="manager-password-1")
    manager_id = manager["employee_id"]

    async def session() -> str:
        return await login_password(client, manager["email"], "manager-password-1")

    token = await session()
    data(
        await client.patch(
            f"/v1/employees/{manager_id}", json={"password": "manager-password-1"}, headers=owner
        )
    )
    assert await signed_in(client, token) == 401
    token = await session()
    data(
        await client.put(
            f"/v1/employees/{manager_id}/memberships",
            json={"memberships": [{"store_id": world.store_id, "role_ids": [world.role_ids["Supervisor"]]}]},
            headers=owner,
        )
    )
    assert await signed_in(client, token) == 401
    token = await session()
    data(await client.post(f"/v1/employees/{manager_id}/suspend", headers=owner))
    assert await signed_in(client, token) == 401
    refused = await deps.db[C.AUDITS].find_one({"event_type": "auth.employee.suspended_refused"})
    assert refused is not None
    assert (refused["actor_id"], refused["ip"]) == (manager_id, "127.0.0.1")


async def test_changing_a_roles_permissions_ends_its_holders_sessions(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    owner = bearer(await owner_token(client, world))
    role = data(
        await client.post("/v1/roles", json={"name": "Floor", "permissions": ["sell"]}, headers=owner), 201
    )
    body = {
        "name": "Floor One",
        "email": "floor1@staff.test",
        "password": "floor-password-1",
        "memberships": [{"store_id": world.store_id, "role_ids": [role["role_id"]]}],
    }
    data(await client.post("/v1/employees", json=body, headers=owner), 201)
    token = await login_password(client, "floor1@staff.test", "floor-password-1")
    data(
        await client.patch(
            f"/v1/roles/{role['role_id']}", json={"permissions": ["sell", "redeem"]}, headers=owner
        )
    )
    assert await signed_in(client, token) == 401


# ---- roles within one's own permissions ---------------------------------------------------------------


async def test_a_manager_cannot_create_strip_or_rename_roles_beyond_their_own(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    owner = bearer(await owner_token(client, world))
    manager = await add_employee(
        client, world, role="Manager", pin="4321", password="manager-password-1", store_id="*"
    )
    as_manager = bearer(await login_password(client, manager["email"], "manager-password-1"))
    beyond = await client.post(
        "/v1/roles", json={"name": "Settings", "permissions": ["settings_write"]}, headers=as_manager
    )
    assert error_code(beyond) == "E_PERMISSION"
    powerful = data(
        await client.post(
            "/v1/roles", json={"name": "Accounts", "permissions": ["settings_write", "sell"]}, headers=owner
        ),
        201,
    )
    for change in ({"name": "Renamed"}, {"permissions": ["sell"]}):
        refused = await client.patch(f"/v1/roles/{powerful['role_id']}", json=change, headers=as_manager)
        assert error_code(refused) == "E_PERMISSION"
    assert (
        error_code(await client.delete(f"/v1/roles/{powerful['role_id']}", headers=as_manager))
        == "E_PERMISSION"
    )
    mine = data(
        await client.post("/v1/roles", json={"name": "Till", "permissions": ["sell"]}, headers=as_manager),
        201,
    )
    assert data(
        await client.patch(f"/v1/roles/{mine['role_id']}", json={"name": "Till 2"}, headers=as_manager)
    )


# ---- risky actions per employee --------------------------------------------------------------------


async def test_approvals_a_supervisor_gives_are_rate_limited_per_supervisor_on_any_device(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> None:
    supervisor = await add_employee(client, world, role="Supervisor", pin="9999")
    devices: list[PairedDevice] = [await pair_device(client, world) for _ in range(3)]
    codes: list[int] = []
    for n in range(33):
        device = devices[n % 3]  # spread over devices: the per-device limit never bites
        response = await client.post(
            "/v1/approvals/verify_pin",
            json={
                "action": "reprint",
                "pin": "9999",
                "employee_id": supervisor["employee_id"],
                "target_id": f"T{n}",
            },
            headers=bearer(device.access_token),
        )
        codes.append(response.status_code)
        if n % 10 == 9:
            clock.advance(timedelta(minutes=1))
    assert codes[:30] == [200] * 30
    assert codes[30:] == [429] * 3


# ---- QR tokens stay with the till that sold them ----------------------------------------------------


async def test_only_the_selling_device_and_the_back_office_read_a_tickets_qr_token(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    till = await open_till(client, world)
    ticket = data(await sell(client, till, "qr-sale-01", [("single", 1)]), 201)["tickets"][0]
    other_pos = await pair_device(client, world)
    gate = await pair_device(client, world, type="GATE")
    kiosk = await pair_device(client, world, type="KIOSK")
    path = f"/v1/tickets/{ticket['ticket_id']}"
    assert data(await client.get(path, headers=bearer(till.cashier)))["qr_token"] == ticket["qr_token"]
    owner = bearer(await owner_token(client, world))
    assert data(await client.get(path, headers=owner))["qr_token"] == ticket["qr_token"]
    for device in (other_pos, gate, kiosk):
        seen = data(await client.get(path, headers=bearer(device.access_token)))
        assert seen["qr_token"] is None
        listed = data(
            await client.get(
                "/v1/tickets",
                params={"short_code": ticket["short_code"]},
                headers=bearer(device.access_token),
            )
        )["items"]
        assert [t["qr_token"] for t in listed] == [None]
