"""The scan guard: the hot paths (a gate's scan, a sale, a gate's download, an offline upload) touch
the database only in ways the embedded server serves without reading the whole collection, so
their cost stays flat however many tickets, scans and sales a venue gathers (DESIGN.md, "What costs
what on the embedded server").

Every command a path sends is recorded (tests/conftest.py `commands`) and judged as nx-27017 0.8.1
runs it (measured at 20,000 documents, a scan costing 8 to 15 ms against 0.5 ms for an indexed read):
- a conditional write (update, findAndModify, delete) is addressed by `_id` — on any other filter
  it scans the collection;
- no `count` and no aggregation (count_documents is one): both scan;
- a read is served by an index: an equality on `_id`, or on the leading fields of an index in
  core/db.py INDEX_SPECS (a prefix of tenant_id/store_id alone reads the whole tenant). The server
  serves an equality from an index only when it is spelled `{"$eq": v}` or is bare on a field that
  ends an index (a bare equality elsewhere is read as "or an array holding it", which no index
  serves); `$in`, ranges and `$and` are not served (except `$in` on `_id`);
- no read of a collection with a TTL index (each runs a full-scan purge first).

A path that must scan for a while is listed in KNOWN_OFFENDERS (a listed entry the path no longer
sends fails the test, so the list cannot go stale); none is today. An online PASS costs at most
three round trips on a warm device, a sale of five tickets at most eight.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from ulid import ULID

from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import INDEX_SPECS, C, Database
from boxoffice.core.deps import Deps
from boxoffice.tenancy.service import devices_seen
from tests.conftest import Command, CommandRecorder
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    bearer,
    data,
    make_tenant,
    owner_token,
    pair_device,
)
from tests.factories.sales import Till, open_till, sell
from tests.helpers import error_code

#: (path, command, collection) → who is making it cheap, and what it is. The redeem path has none.
KNOWN_OFFENDERS: dict[tuple[str, str, str], str] = {}

_SCOPE = frozenset({"tenant_id", "store_id"})
_INDEXES: dict[str, list[tuple[str, ...]]] = {}
for _spec in INDEX_SPECS:
    _INDEXES.setdefault(_spec.collection, []).append(tuple(field for field, _ in _spec.keys))
_NAMED = {
    f"idx_{spec.collection}_{'_'.join(f for f, _ in spec.keys)}": tuple(f for f, _ in spec.keys)
    for spec in INDEX_SPECS
}
_TTL = {spec.collection for spec in INDEX_SPECS if spec.expire_after_seconds is not None}


def _scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list)


def _ends_an_index(collection: str, field: str) -> bool:
    """The server keeps a bare equality indexable when some index's name ends with the field (its
    SQLite index is named idx_<collection>_<fields joined by _>)."""
    names = (f"idx_{collection}_{'_'.join(keys)}" for keys in _INDEXES.get(collection, []))
    return any(name.endswith(f"_{field}") for name in names)


def _equalities(collection: str, where: dict[str, Any]) -> set[str]:
    """The fields an index can match `where` on."""
    usable: set[str] = set()
    for field, value in where.items():
        if field.startswith("$"):
            continue  # $and / $or: evaluated row by row
        if isinstance(value, dict):
            if list(value) == ["$eq"] and _scalar(value["$eq"]):
                usable.add(field)
            elif field == "_id" and list(value) == ["$in"]:
                usable.add(field)
        elif _scalar(value) and (field == "_id" or _ends_an_index(collection, field)):
            usable.add(field)
    return usable


def _indexed(collection: str, where: dict[str, Any]) -> bool:
    """The server plans with an index that matches the most leading keys by equality (measured:
    with `tenant_id` and `ticket_id`, a (tenant_id, sale_id) index ties with (ticket_id) and is
    taken, reading the tenant's every ticket: 15 ms at 30,000 against 0.3 ms by `_id`). So a read
    is served only when every index tied for the most matched keys matches more than the scope."""
    usable = _equalities(collection, where)
    if "_id" in usable:
        return True
    best, tied = 0, []
    for keys in _INDEXES.get(collection, []):
        n = 0
        while n < len(keys) and keys[n] in usable:
            n += 1
        if n > best:
            best, tied = n, [keys]
        elif n and n == best:
            tied.append(keys)
    return best > 0 and all(
        n_keys == best or not set(keys[:best]) <= _SCOPE for keys in tied for n_keys in [len(keys)]
    )


_PLAN_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\S+) \(([^)]*)\)")


async def plan_offence(db: Database, collection: str, where: dict[str, Any]) -> str | None:
    """Why the server's own plan for this read would scan, on the embedded server (SQLite's plan:
    `SEARCH … USING INDEX idx_<collection>_<keys> (<expr>=? AND …)`, one `=?` per leading key it
    matches). An index matched on the tenant (and store) alone reads the tenant's whole collection:
    the planner takes one when it ties with a better one (tenant_id + ticket_id took a
    (tenant_id, short_code) index: 15 ms at 30,000 tickets, 0.3 ms by `_id`). On MongoDB, the
    heuristic below stands in."""
    explained = await db.db.command("explain", {"find": collection, "filter": where})
    steps = explained.get("queryPlanner", {}).get("winningPlan")
    if not isinstance(steps, list):  # MongoDB's own plan format
        return None if _indexed(collection, where) else "a read no index serves"
    details = " ".join(str(step.get("detail", "")) for step in steps)
    if f"SCAN {collection}" in details.split(" USING")[0] and "USING" not in details:
        return "a read the server answers by scanning the collection"
    used = _PLAN_INDEX.search(details)
    if used is None:
        return f"a plan without an index: {details}"
    name, constraints = used.groups()
    keys = _NAMED.get(name)
    if keys is None:  # the `_id` index and the like
        return None
    matched = keys[: constraints.count("=?")]
    if not matched or (set(matched) <= _SCOPE and len(matched) < len(keys)):
        return f"a read of the tenant's whole collection through {name} ({constraints})"
    return None


async def offence(db: Database, command: Command) -> str | None:
    """Why the embedded server would scan for this operation (None: it does not)."""
    if command.name == "count":
        return "a count"
    if command.name == "aggregate":
        return "an aggregation (count_documents is one)"
    if command.name in ("update", "findAndModify", "delete"):
        if "_id" not in _equalities(command.collection, command.filter or {}):
            return "a conditional write not addressed by _id"
    if command.name in ("find", "distinct"):
        if command.collection in _TTL:
            return "a read of a collection with a TTL index (a full-scan purge first)"
        return await plan_offence(db, command.collection, command.filter or {})
    return None


async def check(db: Database, path: str, commands: list[Command]) -> None:
    """Every offence on `path` is a known one, and every known one of `path` still happens."""
    seen: set[tuple[str, str, str]] = set()
    unexpected: list[str] = []
    for command in commands:
        why = await offence(db, command)
        if why is None:
            continue
        key = (path, command.name, command.collection)
        seen.add(key)
        if key not in KNOWN_OFFENDERS:
            unexpected.append(f"{path}: {command.name} {command.collection} {command.filter!r} — {why}")
    assert not unexpected, "operations that scan on the embedded server:\n" + "\n".join(unexpected)
    stale = [key for key in KNOWN_OFFENDERS if key[0] == path and key not in seen]
    assert not stale, f"fixed (remove from KNOWN_OFFENDERS): {stale}"


async def client_bulk_write(db: Database) -> bool:
    """MongoDB 8's client-level bulkWrite (the embedded server has it): a scan's event and record
    go in one round trip; on MongoDB 7 they take one each."""
    hello = await db.client.admin.command("hello")
    return int(hello.get("maxWireVersion", 0)) >= 25


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "G")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    return await open_till(client, world)


@pytest.fixture
async def gate(client: httpx.AsyncClient, world: TenantWorld) -> PairedDevice:
    return await pair_device(client, world, type="GATE")


async def tickets_sold(client: httpx.AsyncClient, till: Till, qty: int) -> list[dict[str, Any]]:
    sold: list[dict[str, Any]] = data(await sell(client, till, f"sale-{ULID()}", [("single", qty)]), 201)[
        "tickets"
    ]
    return sold


async def scan(client: httpx.AsyncClient, gate: PairedDevice, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = data(
        await client.post("/v1/tickets/redeem", json=body, headers=bearer(gate.access_token))
    )
    return answer


async def test_a_gate_scan_reads_and_writes_by_id_and_index_in_three_round_trips(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, commands: CommandRecorder, deps: Deps
) -> None:
    tickets = await tickets_sold(client, till, 5)
    await scan(client, gate, qr_token=tickets[0]["qr_token"])  # warm: the device, its rules, the keys
    trips = 3 if await client_bulk_write(deps.db) else 4
    recorded: list[Command] = []

    commands.start()
    passed = await scan(client, gate, qr_token=tickets[1]["qr_token"])
    online_pass = commands.trips
    recorded += commands.stop()
    assert passed["result"] == "pass"
    assert online_pass <= trips, [(c.name, c.collection) for c in commands.commands]

    commands.start()
    failed = await scan(client, gate, qr_token=tickets[1]["qr_token"])
    online_fail = commands.trips
    recorded += commands.stop()
    assert (failed["result"], failed["reason"]) == ("fail", "duplicate_use")
    assert online_fail <= trips

    commands.start()
    by_code = await scan(client, gate, short_code=tickets[2]["short_code"])
    recorded += commands.stop()
    assert by_code["result"] == "pass"

    scan_id = str(ULID())
    commands.start()
    first = await scan(client, gate, qr_token=tickets[3]["qr_token"], scan_id=scan_id)
    with_scan_id = commands.trips
    again = await scan(client, gate, qr_token=tickets[3]["qr_token"], scan_id=scan_id)
    recorded += commands.stop()
    assert first["result"] == again["result"] == "pass"
    assert with_scan_id <= trips + 1  # the replay check: one read, only when a scan_id is sent

    commands.start()
    forged = await scan(client, gate, qr_token=tickets[4]["qr_token"][:-4] + "AAAA")
    recorded += commands.stop()
    assert forged["reason"] == "invalid_sig"
    await check(deps.db, "redeem", recorded)


async def test_a_sale_of_five_tickets_in_eight_round_trips(
    client: httpx.AsyncClient, till: Till, commands: CommandRecorder, deps: Deps
) -> None:
    await tickets_sold(client, till, 1)  # warm: prices, settings, the cashier's grants
    commands.start()
    sold = await tickets_sold(client, till, 5)
    trips = commands.trips
    recorded = commands.stop()
    assert len(sold) == 5
    await check(deps.db, "sale", recorded)
    # the cashier, the key, the pricing counter, the shift; sale+tickets+note+events; the audit
    # number; completion+entry; the head (one write each on MongoDB 7: more)
    if await client_bulk_write(deps.db):
        assert trips <= 8, [(c.name, c.collection) for c in recorded]


async def test_a_gate_download(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, commands: CommandRecorder, deps: Deps
) -> None:
    await tickets_sold(client, till, 5)
    params = {"window": 60}
    data(await client.get("/v1/gate/bootstrap", params=params, headers=bearer(gate.access_token)))  # warm
    commands.start()
    body = data(await client.get("/v1/gate/bootstrap", params=params, headers=bearer(gate.access_token)))
    recorded = commands.stop()
    assert len(body["tickets"]) == 5
    await check(deps.db, "bootstrap", recorded)


async def test_an_offline_upload(
    client: httpx.AsyncClient,
    world: TenantWorld,
    till: Till,
    gate: PairedDevice,
    clock: FixedClock,
    commands: CommandRecorder,
    deps: Deps,
) -> None:
    tickets = await tickets_sold(client, till, 3)
    other = await pair_device(client, world, type="GATE")
    at = clock.now() + timedelta(minutes=1)  # when the gate let them in, offline
    clock.advance(timedelta(minutes=2))
    await scan(client, other, qr_token=tickets[0]["qr_token"])  # used online after that

    def op(ticket: dict[str, Any], seq: int) -> dict[str, Any]:
        payload = {"qr_token": ticket["qr_token"], "result": "pass"}
        return {
            "op_id": str(ULID()),
            "type": "redemption",
            "ts": isoformat_z(at),
            "device_seq": seq,
            "payload": payload,
        }

    clock.advance(timedelta(minutes=1))
    batch = {"ops": [op(tickets[0], 1), op(tickets[1], 2), op(tickets[2], 3)]}
    headers = bearer(gate.access_token)
    commands.start()
    results = data(await client.post("/v1/sync/batch", json=batch, headers=headers))["results"]
    recorded = commands.stop()
    assert [r["status"] for r in results] == ["applied"] * 3
    assert [r["result"]["result"] for r in results] == ["pass"] * 3  # the earlier offline PASS stands
    await check(deps.db, "sync", recorded)


async def test_a_warm_device_costs_no_read_and_a_change_made_elsewhere_applies_within_seconds(
    client: httpx.AsyncClient,
    world: TenantWorld,
    gate: PairedDevice,
    deps: Deps,
    commands: CommandRecorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The device cache (tenancy/service.py, DEVICE_CACHE_SECONDS): a device's requests read it once
    per few seconds; a suspension through this process applies at once, one through another replica
    (here: written to the database behind this process's back) once the cached record expires."""
    me = bearer(gate.access_token)
    data(await client.get("/v1/devices/me", headers=me))
    commands.start()
    data(await client.get("/v1/devices/me", headers=me))
    assert commands.stop() == []

    await deps.db[C.DEVICES].update_one({"device_id": gate.device_id}, {"$set": {"status": "suspended"}})
    data(await client.get("/v1/devices/me", headers=me))  # another replica's change: not seen yet
    later = devices_seen.now() + deps.settings.device_cache_seconds
    monkeypatch.setattr(devices_seen, "now", lambda: later)
    assert error_code(await client.get("/v1/devices/me", headers=me)) == "E_DEVICE_SUSPENDED"

    other = await pair_device(client, world, type="GATE")
    data(await client.get("/v1/devices/me", headers=bearer(other.access_token)))
    admin = bearer(await owner_token(client, world))
    data(await client.post(f"/v1/devices/{other.device_id}/suspend", json={"reason": "lost"}, headers=admin))
    refused = await client.get("/v1/devices/me", headers=bearer(other.access_token))
    assert error_code(refused) == "E_DEVICE_SUSPENDED"  # through this process: at once
