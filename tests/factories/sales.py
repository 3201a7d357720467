"""Selling through the API, as a POS with a cashier signed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories.catalog import demo_catalog
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    add_employee,
    bearer,
    data,
    pair_device,
    pin_login,
)


@dataclass
class Till:
    device: PairedDevice
    cashier: str  # the cashier's session token on the device
    ids: dict[str, str]


async def open_till(
    client: httpx.AsyncClient,
    world: TenantWorld,
    *,
    cash_open: int = 100_000,
    pin: str = "1111",
    ids: dict[str, str] | None = None,
) -> Till:
    """A POS with a cashier signed in and a shift open (and the demo catalog, unless given)."""
    ids = ids or await demo_catalog(client, world)
    device = await pair_device(client, world)
    await add_employee(client, world, role="Cashier", pin=pin)
    cashier = data(await pin_login(client, device, pin))["access_token"]
    data(await client.post("/v1/shifts/open", json={"cash_open": cash_open}, headers=bearer(cashier)), 201)
    return Till(device, cashier, ids)


async def sell(
    client: httpx.AsyncClient, till: Till, key: str, lines: list[tuple[str, int]], **extra: Any
) -> httpx.Response:
    body: dict[str, Any] = {
        "lines": [{"package_id": till.ids[p], "qty": q} for p, q in lines],
        "payment_method": "card",
        **extra,
    }
    return await client.post("/v1/sales", json=body, headers={**bearer(till.cashier), "Idempotency-Key": key})
