"""Alerts: raised once per cause however many raise it at once, a new alert for a recurrence after
resolution, listed per the caller's stores, acknowledged once (audited with the note), and never
visible to another tenant."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from boxoffice.alerts import service as alerts
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from tests.factories.identity import (
    TenantWorld,
    add_employee,
    bearer,
    data,
    login_password,
    make_tenant,
    owner_token,
)
from tests.helpers import error_code


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def raise_one(
    deps: Deps, world: TenantWorld, cause: str, store_id: str | None = None, **links: str
) -> alerts.Raised:
    return await alerts.raise_alert(
        deps,
        world.tenant_id,
        kind="webhook_failing",
        cause_key=cause,
        store_id=store_id,
        title=f"Failing: {cause}",
        detail="It fails.",
        links=links or {"webhook_id": cause},
    )


async def resolve(deps: Deps, world: TenantWorld, cause: str) -> dict[str, Any] | None:
    return await alerts.resolve_alert(deps, world.tenant_id, kind="webhook_failing", cause_key=cause)


async def staff_token(client: httpx.AsyncClient, world: TenantWorld, role: str, pin: str) -> str:
    """A back-office session of someone with `role` at the first store only."""
    password = f"{role}-password-1"
    person = await add_employee(client, world, role=role, pin=pin, password=password, store_id=world.store_id)
    return await login_password(client, person["email"], password)


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await client.get("/v1/alerts", params=params, headers=headers)


async def ack(
    client: httpx.AsyncClient, alert_id: str, headers: dict[str, str], note: str | None = None
) -> httpx.Response:
    body = {"note": note} if note else {}
    return await client.post(f"/v1/alerts/{alert_id}/acknowledge", json=body, headers=headers)


async def test_twenty_concurrent_raisers_make_one_alert_one_audit_entry_and_one_event(
    deps: Deps, world: TenantWorld
) -> None:
    results = await asyncio.gather(*(raise_one(deps, world, "hook-1") for _ in range(20)))
    assert sum(r.new for r in results) == 1
    assert len({r.alert["alert_id"] for r in results}) == 1
    stored = await deps.db[C.ALERTS].find({"tenant_id": world.tenant_id}).to_list()
    assert len(stored) == 1
    assert (stored[0]["occurrences"], stored[0]["announced"]) == (20, True)
    assert await deps.db[C.AUDITS].count_documents({"event_type": "alert.raised"}) == 1
    [event] = await deps.db[C.EVENTS].find({"type": "alert.raised"}).to_list()
    assert event["resource_id"] == stored[0]["alert_id"]
    assert event["data"]["links"] == {"webhook_id": "hook-1"}
    assert event["data"]["status"] == "open"


async def test_a_recurrence_after_resolution_is_a_new_alert(
    client: httpx.AsyncClient, deps: Deps, world: TenantWorld
) -> None:
    first = await raise_one(deps, world, "hook-1")
    assert (await raise_one(deps, world, "hook-1")).new is False  # same episode
    resolved = await resolve(deps, world, "hook-1")
    assert resolved is not None
    assert resolved["status"] == "resolved"
    assert await resolve(deps, world, "hook-1") is None  # nothing left to resolve
    second = await raise_one(deps, world, "hook-1")
    assert second.new is True
    assert second.alert["alert_id"] != first.alert["alert_id"]
    owner = bearer(await owner_token(client, world))
    items = data(await listed(client, owner))["items"]
    assert [(a["alert_id"], a["status"]) for a in items] == [
        (second.alert["alert_id"], "open"),
        (first.alert["alert_id"], "resolved"),
    ]
    assert items[1]["occurrences"] == 2
    assert items[1]["resolved_at"] == "2031-03-14T05:00:00.000Z"
    assert await deps.db[C.AUDITS].count_documents({"event_type": "alert.raised"}) == 2
    assert await deps.db[C.AUDITS].count_documents({"event_type": "alert.resolved"}) == 1


async def test_acknowledging_keeps_who_when_and_the_note_once(
    client: httpx.AsyncClient, deps: Deps, world: TenantWorld
) -> None:
    alert_id = (await raise_one(deps, world, "hook-1")).alert["alert_id"]
    owner = bearer(await owner_token(client, world))
    acked = data(await ack(client, alert_id, owner, "Called the ERP vendor"))
    assert acked["status"] == "acknowledged"
    assert acked["acknowledge_note"] == "Called the ERP vendor"
    assert acked["acknowledged_at"] == "2031-03-14T05:00:00.000Z"
    assert acked["acknowledged_by"]
    again = data(await ack(client, alert_id, owner, "Me too"))
    assert again == acked  # idempotent: the first acknowledgement stands
    [entry] = await deps.db[C.AUDITS].find({"event_type": "alert.acknowledged"}).to_list()
    assert entry["payload"]["note"] == "Called the ERP vendor"
    assert entry["actor_id"] == acked["acknowledged_by"]
    assert alert_id in entry["subjects"]
    # Still one episode: raising again does not reopen it; resolving keeps who acknowledged it.
    assert (await raise_one(deps, world, "hook-1")).new is False
    await resolve(deps, world, "hook-1")
    [shown] = data(await listed(client, owner, status="resolved"))["items"]
    assert (shown["status"], shown["acknowledge_note"]) == ("resolved", "Called the ERP vendor")
    assert data(await listed(client, owner, status="acknowledged"))["items"] == []
    assert error_code(await ack(client, "01NOSUCHALERT0000000000000", owner)) == "E_NOT_FOUND"


async def test_the_list_filters_pages_and_shows_only_the_callers_stores(
    client: httpx.AsyncClient, deps: Deps, world: TenantWorld
) -> None:
    tenant_wide = (await raise_one(deps, world, "hook-1")).alert["alert_id"]
    here = (await raise_one(deps, world, "c1", store_id=world.store_id, device_id="D1")).alert["alert_id"]
    other = world.other_store_id
    there = (await raise_one(deps, world, "c2", store_id=other, device_id="D2")).alert["alert_id"]
    owner = bearer(await owner_token(client, world))

    def ids(response: httpx.Response) -> list[str]:
        return [a["alert_id"] for a in data(response)["items"]]

    assert ids(await listed(client, owner)) == [there, here, tenant_wide]
    first = data(await listed(client, owner, limit=2))
    assert [a["alert_id"] for a in first["items"]] == [there, here]
    rest = data(await listed(client, owner, limit=2, cursor=first["next_cursor"]))
    assert ([a["alert_id"] for a in rest["items"]], rest["next_cursor"]) == ([tenant_wide], None)
    by_store = await listed(client, owner, store_id=world.store_id)
    assert ids(by_store) == [here]
    assert data(by_store)["items"][0]["links"] == {"device_id": "D1"}
    assert len(ids(await listed(client, owner, kind="webhook_failing"))) == 3
    assert error_code(await listed(client, owner, kind="nonsense")) == "E_VALIDATION"
    assert error_code(await listed(client, owner, status="gone")) == "E_VALIDATION"

    # A manager of one store sees that store's alerts only: not the other store's, nor tenant-wide.
    manager = bearer(await staff_token(client, world, "Manager", "5151"))
    assert ids(await listed(client, manager)) == [here]
    assert ids(await listed(client, manager, store_id=world.other_store_id)) == []
    assert error_code(await ack(client, there, manager)) == "E_NOT_FOUND"
    assert error_code(await ack(client, tenant_wide, manager)) == "E_NOT_FOUND"
    assert data(await ack(client, here, manager))["status"] == "acknowledged"
    # Without reports_view: no alerts at all.
    cashier = bearer(await staff_token(client, world, "Cashier", "6161"))
    assert error_code(await listed(client, cashier)) == "E_PERMISSION"


async def test_another_tenants_alert_is_not_found(
    client: httpx.AsyncClient, deps: Deps, world: TenantWorld
) -> None:
    other = await make_tenant(deps, "B")
    theirs = await raise_one(deps, other, "hook-b")
    mine = await raise_one(deps, world, "hook-b")  # the same cause key in another tenant: its own alert
    assert mine.new is True
    owner = bearer(await owner_token(client, world))
    assert [a["alert_id"] for a in data(await client.get("/v1/alerts", headers=owner))["items"]] == [
        mine.alert["alert_id"]
    ]
    response = await ack(client, theirs.alert["alert_id"], owner, "not mine")
    assert response.status_code == 404
    assert error_code(response) == "E_NOT_FOUND"
    stored = await deps.db[C.ALERTS].find_one({"alert_id": theirs.alert["alert_id"]})
    assert stored is not None
    assert stored["acknowledged"] is False


async def test_an_alert_whose_raiser_died_before_announcing_is_announced_by_the_next(
    deps: Deps, world: TenantWorld, clock: FixedClock
) -> None:
    raised = await raise_one(deps, world, "hook-1")
    # As if the raiser died between the insert and the audit entry/event.
    await deps.db[C.ALERTS].update_one({"_id": raised.alert["alert_id"]}, {"$set": {"announced": False}})
    await deps.db[C.EVENTS].delete_many({})
    assert (await raise_one(deps, world, "hook-1")).new is False
    assert await deps.db[C.EVENTS].count_documents({}) == 0  # its raiser may still be at it
    clock.advance(alerts.ANNOUNCE_LEASE)
    await raise_one(deps, world, "hook-1")
    assert await deps.db[C.EVENTS].count_documents({"type": "alert.raised"}) == 1
    stored = await deps.db[C.ALERTS].find_one({"_id": raised.alert["alert_id"]})
    assert stored is not None
    assert stored["announced"]
