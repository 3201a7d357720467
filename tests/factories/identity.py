"""Small builders for tenants, stores, employees and devices, through the real services and API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.staff import service as staff
from boxoffice.tenancy.repository import StoreRepository


@dataclass
class TenantWorld:
    tenant_id: str
    store_id: str
    other_store_id: str
    owner_email: str
    owner_password: str
    owner_pin: str
    role_ids: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)


_counter = iter(range(1, 1_000_000))
#: (tenant_id, pin) → the employee holding it, so a test can "tap the name tile" of whoever has a PIN.
_PIN_HOLDERS: dict[tuple[str, str], str] = {}


async def make_tenant(deps: Deps, label: str = "A") -> TenantWorld:
    """A tenant with two stores and its owner (password + PIN)."""
    n = next(_counter)
    email = f"owner{n}@{label.lower()}.test"
    pin = f"{4000 + n % 5000:04d}"
    created = await staff.create_tenant(
        deps,
        name=f"Park {label}",
        legal_name=f"Park {label} Co., Ltd.",
        tz="Asia/Bangkok",
        owner_name=f"Owner {label}",
        owner_email=email,
        owner_password="owner-password-1",
        owner_pin=pin,
    )
    stores = []
    for name in ("Main", "Annex"):
        store = {
            "store_id": new_id(),
            "name": f"{label} {name}",
            "address": "",
            "tz": "Asia/Bangkok",
            "tax_id": None,
            "receipt_header": "",
            "receipt_footer": "",
            "logo_ref": None,
            "paper_width": 80,
            "active": True,
            "created_at": deps.clock.now(),
        }
        await StoreRepository(deps.db, Scope(created["tenant_id"])).insert(store)
        stores.append(store["store_id"])
    _PIN_HOLDERS[(created["tenant_id"], pin)] = created["owner_id"]
    return TenantWorld(
        created["tenant_id"], stores[0], stores[1], email, "owner-password-1", pin, created["role_ids"]
    )


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login_password(client: httpx.AsyncClient, email: str, password: str) -> str:
    body = data(await client.post("/v1/employees/login", json={"email": email, "password": password}))
    token: str = body["access_token"]
    return token


async def owner_token(client: httpx.AsyncClient, world: TenantWorld) -> str:
    if "owner" not in world.tokens:
        world.tokens["owner"] = await login_password(client, world.owner_email, world.owner_password)
    return world.tokens["owner"]


async def add_employee(
    client: httpx.AsyncClient,
    world: TenantWorld,
    *,
    role: str,
    pin: str,
    store_id: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "name": f"{role} {n}",
        "email": f"{role.lower().replace(' ', '')}{n}@staff.test",
        "pin": pin,
        "memberships": [{"store_id": store_id or world.store_id, "role_ids": [world.role_ids[role]]}],
    }
    if password:
        body["password"] = password
    created: dict[str, Any] = data(
        await client.post("/v1/employees", json=body, headers=bearer(await owner_token(client, world))), 201
    )
    _PIN_HOLDERS[(world.tenant_id, pin)] = created["employee_id"]
    return created


def holder_of(tenant_id: str, pin: str) -> str:
    """The employee a test gave this PIN (PINs need not be unique: tests keep theirs apart)."""
    return _PIN_HOLDERS.get((tenant_id, pin), "unknown-employee")


@dataclass
class PairedDevice:
    device_id: str
    device_token: str
    access_token: str
    store_id: str
    tenant_id: str = ""


async def pair_device(
    client: httpx.AsyncClient, world: TenantWorld, *, type: str = "POS", store_id: str | None = None
) -> PairedDevice:
    """Site key → register → approve → login, as the admin and the device would."""
    store = store_id or world.store_id
    admin = bearer(await owner_token(client, world))
    key = data(await client.post(f"/v1/stores/{store}/site_keys", json={"label": "test"}, headers=admin), 201)
    registered = data(
        await client.post(
            "/v1/auth/device/register",
            json={"site_key": key["site_key"], "type": type, "name": f"{type} device"},
        ),
        201,
    )
    data(await client.post(f"/v1/devices/{registered['device_id']}/approve", headers=admin))
    token = await device_login(client, registered["device_id"], registered["device_token"])
    return PairedDevice(registered["device_id"], registered["device_token"], token, store, world.tenant_id)


async def device_login(client: httpx.AsyncClient, device_id: str, device_token: str) -> str:
    body = data(
        await client.post(
            "/v1/auth/device/login", json={"device_id": device_id, "device_token": device_token}
        )
    )
    token: str = body["access_token"]
    return token


async def pin_login(
    client: httpx.AsyncClient, device: PairedDevice, pin: str, employee_id: str | None = None
) -> httpx.Response:
    """Tap the name tile of whoever holds `pin` (or `employee_id`), then type the PIN."""
    who = employee_id or holder_of(device.tenant_id, pin)
    return await client.post(
        "/v1/employees/login", json={"employee_id": who, "pin": pin}, headers=bearer(device.access_token)
    )
