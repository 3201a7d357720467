"""The audit log: one hash chain per tenant, append-only, verifiable, filterable, exportable."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import os
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from boxoffice.audit import service as audit
from boxoffice.config import Settings
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from tests.factories.identity import TenantWorld, bearer, data, make_tenant, owner_token, pair_device


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


async def verified(deps: Deps, world: TenantWorld) -> int:
    """How many entries verify walked, after checking that it found the chain intact."""
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert result.broken is None, result.broken
    return result.checked


async def test_activity_builds_an_intact_chain(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    await pair_device(client, world)
    await client.post("/v1/employees/login", json={"email": world.owner_email, "password": "wrong-password"})
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    assert result.broken is None
    assert result.checked >= 6
    entries = await deps.db[C.AUDITS].find({"tenant_id": world.tenant_id}).sort("seq", 1).to_list()
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(entries))


async def test_concurrent_appends_never_fork_the_chain(deps: Deps, world: TenantWorld) -> None:
    await asyncio.gather(
        *(
            audit.append(
                deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event", payload={"n": n}
            )
            for n in range(30)
        )
    )
    assert (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken is None
    payloads = sorted(
        e["payload"]["n"] for e in await deps.db[C.AUDITS].find({"event_type": "test.event"}).to_list()
    )
    assert payloads == list(range(30))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"$set": {"payload.name": "Evil Park"}}, "content does not match its hash"),
        ({"$set": {"actor_id": "someone-else"}}, "content does not match its hash"),
        ({"$set": {"ts": "2031-03-14T04:00:00.000Z"}}, "content does not match its hash"),
        ({"$set": {"hash": "0" * 64}}, "content does not match its hash"),
    ],
)
async def test_a_tampered_entry_is_caught(
    deps: Deps, world: TenantWorld, tamper: dict[str, object], reason: str
) -> None:
    for n in range(3):
        await audit.append(
            deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event", payload={"n": n}
        )
    target = await deps.db[C.AUDITS].find_one({"tenant_id": world.tenant_id, "event_type": "tenant.created"})
    assert target is not None
    await deps.db[C.AUDITS].update_one({"_id": target["_id"]}, tamper)
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert broken.seq == target["seq"]
    assert broken.reason == reason


async def test_a_deleted_entry_is_caught(deps: Deps, world: TenantWorld) -> None:
    for n in range(3):
        await audit.append(
            deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event", payload={"n": n}
        )
    await deps.db[C.AUDITS].delete_one({"tenant_id": world.tenant_id, "seq": 2})
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert broken.seq == 3
    assert broken.reason.startswith("sequence gap")


async def test_verify_command_reports_the_first_broken_link(
    deps: Deps, world: TenantWorld, settings: Settings, base_env: dict[str, str]
) -> None:
    other = await make_tenant(deps, "B")
    env = {**os.environ, **base_env}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "boxoffice.cli", "audit", "verify"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    intact = run()
    assert intact.returncode == 0, intact.stderr
    assert (
        f"tenant {world.tenant_id}: 1 entries, chain intact (walked from seq 1 and the genesis hash; "
        "head at seq 1)"
    ) in intact.stdout
    await deps.db[C.AUDITS].update_one(
        {"tenant_id": other.tenant_id, "seq": 1}, {"$set": {"ip": "10.0.0.66"}}
    )
    broken = run()
    assert broken.returncode == 1
    assert f"tenant {other.tenant_id}: BROKEN at seq 1" in broken.stdout
    assert "content does not match its hash (walked from seq 1 and the genesis hash)" in broken.stdout
    assert f"tenant {world.tenant_id}: 1 entries, chain intact" in broken.stdout


async def test_audit_filters_and_pages(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, clock: FixedClock
) -> None:
    device = await pair_device(client, world)
    clock.advance(timedelta(hours=1))
    for n in range(5):
        await audit.append(
            deps.db,
            deps.clock,
            tenant_id=world.tenant_id,
            store_id=world.store_id,
            event_type="test.event",
            payload={"n": n},
        )
    world.tokens.clear()  # a fresh sign-in, an hour later
    admin = bearer(await owner_token(client, world))
    since = {"from": "2031-03-14T05:30:00Z"}
    first = data(await client.get("/v1/audits", params={**since, "limit": 3}, headers=admin))
    assert [e["payload"].get("n") for e in first["items"]] == [None, 4, 3]  # newest first: the owner's login
    second = data(
        await client.get(
            "/v1/audits", params={**since, "limit": 3, "cursor": first["next_cursor"]}, headers=admin
        )
    )
    assert [e["payload"]["n"] for e in second["items"]] == [2, 1, 0]
    assert second["next_cursor"] is None
    by_device = data(await client.get("/v1/audits", params={"device_id": device.device_id}, headers=admin))[
        "items"
    ]
    assert {e["event_type"] for e in by_device} >= {
        "device.registered",
        "device.approved",
        "auth.device.login",
    }
    by_type = data(await client.get("/v1/audits", params={"event_type": "device.approved"}, headers=admin))[
        "items"
    ]
    assert len(by_type) == 1
    access = data(await client.get("/v1/access_logs", headers=admin))["items"]
    assert {e["event_type"] for e in access} == {"auth.employee.login", "auth.device.login"}
    naive = await client.get("/v1/audits", params={"from": "2031-03-14T05:30:00"}, headers=admin)
    assert naive.status_code == 400


async def test_csv_export_has_every_filtered_row(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps
) -> None:
    for n in range(1205):  # more than one export batch
        await deps.db[C.AUDITS].insert_one(
            {
                "tenant_id": world.tenant_id,
                "seq": 1000 + n,
                "audit_id": f"X{n}",
                "ts": "2031-03-14T05:00:00.000Z",
                "event_type": "bulk.event",
                "payload": {"n": n},
                "hash": "h",
                "prev_hash": "p",
            }
        )
    admin = bearer(await owner_token(client, world))
    response = await client.get("/v1/audits/export.csv", params={"event_type": "bulk.event"}, headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1205
    assert rows[0]["seq"] == "2204"
    assert rows[-1]["payload"] == '{"n": 0}'


async def test_devices_and_cashiers_cannot_read_the_audit(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    device = await pair_device(client, world)
    for path in ("/v1/audits", "/v1/audits/export.csv", "/v1/access_logs"):
        assert (await client.get(path, headers=bearer(device.access_token))).status_code == 403


async def test_entries_deleted_from_the_end_are_caught(deps: Deps, world: TenantWorld) -> None:
    """What is left of a chain cut short still links; the head shows what is missing."""
    for n in range(3):
        last = await audit.append(
            deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event", payload={"n": n}
        )
    assert await verified(deps, world) == 4
    await deps.db[C.AUDITS].delete_one({"tenant_id": world.tenant_id, "seq": last["seq"]})
    result = await audit.verify(deps.db, world.tenant_id, deps.clock)
    checked, broken = result.checked, result.broken
    assert checked == 3
    assert broken is not None
    assert broken.seq == last["seq"]
    assert broken.audit_id == last["audit_id"]  # names the entry that is gone
    assert broken.reason.startswith("entries missing from the end")
    await deps.db[C.AUDITS].delete_many({"tenant_id": world.tenant_id, "seq": {"$gte": 2}})
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert broken.seq == last["seq"]


async def test_the_head_follows_every_append_and_never_goes_back(deps: Deps, world: TenantWorld) -> None:
    await asyncio.gather(
        *(
            audit.append(
                deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event", payload={"n": n}
            )
            for n in range(20)
        )
    )
    head = await deps.db[C.AUDIT_HEADS].find_one({"_id": world.tenant_id})
    last = await deps.db[C.AUDITS].find_one({"tenant_id": world.tenant_id}, sort=[("seq", -1)])
    assert head is not None
    assert last is not None
    assert (head["seq"], head["hash"], head["audit_id"]) == (last["seq"], last["hash"], last["audit_id"])
    assert head["seq"] == 21
    assert await verified(deps, world) == 21


async def test_a_head_left_behind_by_an_interrupted_append_is_fine(deps: Deps, world: TenantWorld) -> None:
    """An append that stopped between its entry and the head leaves the head one behind: no alarm,
    and the next linker (here verify) moves it on."""
    await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    first = await deps.db[C.AUDITS].find_one({"tenant_id": world.tenant_id, "seq": 1})
    assert first is not None
    await deps.db[C.AUDIT_HEADS].update_one(
        {"_id": world.tenant_id}, {"$set": {"seq": 1, "hash": first["hash"], "audit_id": first["audit_id"]}}
    )
    assert await verified(deps, world) == 2
    head = await deps.db[C.AUDIT_HEADS].find_one({"_id": world.tenant_id})
    assert head is not None
    assert head["seq"] == 2
    await deps.db[C.AUDIT_HEADS].update_one({"_id": world.tenant_id}, {"$set": {"hash": "f" * 64}})
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert broken.seq == 2
    assert broken.reason == "does not match the chain head"


async def test_a_chain_without_its_head_is_reported(deps: Deps, world: TenantWorld) -> None:
    await deps.db[C.AUDIT_HEADS].delete_one({"_id": world.tenant_id})
    broken = (await audit.verify(deps.db, world.tenant_id, deps.clock)).broken
    assert broken is not None
    assert "no head" in broken.reason
    await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    assert await verified(deps, world) == 2  # an older chain adopts one


async def test_verify_command_names_an_entry_cut_from_the_end(
    deps: Deps, world: TenantWorld, base_env: dict[str, str]
) -> None:
    last = await audit.append(deps.db, deps.clock, tenant_id=world.tenant_id, event_type="test.event")
    await deps.db[C.AUDITS].delete_one({"tenant_id": world.tenant_id, "seq": last["seq"]})
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "boxoffice.cli", "audit", "verify", "--tenant", world.tenant_id],
        env={**os.environ, **base_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"BROKEN at seq {last['seq']} (audit_id {last['audit_id']}): entries missing from the end"
        in result.stdout
    )
