"""Selling through the API, as a POS with a cashier signed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from boxoffice.access.dependencies import principal_from_claims
from boxoffice.access.principal import Principal
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope
from boxoffice.core.security import decode_access_token
from boxoffice.sales import service as sales_service
from boxoffice.sales.repository import SaleRepository
from boxoffice.sales.schemas import SaleCreate
from boxoffice.tickets import keys
from tests.factories.catalog import demo_catalog
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    add_employee,
    bearer,
    data,
    holder_of,
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


async def approval(
    client: httpx.AsyncClient,
    till: Till,
    action: str,
    pin: str,
    target_id: str | None = None,
    **context: Any,
) -> str:
    """A supervisor's PIN typed on the till → a single-use approval token, bound to the target and
    to `context` (a manual discount's amount or percent_bp, a refund's method)."""
    body: dict[str, Any] = {
        "action": action,
        "pin": pin,
        "employee_id": holder_of(till.device.tenant_id, pin),
        "context": context,
    }
    if target_id:
        body["target_id"] = target_id
    granted = await client.post(
        "/v1/approvals/verify_pin", json=body, headers=bearer(till.device.access_token)
    )
    token: str = data(granted)["approval_token"]
    return token


async def refund(
    client: httpx.AsyncClient, till: Till, key: str, sale_id: str, token: str, **extra: Any
) -> httpx.Response:
    body = {"sale_id": sale_id, "approval_token": token, "reason_code": "customer_request", **extra}
    return await client.post(
        "/v1/tickets/refund", json=body, headers={**bearer(till.cashier), "Idempotency-Key": key}
    )


async def reprint(
    client: httpx.AsyncClient, till: Till, key: str, ticket_id: str, token: str, **extra: Any
) -> httpx.Response:
    body = {"ticket_id": ticket_id, "approval_token": token, "reason_code": "printer_jam", **extra}
    return await client.post(
        "/v1/tickets/reprint", json=body, headers={**bearer(till.cashier), "Idempotency-Key": key}
    )


async def cashier_principal(deps: Deps, till: Till) -> Principal:
    """The cashier-on-device principal, built from the session token the way the API builds it
    (for driving a service step by step, as a crash would leave it)."""
    claims = decode_access_token(deps.settings.jwt_secret, till.cashier, now=deps.clock.now())
    return await principal_from_claims(deps, claims, "127.0.0.1")


async def pending_sale(deps: Deps, principal: Principal, key: str, body: SaleCreate) -> dict[str, Any]:
    """A sale whose requester died right after its first write reached the database: stored
    pending, holding its lease, with none of its tickets (a retry or the sweeper finishes it)."""
    sale, is_new = await sales_service.begin_sale(
        deps, principal, key, body, await keys.load(deps.db, deps.settings)
    )
    assert is_new
    store = frozenset({str(sale["store_id"])})
    await SaleRepository(deps.db, Scope(principal.tenant_id, store)).insert(sale)
    return sale
