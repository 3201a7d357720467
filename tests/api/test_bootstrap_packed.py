"""The gate's allow-list in its packed layout (`layout=packed`): the same tickets as the rows layout,
as groups of equal values with their hashes end to end — in a full list and in a delta, under an
ETag of its own, for this gate's store only — and a smaller download; the rows answer unchanged."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
from datetime import timedelta
from typing import Any

import httpx
import pytest
from ulid import ULID

from boxoffice.core.clock import FixedClock
from boxoffice.core.deps import Deps
from boxoffice.offline.allowlist import MINUTE, Facts, Lens, StoreList
from boxoffice.tickets.qr import qr_hash
from tests.factories.catalog import ZONES, add_package
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    add_employee,
    bearer,
    data,
    device_login,
    make_tenant,
    pair_device,
    pin_login,
)
from tests.factories.sales import Till, approval, open_till, refund, sell

WINDOW = 240
HASH = 22  # characters of a qr_hash


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "P")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    """The demo catalog (a single entry opening the ball pit, a 2-hour pass, the family bundle) and a
    3-visit pass opening trampoline A; a supervisor for refunds."""
    till = await open_till(client, world)
    created = await add_package(
        client, world, name="3 visits", type="multi", price=40_000, quota_or_minutes=3, zones=["trampoline-a"]
    )
    till.ids["multi"] = created["package_id"]
    await add_employee(client, world, role="Supervisor", pin="9999")
    return till


@pytest.fixture
async def gate(client: httpx.AsyncClient, world: TenantWorld) -> PairedDevice:
    return await pair_device(client, world, type="GATE")


async def download(
    client: httpx.AsyncClient,
    gate: PairedDevice,
    layout: str | None = None,
    since: str | None = None,
    etag: str | None = None,
) -> httpx.Response:
    params: dict[str, Any] = {"window": WINDOW}
    if layout is not None:
        params["layout"] = layout
    if since is not None:
        params["since"] = since
    headers = {**bearer(gate.access_token), **({"If-None-Match": etag} if etag else {})}
    return await client.get("/v1/gate/bootstrap", params=params, headers=headers)


def split(hashes: str) -> list[str]:
    """What a gate does with a group's hashes: cut them every 22 characters."""
    assert len(hashes) % HASH == 0, hashes
    return [hashes[i : i + HASH] for i in range(0, len(hashes), HASH)]


def unpacked(body: dict[str, Any]) -> dict[str, list[Any]]:
    """A packed answer as rows by hash: each hash of a group with the group's five values."""
    assert body["tickets"] == []
    rows: dict[str, list[Any]] = {}
    for group in body["groups"]:
        assert len(group) == 6
        for h in split(group[5]):
            assert h not in rows  # each ticket once
            rows[h] = [h, *group[:5]]
    return rows


def by_hash(entries: list[list[Any]]) -> dict[str, list[Any]]:
    listed = {e[0]: e for e in entries}
    assert len(listed) == len(entries)
    return listed


async def scan(client: httpx.AsyncClient, gate: PairedDevice, ticket: dict[str, Any], zone: str) -> None:
    body = {"qr_token": ticket["qr_token"], "zone": zone}
    passed = data(await client.post("/v1/tickets/redeem", json=body, headers=bearer(gate.access_token)))
    assert passed["result"] == "pass", passed


async def later(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, clock: FixedClock, minutes: int
) -> None:
    """The clock moves on; the gate, the POS and its cashier sign in again (sessions last 15 minutes)."""
    clock.advance(timedelta(minutes=minutes))
    gate.access_token = await device_login(client, gate.device_id, gate.device_token)
    till.device.access_token = await device_login(client, till.device.device_id, till.device.device_token)
    till.cashier = data(await pin_login(client, till.device, "1111"))["access_token"]


async def varied_sales(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, clock: FixedClock
) -> list[dict[str, Any]]:
    """Single entries, 3-visit passes (one with visits left after a use), 2-hour passes (one running)
    and a family bundle, sold at two times: groups of several tickets and groups of one."""
    first = data(await sell(client, till, "sale-0001", [("single", 3), ("multi", 2), ("two_hour", 2)]), 201)
    await later(client, till, gate, clock, 7)
    second = data(await sell(client, till, "sale-0002", [("family", 1), ("multi", 1)]), 201)
    tickets: list[dict[str, Any]] = first["tickets"] + second["tickets"]
    multi = [t for t in tickets if t["type"] == "multi"]
    timepass = [t for t in tickets if t["type"] == "timepass"]
    await scan(client, gate, multi[0], "trampoline-a")  # two visits left
    await scan(client, gate, timepass[0], "ball-pit")  # running: its minutes tick
    await later(client, till, gate, clock, 30)
    return tickets


async def test_packed_and_rows_list_the_same_tickets(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, clock: FixedClock
) -> None:
    tickets = await varied_sales(client, till, gate, clock)
    rows_response = await download(client, gate, "rows")
    rows = data(rows_response)
    packed = data(await download(client, gate, "packed"))

    listed = by_hash(rows["tickets"])
    assert unpacked(packed) == listed
    assert {qr_hash(t["qr_token"]) for t in tickets} == set(listed)
    kinds = {(e[1], e[2], e[5]) for e in listed.values()}  # type, remaining, zone mask
    assert {("s", None, 1), ("m", 3, 2), ("m", 2, 2), ("t", 120, 0), ("t", 90, 0)} <= kinds
    assert len(packed["groups"]) < len(rows["tickets"])  # alike tickets share a group
    assert packed["removed"] == rows["removed"] == []
    same = ("version", "full", "generated_at", "window_minutes", "config", "fields")
    assert {k: packed[k] for k in same} == {k: rows[k] for k in same}

    # groups in the rows' order (validity end, start, type, remaining, zones), each group's hashes sorted
    order = [(g[3], g[2], g[0], -1 if g[1] is None else g[1], g[4]) for g in packed["groups"]]
    assert order == sorted(order)
    assert len(set(order)) == len(order)
    assert all(split(g[5]) == sorted(split(g[5])) for g in packed["groups"])
    assert [e[0] for e in rows["tickets"]] == [h for g in packed["groups"] for h in split(g[5])]

    # the rows answer is what it always was: no `groups`, and the layout's default
    assert b'"groups"' not in rows_response.content
    default = await download(client, gate)
    assert default.headers["ETag"] == rows_response.headers["ETag"]
    assert data(default) == rows


async def test_a_gate_splitting_the_hashes_gets_the_qr_hashes_of_the_tickets_sold(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice
) -> None:
    sold = data(await sell(client, till, "sale-0001", [("single", 5), ("two_hour", 2)]), 201)["tickets"]
    groups = data(await download(client, gate, "packed"))["groups"]
    assert [(g[0], len(g[5]) // HASH) for g in groups] == [("s", 5), ("t", 2)]
    hashes = [h for g in groups for h in split(g[5])]
    assert sorted(hashes) == sorted(qr_hash(t["qr_token"]) for t in sold)
    # as the device guide tells a gate to hash what it scans
    scanned = [base64.urlsafe_b64encode(hashlib.sha256(t["qr_token"].encode()).digest()) for t in sold]
    assert sorted(hashes) == sorted(s.decode()[:HASH] for s in scanned)


async def test_a_delta_in_the_packed_layout_carries_what_the_rows_delta_carries(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, clock: FixedClock
) -> None:
    tickets = await varied_sales(client, till, gate, clock)
    before = data(await download(client, gate, "packed"))
    assert before["version"] == data(await download(client, gate, "rows"))["version"]
    held = unpacked(before)

    singles = [t for t in tickets if t["type"] == "single"]
    multi = [t for t in tickets if t["type"] == "multi"]
    await scan(client, gate, singles[0], "ball-pit")  # used up: removed
    await scan(client, gate, multi[1], "trampoline-a")  # a visit fewer: upserted
    token = await approval(client, till, "refund", "9999", target_id=singles[1]["sale_id"])
    data(
        await refund(
            client,
            till,
            f"refund-{ULID()}",
            singles[1]["sale_id"],
            token,
            ticket_ids=[singles[1]["ticket_id"]],
        ),
        201,
    )
    added = data(await sell(client, till, "sale-0003", [("single", 2), ("multi", 1)]), 201)["tickets"]
    await later(client, till, gate, clock, 5)  # the running 2-hour pass: 5 minutes fewer

    rows = data(await download(client, gate, "rows", since=before["version"]))
    packed = data(await download(client, gate, "packed", since=before["version"]))
    assert (rows["full"], packed["full"]) == (False, False)
    assert packed["version"] == rows["version"]
    upserted = unpacked(packed)
    assert upserted == by_hash(rows["tickets"])
    assert packed["removed"] == rows["removed"]
    assert sorted(packed["removed"]) == sorted(qr_hash(t["qr_token"]) for t in singles[:2])
    assert {qr_hash(t["qr_token"]) for t in [multi[1], *added]} <= set(upserted)

    # the delta carries the packed list to what a full download lists now
    carried = {h: e for h, e in held.items() if h not in set(packed["removed"])} | upserted
    assert carried == unpacked(data(await download(client, gate, "packed")))


async def test_each_layout_has_its_own_etag(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice
) -> None:
    data(await sell(client, till, "sale-0001", [("single", 2)]), 201)
    rows, packed = await download(client, gate, "rows"), await download(client, gate, "packed")
    assert rows.headers["ETag"] != packed.headers["ETag"]

    for layout, etag in (("rows", rows.headers["ETag"]), ("packed", packed.headers["ETag"])):
        unchanged = await download(client, gate, layout, etag=etag)
        assert (unchanged.status_code, unchanged.content) == (304, b"")

    # a gate switching layout with the other layout's ETag gets the whole answer in its new layout
    switched = await download(client, gate, "packed", etag=rows.headers["ETag"])
    assert switched.status_code == 200
    assert switched.headers["ETag"] == packed.headers["ETag"]
    assert len(split(data(switched)["groups"][0][5])) == 2
    back = await download(client, gate, "rows", etag=packed.headers["ETag"])
    assert (back.status_code, len(data(back)["tickets"])) == (200, 2)

    # deltas since one version: one ETag per layout too, and each answers 304 to itself
    version = data(packed)["version"]
    delta_rows = await download(client, gate, "rows", since=version)
    delta_packed = await download(client, gate, "packed", since=version)
    assert delta_rows.headers["ETag"] != delta_packed.headers["ETag"]
    again = await download(client, gate, "packed", since=version, etag=delta_packed.headers["ETag"])
    assert again.status_code == 304

    data(await sell(client, till, "sale-0002", [("single", 1)]), 201)  # the list changed
    changed = await download(client, gate, "packed", etag=packed.headers["ETag"])
    assert changed.status_code == 200
    assert sum(len(split(g[5])) for g in data(changed)["groups"]) == 3


async def test_another_stores_or_tenants_tickets_never_appear(
    client: httpx.AsyncClient, deps: Deps, world: TenantWorld, till: Till, gate: PairedDevice
) -> None:
    mine = data(await sell(client, till, "sale-0001", [("single", 2), ("multi", 1)]), 201)["tickets"]

    pos = await pair_device(client, world, store_id=world.other_store_id)  # the tenant's other store
    await add_employee(client, world, role="Cashier", pin="2222", store_id=world.other_store_id)
    cashier = data(await pin_login(client, pos, "2222"))["access_token"]
    data(await client.post("/v1/shifts/open", json={"cash_open": 0}, headers=bearer(cashier)), 201)
    elsewhere = Till(pos, cashier, till.ids)
    theirs = data(await sell(client, elsewhere, "sale-0002", [("single", 2), ("multi", 1)]), 201)["tickets"]

    stranger = await make_tenant(deps, "Q")  # another tenant, the same catalog
    other_till = await open_till(client, stranger)
    theirs += data(await sell(client, other_till, "sale-0003", [("single", 2)]), 201)["tickets"]
    await pair_device(client, stranger, type="GATE")

    listed = unpacked(data(await download(client, gate, "packed")))
    assert set(listed) == {qr_hash(t["qr_token"]) for t in mine}
    assert not set(listed) & {qr_hash(t["qr_token"]) for t in theirs}


@pytest.mark.parametrize("layout", ["bogus", "PACKED", ""])
async def test_an_unknown_layout_is_refused(
    client: httpx.AsyncClient, till: Till, gate: PairedDevice, layout: str
) -> None:
    response = await download(client, gate, layout)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "E_VALIDATION"
    assert [d["loc"] for d in error["details"]] == [["query", "layout"]]


def test_the_packed_list_is_smaller_gzipped() -> None:
    """2,000 tickets sold five to a sale (four single entries opening the ball pit and a 2-hour pass)
    over six hours, all valid until the evening: the packed list gzipped is under 92% of the rows."""
    rng = random.Random(7)
    at = 1_795_663_800_000 // MINUTE * MINUTE
    evening = at + 10 * 3_600_000
    facts: dict[str, Facts] = {}
    for sale in range(400):
        sold_at = at - rng.randrange(6 * 3_600_000)
        for n in range(5):
            ticket_id = f"{sale}-{n}"
            single = n < 4
            facts[ticket_id] = Facts(
                ticket_id=ticket_id,
                qr_hash=qr_hash(ticket_id),
                type="single" if single else "timepass",
                active=True,
                quota=0 if single else 120,
                used=0,
                first_pass=None,
                valid_from=sold_at,
                valid_to=evening,
                zones=frozenset({"ball-pit"} if single else ()),
            )
    kept = StoreList(1, facts, floor=at, synced=at)
    lens = Lens(WINDOW * MINUTE, tuple(z["zone_id"] for z in ZONES), frozenset())
    rows, packed = kept.full_json(lens, at, "rows"), kept.full_json(lens, at, "packed")
    assert len(split("".join(g[5] for g in json.loads(packed)))) == len(facts)
    ratio = len(gzip.compress(packed, 6)) / len(gzip.compress(rows, 6))
    assert ratio < 0.92, ratio
    assert kept.full_json(lens, at, "packed") is packed  # serialized once per version and layout
