"""The merge of online scans and offline uploads, truly interleaved while the clock moves: offline
scans made before online passes and uploaded after them, in pieces, in any order, some twice.
Whatever happens, the earliest PASSes stand, passes never exceed the quota nor fall below what the
gates let in, and `used` counts the passes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ulid import ULID

from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C
from boxoffice.core.deps import Deps
from tests.factories.catalog import add_package
from tests.factories.identity import (
    PairedDevice,
    TenantWorld,
    bearer,
    data,
    device_login,
    make_tenant,
    owner_token,
    pair_device,
    pin_login,
)
from tests.factories.sales import Till, open_till, sell

GATES = 3


@pytest.fixture
async def world(deps: Deps) -> TenantWorld:
    return await make_tenant(deps, "A")


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    till = await open_till(client, world)
    owner = bearer(await owner_token(client, world))
    # no grace window: every scan is a use of its own, so "what the gates let in" is a plain count
    data(
        await client.put(
            "/v1/settings/redemption", json={"grace_seconds": 0, "max_offline_minutes": 240}, headers=owner
        )
    )
    return till


@pytest.fixture
async def gates(client: httpx.AsyncClient, world: TenantWorld) -> list[PairedDevice]:
    return [await pair_device(client, world, type="GATE") for _ in range(GATES)]


# One step: the clock moves `wait` seconds, then a gate scans online, scans offline (the scan dated
# `back` seconds before now: its clock, or simply an earlier scan still in its outbox), or uploads
# `take` of its waiting ops (shuffled by `seed`, sent twice when `twice`).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("online"), st.integers(0, GATES - 1), st.integers(1, 60)),
        st.tuples(st.just("offline"), st.integers(0, GATES - 1), st.integers(1, 60), st.integers(0, 100)),
        st.tuples(
            st.just("upload"),
            st.integers(0, GATES - 1),
            st.integers(1, 60),
            st.integers(1, 4),
            st.booleans(),
        ),
    ),
    min_size=2,
    max_size=14,
)


async def signed_in(client: httpx.AsyncClient, device: PairedDevice) -> PairedDevice:
    """A fresh session: the clock runs on from example to example, past a session's 15 minutes."""
    token = await device_login(client, device.device_id, device.device_token)
    return replace(device, access_token=token)


@dataclass
class Gate:
    device: PairedDevice
    outbox: list[dict[str, Any]] = field(default_factory=list)


async def upload(client: httpx.AsyncClient, gate: Gate, ops: list[dict[str, Any]], waiting: int) -> None:
    response = await client.post(
        "/v1/sync/batch",
        json={"ops": ops, "outbox_remaining": waiting},
        headers=bearer(gate.device.access_token),
    )
    for result in data(response)["results"]:
        assert result["status"] in ("applied", "duplicate"), result


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["single", "multi"]), quota=st.integers(1, 3), plan=steps, seed=st.randoms())
async def test_online_and_offline_scans_merge_to_the_earliest_passes(
    client: httpx.AsyncClient,
    world: TenantWorld,
    till: Till,
    gates: list[PairedDevice],
    clock: FixedClock,
    deps: Deps,
    kind: str,
    quota: int,
    plan: list[tuple[Any, ...]],
    seed: Any,
) -> None:
    world.tokens.clear()
    till.device = await signed_in(client, till.device)
    till.cashier = data(await pin_login(client, till.device, "1111"))["access_token"]
    if kind == "single":
        quota = 1
    name = f"{kind}-{quota}"
    if name not in till.ids:
        fields: dict[str, Any] = {"type": kind, "price": 10_000}
        if kind == "multi":
            fields["quota_or_minutes"] = quota
        till.ids[name] = (await add_package(client, world, name=name, **fields))["package_id"]
    sold = data(await sell(client, till, f"sale-{ULID()}", [(name, 1)]), 201)
    ticket = sold["tickets"][0]
    outboxes = [Gate(await signed_in(client, device)) for device in gates]
    admitted: list[datetime] = []  # when each pass a gate let someone in through happened
    taken: set[datetime] = set()  # distinct scan times keep "the earliest" unambiguous

    def fresh(at: datetime) -> datetime:
        while at in taken or at < sold_at:
            at += timedelta(seconds=1)
        taken.add(at)
        return at

    sold_at = clock.now()
    for step in plan:
        action, n, wait = step[0], step[1], step[2]
        clock.advance(timedelta(seconds=wait))
        gate = outboxes[n]
        if action == "online":
            if clock.now() in taken:
                continue
            answer = data(
                await client.post(
                    "/v1/tickets/redeem",
                    json={"qr_token": ticket["qr_token"]},
                    headers=bearer(gate.device.access_token),
                )
            )
            if answer["result"] == "pass":
                taken.add(clock.now())
                admitted.append(clock.now())
        elif action == "offline":
            at = fresh(clock.now() - timedelta(seconds=step[3]))
            admitted.append(at)
            gate.outbox.append(
                {
                    "op_id": str(ULID()),
                    "type": "redemption",
                    "ts": isoformat_z(at),
                    "payload": {"qr_token": ticket["qr_token"], "result": "pass"},
                }
            )
        elif gate.outbox:
            piece, gate.outbox = gate.outbox[: step[3]], gate.outbox[step[3] :]
            await upload(client, gate, seed.sample(piece, len(piece)), len(gate.outbox))
            if step[4]:
                await upload(client, gate, piece, len(gate.outbox))
    clock.advance(timedelta(seconds=1))
    for gate in outboxes:  # back online: every gate empties its outbox
        if gate.outbox:
            await upload(client, gate, gate.outbox, 0)

    records = await deps.db[C.REDEMPTIONS].find({"ticket_id": ticket["ticket_id"]}).to_list()
    stands = sorted(
        datetime.fromisoformat(r["ts"].replace("Z", "+00:00")) for r in records if r["result"] == "pass"
    )
    stored = await deps.db[C.TICKETS].find_one({"ticket_id": ticket["ticket_id"]})
    assert stored is not None
    assert len(stands) <= quota  # never more than the quota
    assert len(stands) == min(quota, len(admitted))  # never fewer than the gates let in
    assert stands == sorted(admitted)[: len(stands)]  # the earliest stand
    assert stored["used"] == len(stands)
    offline_ops = sum(1 for s in plan if s[0] == "offline")
    assert sum(1 for r in records if r["metadata"]["offline"]) == offline_ops  # each recorded once
