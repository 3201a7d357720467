"""Catalog builders through the API: zones, the demo-like packages and rules."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories.identity import TenantWorld, bearer, data, owner_token

ZONES = [{"zone_id": "ball-pit", "name": "Ball Pit"}, {"zone_id": "trampoline-a", "name": "Trampoline A"}]


async def admin(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, str]:
    return bearer(await owner_token(client, world))


async def add_package(client: httpx.AsyncClient, world: TenantWorld, **fields: Any) -> dict[str, Any]:
    body = {"name": "Single Entry", "type": "single", "price": 15_000, **fields}
    created: dict[str, Any] = data(
        await client.post("/v1/catalog/packages", json=body, headers=await admin(client, world)), 201
    )
    return created


async def add_rule(client: httpx.AsyncClient, world: TenantWorld, **fields: Any) -> httpx.Response:
    return await client.post("/v1/pricing/rules", json=fields, headers=await admin(client, world))


async def demo_catalog(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, str]:
    """Zones, Single Entry, 2-Hour Pass, Family Bundle, a weekday-morning price and WELCOME10."""
    headers = await admin(client, world)
    data(await client.put("/v1/settings/zones", json=ZONES, headers=headers))
    single = await add_package(client, world, zones=["ball-pit"])
    two_hour = await add_package(
        client, world, name="2-Hour Pass", type="timepass", price=25_000, quota_or_minutes=120
    )
    family = await add_package(
        client,
        world,
        name="Family Bundle",
        type="bundle",
        price=49_900,
        components=[
            {"package_id": single["package_id"], "qty": 2},
            {"package_id": two_hour["package_id"], "qty": 1},
        ],
    )
    data(
        await add_rule(
            client,
            world,
            name="Weekday morning",
            kind="time_of_day",
            params={"package_ids": [single["package_id"]], "price": 12_000, "from": "10:00", "to": "12:00"},
            days_of_week=[0, 1, 2, 3, 4],
        ),
        201,
    )
    data(
        await add_rule(
            client,
            world,
            name="Welcome",
            kind="promo_code",
            params={"code": "WELCOME10", "percent_bp": 1_000},
        ),
        201,
    )
    return {
        "single": single["package_id"],
        "two_hour": two_hour["package_id"],
        "family": family["package_id"],
    }
