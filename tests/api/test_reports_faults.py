"""The write path killed at every step: a sale, a refund and a POS's sync upload each die before
their first write, then before their second, and so on to their last (the process gone: nothing
after that point reaches the database), and are then finished the way production finishes them —
the client's retry with its key, the sweeper, the upload sent again. The report projector is killed
the same way, at write after write. Afterwards every sale, ticket and refund exists once, the
summaries equal a rebuild from the raw records, and the reconciliation finds nothing.

The double here is the database connection only (`Database` with its collections and client): it
lets the application's own code run unchanged until the chosen write, and refuses everything after
it as an unreachable server would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pymongo.errors import ConnectionFailure
from ulid import ULID

from boxoffice.aftersale.refunds import sweep_stale_refunds
from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.core.clock import FixedClock, isoformat_z
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.reports import projection
from boxoffice.reports.rebuild import rebuild_tenant
from boxoffice.sales.service import sweep_stale_sales
from tests.api.test_reports import SUPERVISOR_PIN, summaries
from tests.factories.identity import (
    TenantWorld,
    add_employee,
    bearer,
    data,
    device_login,
    make_tenant,
    owner_token,
    pair_device,
    pin_login,
)
from tests.factories.sales import Till, approval, open_till, refund, sell

#: The collection methods that write (each one round trip: a write the process dies before or not).
WRITES = frozenset(
    {
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
    }
)
#: The collection methods that read and are awaited (`find` hands back a cursor at once).
READS = frozenset({"find_one", "count_documents", "distinct", "aggregate", "index_information"})


class Crash:
    """Where the process dies: just before its `at`-th write (0: it lives). From then on every
    operation fails, as on a server no longer reachable, until the process "restarts" (`live`)."""

    def __init__(self) -> None:
        self.at = 0
        self.writes = 0
        self.dead = False
        self.died = 0  # how many times it died

    def arm(self, at: int) -> None:
        self.at, self.writes, self.dead = at, 0, False

    def live(self) -> int:
        """Restart; returns how many writes the run before made (up to its death)."""
        made = self.writes
        self.at, self.writes, self.dead = 0, 0, False
        return made

    def check(self, write: bool) -> None:
        if self.dead:
            raise ConnectionFailure("the process is gone")
        if not write:
            return
        self.writes += 1
        if self.at and self.writes >= self.at:
            self.dead = True
            self.died += 1
            raise ConnectionFailure(f"the process died before write {self.writes}")


class FaultyCollection:
    def __init__(self, real: Any, crash: Crash) -> None:
        self._real, self._crash = real, crash

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self._crash.check(False)
        return self._real.find(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if name not in WRITES and name not in READS:
            return attr
        write = name in WRITES

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._crash.check(write)
            return await attr(*args, **kwargs)

        return call


class FaultyClient:
    """The client: its client-level `bulk_write` (several collections in one ordered round trip)."""

    def __init__(self, real: Any, crash: Crash) -> None:
        self._real, self._crash = real, crash

    async def bulk_write(self, *args: Any, **kwargs: Any) -> Any:
        self._crash.check(True)
        return await self._real.bulk_write(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class FaultyDatabase:
    def __init__(self, real: Database, crash: Crash) -> None:
        self._real, self._crash = real, crash
        self.client = FaultyClient(real.client, crash)

    def __getitem__(self, collection: str) -> FaultyCollection:
        return FaultyCollection(self._real[collection], self._crash)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@dataclass
class Rig:
    client: httpx.AsyncClient
    crash: Crash
    db: Any  # the faulty connection, as the app has it


@pytest.fixture
async def rig(settings: Settings, clean_db: Database, clock: FixedClock) -> AsyncIterator[Rig]:
    """The app on the faulty connection (the test's own reads go to the real one: `deps`)."""
    crash = Crash()
    faulty = FaultyDatabase(clean_db, crash)
    app = create_app(settings, clock=clock, db=faulty, background=False)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield Rig(client, crash, faulty)


async def signed_in(client: httpx.AsyncClient, till: Till, world: TenantWorld) -> None:
    world.tokens.clear()
    device = till.device
    device.access_token = await device_login(client, device.device_id, device.device_token)
    till.cashier = data(await pin_login(client, device, "1111"))["access_token"]


async def every_step(
    rig: Rig,
    attempt: Callable[[], Awaitable[httpx.Response]],
    recover: Callable[[int], Awaitable[httpx.Response]],
    before: Callable[[], Awaitable[Any]],
) -> tuple[int, list[int]]:
    """Run the operation once untouched to count its writes, then once per write k dying before
    its k-th write and recovered by `recover(k)`. Returns (writes, the statuses of the dying
    attempts)."""
    await before()
    rig.crash.arm(0)
    clean = await attempt()
    assert clean.status_code in (200, 201), clean.text
    writes = rig.crash.live()
    assert writes > 3
    statuses = []
    for k in range(1, writes + 1):
        await before()
        rig.crash.arm(k)
        died = await attempt()
        statuses.append(died.status_code)
        rig.crash.live()
        answer = await recover(k)
        assert answer.status_code in (200, 201), (k, answer.text)
    return writes, statuses


def assert_died(statuses: list[int]) -> None:
    """The client saw the database go away, unless the operation had done all it must before the
    process died (what follows is the audit trail's catch-up, which never fails the caller)."""
    assert statuses[0] == 503
    assert set(statuses) <= {503, 200, 201}
    done = next((n for n, s in enumerate(statuses) if s != 503), len(statuses))
    assert all(s != 503 for s in statuses[done:])  # once done, it stays done


async def test_a_sale_a_refund_and_a_sync_upload_killed_at_every_write_count_once(
    rig: Rig, deps: Deps, clock: FixedClock
) -> None:
    client = rig.client
    world = await make_tenant(deps, "F")
    till = await open_till(client, world, cash_open=100_000)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    keys = iter(range(1, 10_000))
    current: dict[str, Any] = {}

    # ---- a sale: the client retries with its key; every other time the sweeper finishes it first
    async def new_sale() -> None:
        current["key"] = f"sale-{next(keys):05d}"

    async def sale_attempt() -> httpx.Response:
        return await sell(
            client, till, current["key"], [("single", 2), ("two_hour", 1)], payment_method="card"
        )

    async def sale_recover(k: int) -> httpx.Response:
        clock.advance(timedelta(seconds=31))  # its lease runs out
        await signed_in(client, till, world)
        if k % 2:
            await sweep_stale_sales(deps)
        return await sale_attempt()

    sale_writes, died = await every_step(rig, sale_attempt, sale_recover, new_sale)
    assert_died(died)
    sales_made = sale_writes + 1

    # ---- a refund of a fresh sale: retried with its key and approval; or finished by the sweeper
    async def new_refund() -> None:
        clock.advance(timedelta(hours=1))  # (refunds per employee are capped per hour)
        await signed_in(client, till, world)
        sold = data(
            await sell(
                client,
                till,
                f"sale-{next(keys):05d}",
                [("single", 3)],
                payment_method="cash",
                amount_tendered=100_000,
            ),
            201,
        )
        current["sale"] = sold
        current["key"] = f"refund-{next(keys):05d}"
        current["token"] = await approval(
            client, till, "refund", SUPERVISOR_PIN, target_id=sold["sale"]["sale_id"]
        )
        current["tickets"] = [t["ticket_id"] for t in sold["tickets"][:2]]

    async def refund_attempt() -> httpx.Response:
        return await refund(
            client,
            till,
            current["key"],
            current["sale"]["sale"]["sale_id"],
            current["token"],
            ticket_ids=current["tickets"],
        )

    async def refund_recover(k: int) -> httpx.Response:
        clock.advance(timedelta(seconds=31))
        await signed_in(client, till, world)
        if k % 2:
            await sweep_stale_refunds(deps)
        return await refund_attempt()

    refund_writes, died = await every_step(rig, refund_attempt, refund_recover, new_refund)
    assert_died(died)
    sales_made += refund_writes + 1
    refunds_made = refund_writes + 1

    # ---- a POS's upload of two offline sales: sent again, whole, after the process died
    async def new_upload() -> None:
        clock.advance(timedelta(minutes=2))
        await signed_in(client, till, world)
        ops = []
        for n in range(2):
            payload = {"lines": [{"package_id": till.ids["single"], "qty": 1 + n}], "payment_method": "qr"}
            at = clock.now() - timedelta(seconds=20 - n)
            ops.append(
                {
                    "op_id": str(ULID()),
                    "type": "sale",
                    "ts": isoformat_z(at),
                    "device_seq": next(keys),
                    "payload": payload,
                }
            )
        current["ops"] = ops

    async def upload() -> httpx.Response:
        answer = await client.post(
            "/v1/sync/batch", json={"ops": current["ops"]}, headers=bearer(till.cashier)
        )
        if answer.status_code == 200:
            assert {r["status"] for r in answer.json()["data"]["results"]} <= {"applied", "duplicate"}, (
                answer.text
            )
        return answer

    async def upload_recover(k: int) -> httpx.Response:
        clock.advance(timedelta(seconds=61))  # the claims' lease runs out
        await signed_in(client, till, world)
        again = await upload()
        assert again.status_code == 200, again.text
        return await upload()  # and once more: every op answers as a duplicate now

    upload_writes, died = await every_step(rig, upload, upload_recover, new_upload)
    assert_died(died)
    sales_made += 2 * (upload_writes + 1)

    # ---- exactly once, each
    stored = await deps.db[C.SALES].find({"tenant_id": world.tenant_id}).to_list()
    assert len(stored) == sales_made
    assert all(s["status"] == "completed" for s in stored)
    tickets = await deps.db[C.TICKETS].find({"tenant_id": world.tenant_id}).to_list()
    assert sorted(t["ticket_id"] for t in tickets) == sorted(t for s in stored for t in s["ticket_ids"])
    refunds = await deps.db[C.REFUNDS].find({"tenant_id": world.tenant_id}).to_list()
    assert [r["status"] for r in refunds] == ["completed"] * refunds_made
    assert sum(1 for t in tickets if t["status"] == "refunded") == 2 * refunds_made

    # ---- the summaries: what a rebuild from the records makes; the reconciliation is clean
    await projection.project_all(deps)
    projected = await summaries(deps, world.tenant_id)
    await rebuild_tenant(deps, world.tenant_id)
    assert await summaries(deps, world.tenant_id) == projected
    day = clock.now().astimezone(ZoneInfo("Asia/Bangkok")).date().isoformat()
    answer = data(
        await client.get(
            "/v1/reports/reconcile",
            params={"from": "2031-03-14", "to": day},
            headers=bearer(await owner_token(client, world)),
        )
    )
    assert answer["differences"] == []
    assert answer["checked"]["sales"] == sales_made
    assert answer["checked"]["refunds"] == refunds_made


async def test_the_projector_killed_at_write_after_write_counts_each_event_once(
    rig: Rig, deps: Deps, clock: FixedClock, settings: Settings
) -> None:
    client = rig.client
    world = await make_tenant(deps, "G")
    till = await open_till(client, world, cash_open=100_000)
    await add_employee(client, world, role="Supervisor", pin=SUPERVISOR_PIN)
    gate = await pair_device(client, world, type="GATE")
    sold = []
    for n in range(4):
        sold.append(
            data(
                await sell(
                    client, till, f"sale-{n:05d}", [("family", 1), ("single", 1)], payment_method="card"
                ),
                201,
            )
        )
    token = await approval(client, till, "refund", SUPERVISOR_PIN, target_id=sold[0]["sale"]["sale_id"])
    data(await refund(client, till, "refund-00001", sold[0]["sale"]["sale_id"], token), 201)
    for sale in sold[1:]:
        for ticket in sale["tickets"][:2]:
            body = {"qr_token": ticket["qr_token"], "zone": "ball-pit"}
            data(await client.post("/v1/tickets/redeem", json=body, headers=bearer(gate.access_token)))
    data(await client.post("/v1/shifts/close", json={"cash_counted": 0}, headers=bearer(till.cashier)))

    dying = Deps(rig.db, clock, settings)  # the projector's process, on the faulty connection
    rounds = 0
    for rounds in range(1, 500):
        # a different place in the stream of writes each time, up to past the longest event's
        # writes (a refund's: its sales, refunds, activity and ticket summaries, views and months)
        rig.crash.arm(1 + rounds % 97)
        try:
            await projection.project_all(dying, owner=f"projector-{rounds}")
        except ConnectionFailure:
            rig.crash.live()
            clock.advance(projection.TENANT_LEASE + timedelta(seconds=1))  # its lease runs out
            continue
        rig.crash.live()
        break
    assert rig.crash.died > 20  # it died at many points before it got through
    pending = await deps.db[C.EVENTS].count_documents({"tenant_id": world.tenant_id, "projected": False})
    assert pending == 0
    projected = await summaries(deps, world.tenant_id)
    await rebuild_tenant(deps, world.tenant_id)
    assert await summaries(deps, world.tenant_id) == projected
