"""Effective settings: defaults ← tenant ← store override; versions, ETags, audit, permissions."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from tests.factories.catalog import admin
from tests.factories.identity import (
    TenantWorld,
    add_employee,
    bearer,
    data,
    login_password,
    make_tenant,
    pair_device,
)
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def test_defaults_then_a_change_shows_at_the_next_fetch_with_a_new_etag(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    pos = await pair_device(client, world)
    device = bearer(pos.access_token)
    first = await client.get("/v1/settings/effective", headers=device)
    body = data(first)
    assert body["values"]["taxes"]["default_profile_id"] == "vat7"
    assert body["values"]["features"]["require_open_shift"] is True
    assert body["sources"]["features"] == "default"
    etag = first.headers["etag"]
    assert body["etag"] == etag
    assert (
        await client.get("/v1/settings/effective", headers={**device, "If-None-Match": etag})
    ).status_code == 304

    features = {**body["values"]["features"], "require_open_shift": False}
    saved = data(await client.put("/v1/settings/features", json=features, headers=await admin(client, world)))
    assert saved["store_id"] is None
    assert saved["values"]["features"]["require_open_shift"] is False

    after = await client.get("/v1/settings/effective", headers={**device, "If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert data(after)["values"]["features"]["require_open_shift"] is False
    assert data(after)["version"] == body["version"] + 1
    audits = await deps.db[C.AUDITS].find({"event_type": "settings.changed"}).to_list()
    assert len(audits) == 1
    assert audits[0]["payload"]["before"] is None
    assert audits[0]["payload"]["after"]["require_open_shift"] is False


async def test_store_override_wins_and_can_be_dropped(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    headers = await admin(client, world)
    receipt = {"header": "Tenant header", "footer": "", "paper_width": 80}
    data(await client.put("/v1/settings/receipt", json=receipt, headers=headers))
    data(
        await client.put(
            "/v1/settings/receipt",
            params={"store_id": world.store_id},
            json={**receipt, "header": "Store header", "paper_width": 58},
            headers=headers,
        )
    )
    main = data(
        await client.get("/v1/settings/effective", params={"store_id": world.store_id}, headers=headers)
    )
    annex = data(
        await client.get("/v1/settings/effective", params={"store_id": world.other_store_id}, headers=headers)
    )
    assert (main["values"]["receipt"]["header"], main["sources"]["receipt"]) == ("Store header", "store")
    assert (annex["values"]["receipt"]["header"], annex["sources"]["receipt"]) == ("Tenant header", "tenant")
    preview = data(
        await client.get("/v1/receipts/preview", params={"store_id": world.store_id}, headers=headers)
    )
    assert preview["width_chars"] == 32
    assert "Store header" in preview["text"]
    assert all(len(line) <= 32 for line in preview["text"].splitlines())
    data(await client.delete("/v1/settings/receipt", params={"store_id": world.store_id}, headers=headers))
    back = data(
        await client.get("/v1/settings/effective", params={"store_id": world.store_id}, headers=headers)
    )
    assert back["sources"]["receipt"] == "tenant"
    assert back["version"] > main["version"]
    before_after = [
        a["payload"]
        for a in await deps.db[C.AUDITS].find({"event_type": "settings.changed"}).sort("seq", 1).to_list()
    ]
    assert before_after[-1]["before"]["header"] == "Store header"
    assert before_after[-1]["after"] is None


@pytest.mark.parametrize(
    ("section", "value"),
    [
        (
            "taxes",
            {
                "profiles": [{"tax_profile_id": "vat7", "name": "VAT", "rate_bp": 700}],
                "default_profile_id": "none",
            },
        ),
        ("receipt", {"paper_width": 60}),
        ("zones", [{"zone_id": "has space", "name": "X"}]),
        ("payment_types", [{"code": "bitcoin", "name": "BTC"}]),
        ("ticket_printers", {"profiles": [], "by_device": {"D1": "P9"}}),
    ],
)
async def test_bad_settings_are_refused_with_details(
    client: httpx.AsyncClient, world: TenantWorld, section: str, value: object
) -> None:
    response = await client.put(f"/v1/settings/{section}", json=value, headers=await admin(client, world))
    assert response.status_code == 400
    assert error_code(response) == "E_VALIDATION"
    assert response.json()["error"]["details"]


async def test_only_settings_writers_change_settings(client: httpx.AsyncClient, world: TenantWorld) -> None:
    manager = await add_employee(client, world, role="Manager", pin="5555", password="manager-password")
    token = bearer(await login_password(client, manager["email"], "manager-password"))
    response = await client.put("/v1/settings/features", json={}, headers=token)
    assert response.status_code == 403
    pos = await pair_device(client, world)
    assert (
        await client.put("/v1/settings/features", json={}, headers=bearer(pos.access_token))
    ).status_code == 403
    annex = await client.get(
        "/v1/settings/effective", params={"store_id": world.other_store_id}, headers=bearer(pos.access_token)
    )
    assert annex.status_code == 404


async def test_catalog_editors_may_change_zones_and_read_tenant_defaults(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    owner = await admin(client, world)
    role = data(
        await client.post(
            "/v1/roles", json={"name": "Catalog editor", "permissions": ["catalog_write"]}, headers=owner
        ),
        201,
    )
    body = {
        "name": "Cat",
        "email": "cat@staff.test",
        "password": "catalog-password",
        "memberships": [{"store_id": "*", "role_ids": [role["role_id"]]}],
    }
    data(await client.post("/v1/employees", json=body, headers=owner), 201)
    editor = bearer(await login_password(client, "cat@staff.test", "catalog-password"))
    zones = [{"zone_id": "ball-pit", "name": "Ball Pit", "credit_price": 0}]
    data(await client.put("/v1/settings/zones", json=zones, headers=editor))
    refused = await client.put("/v1/settings/features", json={}, headers=editor)
    assert refused.status_code == 403  # other sections stay with settings_write
    manager = await add_employee(client, world, role="Manager", pin="5555", password="manager-password")
    store_manager = bearer(await login_password(client, manager["email"], "manager-password"))
    assert (
        await client.put("/v1/settings/zones", json=zones, headers=store_manager)
    ).status_code == 403  # one store only
    tenant = data(await client.get("/v1/settings/effective", headers=owner))
    assert tenant["store_id"] is None
    assert tenant["sources"]["zones"] == "tenant"
    assert tenant["values"]["zones"] == zones
