"""The pricing context a sale reads is cached per process under the tenant's change counter: a
price, a store or a setting changed anywhere — through this process, or straight into the database
by another replica — applies to the very next quote or sale."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.catalog.repository import PackageRepository
from boxoffice.core.deps import Deps
from boxoffice.core.repository import Scope, versions_of
from boxoffice.tenancy.repository import StoreRepository
from tests.factories.catalog import admin
from tests.factories.identity import TenantWorld, bearer, data, make_tenant
from tests.factories.sales import Till, open_till, sell
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "P")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    return await open_till(client, world)


async def unit_price(client: httpx.AsyncClient, till: Till, world: TenantWorld) -> int:
    body = {"store_id": world.store_id, "lines": [{"package_id": till.ids["two_hour"], "qty": 1}]}
    quoted = data(await client.post("/v1/pricing/quote", json=body, headers=bearer(till.cashier)))
    return int(quoted["lines"][0]["unit_price"])


async def test_a_price_changed_through_the_api_applies_to_the_next_sale(
    client: httpx.AsyncClient, world: TenantWorld, till: Till
) -> None:
    assert await unit_price(client, till, world) == 25_000  # cached now
    data(
        await client.patch(
            f"/v1/catalog/packages/{till.ids['two_hour']}",
            json={"price": 27_500},
            headers=await admin(client, world),
        )
    )
    sold = data(await sell(client, till, "after-change", [("two_hour", 2)]), 201)
    assert sold["sale"]["grand_total"] == 55_000


async def test_a_change_written_by_another_replica_applies_at_once(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    assert await unit_price(client, till, world) == 25_000
    before = (await versions_of(deps.db, world.tenant_id)).get("pricing", 0)
    # another process writes through its own repository: nothing in this process is told
    await PackageRepository(deps.db, Scope(world.tenant_id)).update_one(
        {"package_id": till.ids["two_hour"]}, {"$set": {"price": 30_000}}
    )
    assert (await versions_of(deps.db, world.tenant_id))["pricing"] == before + 1
    assert await unit_price(client, till, world) == 30_000
    await StoreRepository(deps.db, Scope(world.tenant_id)).update_one(
        {"store_id": world.store_id}, {"$set": {"active": False}}
    )
    closed = await sell(client, till, "store-closed", [("two_hour", 1)])
    assert (closed.status_code, error_code(closed)) == (400, "E_VALIDATION")


async def test_one_tenants_change_leaves_anothers_cache_and_prices_alone(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps
) -> None:
    other = await make_tenant(deps, "Q")
    other_till = await open_till(client, other)
    assert await unit_price(client, other_till, other) == 25_000
    before = await versions_of(deps.db, other.tenant_id)
    data(
        await client.patch(
            f"/v1/catalog/packages/{till.ids['two_hour']}",
            json={"price": 20_000},
            headers=await admin(client, world),
        )
    )
    assert await versions_of(deps.db, other.tenant_id) == before
    assert await unit_price(client, other_till, other) == 25_000
    assert await unit_price(client, till, world) == 20_000
    # a store of the other tenant is not this cashier's to price in, cached or not
    body = {"store_id": other.store_id, "lines": [{"package_id": other_till.ids["two_hour"], "qty": 1}]}
    stranger = await client.post("/v1/pricing/quote", json=body, headers=bearer(till.cashier))
    assert stranger.status_code in (403, 404)
