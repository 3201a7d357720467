"""Employee logins (password, PIN, PIN on a device), lockout, rate limits, RBAC and approvals."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from boxoffice.core.errors import ApprovalRequired
from boxoffice.staff.service import consume_approval
from tests.factories.identity import (
    TenantWorld,
    add_employee,
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


async def audits(deps: Deps, event_type: str) -> list[dict[str, Any]]:
    return await deps.db[C.AUDITS].find({"event_type": event_type}, {"_id": 0}).sort("seq", 1).to_list()


async def test_the_back_office_needs_the_password_a_pin_alone_opens_nothing_there(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    session = data(
        await client.post(
            "/v1/employees/login", json={"email": world.owner_email, "password": world.owner_password}
        )
    )
    assert session["store_id"] is None
    me = data(await client.get("/v1/employees/me", headers=bearer(session["access_token"])))
    assert me["store_ids"] == ["*"]
    assert "manual_discount" in me["permissions"]
    assert session["expires_at"] == "2031-03-14T05:15:00.000Z"
    owner_id = me["employee_id"]
    for body in (
        {"email": world.owner_email, "pin": world.owner_pin},
        {"employee_id": owner_id, "pin": world.owner_pin},
    ):
        refused = await client.post("/v1/employees/login", json=body)
        assert error_code(refused) == "E_VALIDATION"  # a PIN opens a session only on a paired device


async def test_wrong_password_is_401_and_audited_with_ip(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    response = await client.post(
        "/v1/employees/login", json={"email": world.owner_email, "password": "nope-nope"}
    )
    assert response.status_code == 401
    assert error_code(response) == "E_UNAUTHENTICATED"
    unknown = await client.post(
        "/v1/employees/login", json={"email": "ghost@x.test", "password": "nope-nope"}
    )
    assert unknown.json()["error"]["message"] == response.json()["error"]["message"]  # no account probing
    failures = await audits(deps, "auth.employee.login_failed")
    assert len(failures) == 1
    assert failures[0]["ip"] == "127.0.0.1"
    assert failures[0]["payload"]["method"] == "password"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@b.test"},
        {"email": "a@b.test", "pin": "12"},
        {"pin": "1234"},
        {"email": "x", "password": "p"},
    ],
)
async def test_malformed_logins_are_400(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    response = await client.post("/v1/employees/login", json=body)
    assert response.status_code == 400
    assert error_code(response) == "E_VALIDATION"


async def test_pin_login_on_a_device_binds_the_session(client: httpx.AsyncClient, world: TenantWorld) -> None:
    device = await pair_device(client, world)
    cashier = await add_employee(client, world, role="Cashier", pin="1111")
    session = data(await pin_login(client, device, "1111"))
    assert session["employee_id"] == cashier["employee_id"]
    assert session["device_id"] == device.device_id
    assert session["store_id"] == world.store_id
    me = data(await client.get("/v1/employees/me", headers=bearer(session["access_token"])))
    assert me["store_id"] == world.store_id
    assert me["permissions"] == ["redeem", "sell", "shift_close", "shift_open"]
    # A cashier on a device is no back-office user.
    response = await client.get("/v1/employees", headers=bearer(session["access_token"]))
    assert response.status_code == 403


async def test_pin_login_needs_membership_at_the_device_store(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    annex_device = await pair_device(client, world, store_id=world.other_store_id)
    await add_employee(client, world, role="Cashier", pin="1212", store_id=world.store_id)
    response = await pin_login(client, annex_device, "1212")
    assert response.status_code == 403
    assert error_code(response) == "E_PERMISSION"


async def test_pin_failures_are_audited_with_device_and_ip(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    device = await pair_device(client, world)
    cashier = await add_employee(client, world, role="Cashier", pin="1111")
    nobody = await pin_login(client, device, "0000", employee_id="01NOSUCHEMPLOYEE0000000000")
    wrong = await pin_login(client, device, "1112", employee_id=cashier["employee_id"])
    assert nobody.status_code == wrong.status_code == 401
    failures = await audits(deps, "auth.employee.login_failed")
    assert [(f["device_id"], f["ip"], f["actor_id"]) for f in failures] == [
        (device.device_id, "127.0.0.1", None),
        (device.device_id, "127.0.0.1", cashier["employee_id"]),
    ]


async def test_five_failures_lock_the_employee_on_that_device_each_lockout_longer(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    device = await pair_device(client, world)
    own_device = await pair_device(client, world)
    cashier = await add_employee(client, world, role="Cashier", pin="1111")
    who = cashier["employee_id"]
    assert (await pin_login(client, own_device, "1111")).status_code == 200  # the cashier's usual POS
    for _ in range(5):
        clock.advance(timedelta(minutes=2))
        assert (await pin_login(client, device, "9876", employee_id=who)).status_code == 401
    locked = await pin_login(client, device, "1111")
    assert locked.status_code == 423
    assert error_code(locked) == "E_PIN_LOCKED"
    assert int(locked.headers["retry-after"]) == 15 * 60
    assert len(await audits(deps, "auth.employee.locked")) == 1
    own_device.access_token = await device_login(client, own_device.device_id, own_device.device_token)
    assert (await pin_login(client, own_device, "1111")).status_code == 200  # never locked out of their own

    clock.advance(timedelta(minutes=15))
    device.access_token = await device_login(
        client, device.device_id, device.device_token
    )  # 15-minute tokens
    for _ in range(5):
        assert (await pin_login(client, device, "9876", employee_id=who)).status_code == 401
    again = await pin_login(client, device, "1111")
    assert int(again.headers["retry-after"]) == 30 * 60  # the second lockout lasts twice as long
    clock.advance(timedelta(minutes=30))
    device.access_token = await device_login(client, device.device_id, device.device_token)
    spent = await pin_login(client, device, "1111")  # ten wrong today from a device they never used
    assert error_code(spent) == "E_PIN_LOCKED"
    assert "used before" in spent.json()["error"]["message"]
    own_device.access_token = await device_login(client, own_device.device_id, own_device.device_token)
    assert (await pin_login(client, own_device, "1111")).status_code == 200


async def test_failures_spread_over_more_than_the_window_do_not_lock(
    client: httpx.AsyncClient, world: TenantWorld, clock: FixedClock
) -> None:
    body = {"email": world.owner_email, "password": "wrong-password"}
    for _ in range(8):
        clock.advance(timedelta(minutes=4))  # never 5 inside one 15-minute window
        assert (await client.post("/v1/employees/login", json=body)).status_code == 401
        if _ == 3:
            clock.advance(timedelta(minutes=15))
    ok = await client.post("/v1/employees/login", json={**body, "password": world.owner_password})
    assert ok.status_code == 200


async def test_concurrent_failures_all_count(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    body = {"email": world.owner_email, "password": "wrong-password"}
    responses = await asyncio.gather(*(client.post("/v1/employees/login", json=body) for _ in range(8)))
    assert all(r.status_code in (401, 423) for r in responses)
    pair = await deps.db[C.AUTH_FAILURES].find_one({"source": "ip:127.0.0.1"})
    assert pair is not None
    assert pair["lockouts"] == 1  # eight concurrent failures: the fifth locked, none was lost
    locked = await client.post("/v1/employees/login", json={**body, "password": world.owner_password})
    assert locked.status_code == 423


async def test_login_attempts_are_rate_limited(client: httpx.AsyncClient, clock: FixedClock) -> None:
    body = {"email": "nobody@x.test", "password": "wrong-password"}
    codes = [(await client.post("/v1/employees/login", json=body)).status_code for _ in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429
    limited = await client.post("/v1/employees/login", json=body)
    assert error_code(limited) == "E_RATE_LIMITED"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    clock.advance(timedelta(minutes=1))
    assert (await client.post("/v1/employees/login", json=body)).status_code == 401


async def test_device_registration_is_rate_limited(client: httpx.AsyncClient) -> None:
    body = {"site_key": "sk_not_a_real_key", "type": "POS", "name": "x"}
    codes = [(await client.post("/v1/auth/device/register", json=body)).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]


async def test_cashier_cannot_approve_a_manual_discount(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    device = await pair_device(client, world)
    await add_employee(client, world, role="Cashier", pin="1111")
    response = await client.post(
        "/v1/approvals/verify_pin",
        json={
            "action": "manual_discount",
            "pin": "1111",
            "employee_id": holder_of(world.tenant_id, "1111"),
            "context": {"amount": 1_000},
        },
        headers=bearer(device.access_token),
    )
    assert response.status_code == 403
    assert error_code(response) == "E_PERMISSION"


async def test_supervisor_approval_is_single_use_and_bound(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    device = await pair_device(client, world)
    supervisor = await add_employee(client, world, role="Supervisor", pin="9999")
    granted = data(
        await client.post(
            "/v1/approvals/verify_pin",
            json={
                "action": "refund",
                "pin": "9999",
                "employee_id": supervisor["employee_id"],
                "context": {"target_type": "sale", "target_id": "S1"},
            },
            headers=bearer(device.access_token),
        )
    )
    assert granted["approver_id"] == supervisor["employee_id"]
    assert granted["expires_at"] == "2031-03-14T05:05:00.000Z"
    token = granted["approval_token"]
    common = {"tenant_id": world.tenant_id, "token": token, "store_id": world.store_id}

    with pytest.raises(ApprovalRequired):
        await consume_approval(deps, **common, action="reprint", target_id="S1")  # other action
    with pytest.raises(ApprovalRequired):
        await consume_approval(deps, **common, action="refund", target_id="S2")  # other target
    with pytest.raises(ApprovalRequired):
        await consume_approval(
            deps, **{**common, "store_id": world.other_store_id}, action="refund", target_id="S1"
        )
    used = await consume_approval(deps, **common, action="refund", target_id="S1")
    assert used["approver_id"] == supervisor["employee_id"]
    with pytest.raises(ApprovalRequired):
        await consume_approval(deps, **common, action="refund", target_id="S1")  # second use

    late = data(
        await client.post(
            "/v1/approvals/verify_pin",
            json={
                "action": "reprint",
                "pin": "9999",
                "employee_id": holder_of(world.tenant_id, "9999"),
                "target_id": "T1",
            },
            headers=bearer(device.access_token),
        )
    )
    clock.advance(timedelta(minutes=5))
    with pytest.raises(ApprovalRequired):
        await consume_approval(
            deps, **{**common, "token": late["approval_token"]}, action="reprint", target_id="T1"
        )
    assert len(await audits(deps, "approval.granted")) == 2


async def test_concurrent_uses_of_one_approval_succeed_once(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    device = await pair_device(client, world)
    await add_employee(client, world, role="Supervisor", pin="9999")
    granted = data(
        await client.post(
            "/v1/approvals/verify_pin",
            json={
                "action": "refund",
                "pin": "9999",
                "employee_id": holder_of(world.tenant_id, "9999"),
                "target_id": "S9",
            },
            headers=bearer(device.access_token),
        )
    )

    async def use() -> bool:
        try:
            await consume_approval(
                deps,
                tenant_id=world.tenant_id,
                token=granted["approval_token"],
                action="refund",
                store_id=world.store_id,
                target_id="S9",
            )
        except ApprovalRequired:
            return False
        return True

    assert sum(await asyncio.gather(*(use() for _ in range(20)))) == 1


async def test_wrong_approval_pin_counts_toward_lockout(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    device = await pair_device(client, world)
    supervisor = await add_employee(client, world, role="Supervisor", pin="9999")
    body = {"action": "refund", "pin": "9990", "employee_id": supervisor["employee_id"], "target_id": "S1"}
    for _ in range(5):
        response = await client.post(
            "/v1/approvals/verify_pin", json=body, headers=bearer(device.access_token)
        )
        assert response.status_code == 401
    locked = await client.post(
        "/v1/approvals/verify_pin", json={**body, "pin": "9999"}, headers=bearer(device.access_token)
    )
    assert error_code(locked) == "E_PIN_LOCKED"


async def test_managers_cannot_grant_more_than_they_hold(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    manager = await add_employee(client, world, role="Manager", pin="5555", password="manager-password")
    token = data(
        await client.post(
            "/v1/employees/login", json={"email": manager["email"], "password": "manager-password"}
        )
    )["access_token"]
    as_manager = bearer(token)
    owner_like = {
        "name": "Sneaky",
        "email": "sneaky@staff.test",
        "memberships": [{"store_id": world.store_id, "role_ids": [world.role_ids["Owner"]]}],
    }
    response = await client.post("/v1/employees", json=owner_like, headers=as_manager)
    assert response.status_code == 403
    other_store = {
        **owner_like,
        "memberships": [{"store_id": world.other_store_id, "role_ids": [world.role_ids["Cashier"]]}],
    }
    assert (await client.post("/v1/employees", json=other_store, headers=as_manager)).status_code == 403
    cashier = {
        **owner_like,
        "memberships": [{"store_id": world.store_id, "role_ids": [world.role_ids["Cashier"]]}],
    }
    created = data(await client.post("/v1/employees", json=cashier, headers=as_manager), 201)
    assert created["memberships"][0]["role_ids"] == [world.role_ids["Cashier"]]
    owner_id = data(await client.get("/v1/employees/me", headers=bearer(await owner_token(client, world))))[
        "employee_id"
    ]
    assert (
        await client.post(f"/v1/employees/{owner_id}/reset_pin", json={"pin": "8888"}, headers=as_manager)
    ).status_code in (
        403,
        404,
    )


async def test_no_answer_reveals_whose_pin_is_whose(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    """A Manager setting PINs learns nothing about the Owner's: PINs need not be unique (the
    employee is named before the PIN is typed), so every PIN is accepted the same way."""
    first = await add_employee(client, world, role="Cashier", pin="1111")
    admin = bearer(await owner_token(client, world))
    body = {"name": "Twin", "email": "twin@staff.test", "pin": "1111", "memberships": []}
    twin = data(await client.post("/v1/employees", json=body, headers=admin), 201)
    answers = [
        await client.post(f"/v1/employees/{twin['employee_id']}/reset_pin", json={"pin": pin}, headers=admin)
        for pin in (world.owner_pin, "1111", "5050")
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({tuple(sorted(a.json()["data"])) for a in answers}) == 1  # same shape, nothing more
    device = await pair_device(client, world)
    session = data(await pin_login(client, device, "1111", employee_id=first["employee_id"]))
    assert session["employee_id"] == first["employee_id"]  # the tile decides who, not the PIN


async def test_reset_pin_lifts_the_lock_and_retires_the_old_pin(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    device = await pair_device(client, world)
    cashier = await add_employee(client, world, role="Cashier", pin="1111")
    admin = bearer(await owner_token(client, world))
    for _ in range(5):
        await pin_login(client, device, "0001", employee_id=cashier["employee_id"])
    assert (await pin_login(client, device, "1111")).status_code == 423
    data(
        await client.post(
            f"/v1/employees/{cashier['employee_id']}/reset_pin", json={"pin": "2222"}, headers=admin
        )
    )
    assert (await pin_login(client, device, "2222", employee_id=cashier["employee_id"])).status_code == 200
    assert (await pin_login(client, device, "1111", employee_id=cashier["employee_id"])).status_code == 401


async def test_suspended_employee_sessions_end(client: httpx.AsyncClient, world: TenantWorld) -> None:
    device = await pair_device(client, world)
    cashier = await add_employee(client, world, role="Cashier", pin="1111")
    session = data(await pin_login(client, device, "1111"))["access_token"]
    admin = bearer(await owner_token(client, world))
    data(await client.post(f"/v1/employees/{cashier['employee_id']}/suspend", headers=admin))
    response = await client.get("/v1/employees/me", headers=bearer(session))
    assert response.status_code == 401
    assert (await pin_login(client, device, "1111")).status_code == 403


async def test_roles_matrix_and_custom_roles(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    admin = bearer(await owner_token(client, world))
    matrix = data(await client.get("/v1/permissions/matrix", headers=admin))
    assert "manual_discount" in matrix["permissions"]
    assert {r["name"] for r in matrix["roles"] if r["builtin"]} == {
        "Owner",
        "Manager",
        "Supervisor",
        "Cashier",
        "Gate staff",
    }
    role = data(
        await client.post(
            "/v1/roles", json={"name": "Party host", "permissions": ["sell", "redeem"]}, headers=admin
        ),
        201,
    )
    changed = data(
        await client.patch(f"/v1/roles/{role['role_id']}", json={"permissions": ["redeem"]}, headers=admin)
    )
    assert changed["permissions"] == ["redeem"]
    builtin = world.role_ids["Cashier"]
    assert (
        await client.patch(f"/v1/roles/{builtin}", json={"permissions": []}, headers=admin)
    ).status_code == 409
    assert (
        await client.post("/v1/roles", json={"name": "X", "permissions": ["fly"]}, headers=admin)
    ).status_code == 400
    await add_employee(client, world, role="Cashier", pin="1111")
    data(await client.delete(f"/v1/roles/{role['role_id']}", headers=admin))
    assert (await client.delete(f"/v1/roles/{builtin}", headers=admin)).status_code == 409
    changes = await audits(deps, "role.updated")
    assert changes[0]["payload"]["before"] == {"permissions": ["redeem", "sell"]}


async def test_memberships_give_different_roles_per_store(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    admin = bearer(await owner_token(client, world))
    main_device = await pair_device(client, world)
    annex_device = await pair_device(client, world, store_id=world.other_store_id)
    worker = await add_employee(client, world, role="Cashier", pin="3333")
    data(
        await client.put(
            f"/v1/employees/{worker['employee_id']}/memberships",
            json={
                "memberships": [
                    {"store_id": world.store_id, "role_ids": [world.role_ids["Cashier"]]},
                    {"store_id": world.other_store_id, "role_ids": [world.role_ids["Supervisor"]]},
                ]
            },
            headers=admin,
        )
    )
    main = data(await pin_login(client, main_device, "3333"))["access_token"]
    annex = data(await pin_login(client, annex_device, "3333"))["access_token"]
    main_perms = data(await client.get("/v1/employees/me", headers=bearer(main)))["permissions"]
    annex_perms = data(await client.get("/v1/employees/me", headers=bearer(annex)))["permissions"]
    assert "refund" not in main_perms
    assert "refund" in annex_perms


async def test_verify_pin_takes_a_top_level_target(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    device = await pair_device(client, world)
    await add_employee(client, world, role="Supervisor", pin="9999")
    granted = data(
        await client.post(
            "/v1/approvals/verify_pin",
            json={
                "action": "reprint",
                "pin": "9999",
                "employee_id": holder_of(world.tenant_id, "9999"),
                "target_id": "T1",
            },
            headers=bearer(device.access_token),
        )
    )
    common = {"tenant_id": world.tenant_id, "token": granted["approval_token"], "store_id": world.store_id}
    with pytest.raises(ApprovalRequired):
        await consume_approval(deps, **common, action="reprint", target_id="T2")
    await consume_approval(deps, **common, action="reprint", target_id="T1")


async def test_taking_another_employees_email_is_a_conflict_and_changes_nothing(
    client: httpx.AsyncClient, deps: Deps
) -> None:
    world = await make_tenant(deps, "A")
    first = await add_employee(client, world, role="Cashier", pin="1234")
    second = await add_employee(client, world, role="Cashier", pin="2345")
    admin = bearer(await owner_token(client, world))
    taken = await client.patch(
        f"/v1/employees/{second['employee_id']}", json={"email": first["email"].upper()}, headers=admin
    )
    assert taken.status_code == 409, taken.text
    assert error_code(taken) == "E_CONFLICT"
    shown = data(await client.get(f"/v1/employees/{second['employee_id']}", headers=admin))
    assert shown["email"] == second["email"]
    missing = await client.patch(
        "/v1/employees/01M00000000000000000000000", json={"name": "X"}, headers=admin
    )
    assert missing.status_code == 404
