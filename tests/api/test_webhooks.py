"""Webhooks against a real local HTTP receiver: signed events for a sale, retries on the
schedule (with the test clock), dead letters, one send per attempt across workers, and no event
of one tenant ever reaching another's endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from boxoffice.alerts import service as alerts
from boxoffice.config import Settings
from boxoffice.core.background import Background
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.core.lease import Lease
from boxoffice.events import outbox
from boxoffice.events.outbox import on_emit
from boxoffice.settings import service as settings_service
from boxoffice.webhooks import rules
from boxoffice.webhooks import worker as worker_module
from boxoffice.webhooks.transport import BlockedAddress, PinnedTransport, is_public, webhook_client
from boxoffice.webhooks.worker import FEATURE_OFF, UNSEALABLE, Worker
from tests.commands import CommandLog, listening_database, served_by_an_index
from tests.factories.identity import (
    TenantWorld,
    add_employee,
    bearer,
    data,
    login_password,
    make_tenant,
    owner_token,
    pair_device,
)
from tests.factories.sales import Till, open_till, sell
from tests.helpers import error_code


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers from a script and records every request."""

    def __init__(self) -> None:
        self.answers: list[int] = []  # status codes to answer in turn; 200 when empty
        self.hang_seconds = 0.0
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                if receiver.hang_seconds:
                    time.sleep(receiver.hang_seconds)
                status = receiver.answers.pop(0) if receiver.answers else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(f"answered {status}".encode())
                except BrokenPipeError:
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


async def webhooks_feature(
    client: httpx.AsyncClient, world: TenantWorld, on: bool, store_id: str | None = None
) -> None:
    """`features.webhooks` (off by default) at the tenant level, or as one store's override."""
    params = {"store_id": store_id} if store_id else {}
    data(
        await client.put(
            "/v1/settings/features",
            json={"webhooks": on},
            params=params,
            headers=bearer(await owner_token(client, world)),
        )
    )


@pytest.fixture
async def world(client: httpx.AsyncClient, deps: Deps) -> TenantWorld:
    """A tenant that has turned webhooks on (the feature is off by default)."""
    created = await make_tenant(deps, "A")
    await webhooks_feature(client, created, True)
    return created


@pytest.fixture
async def till(client: httpx.AsyncClient, world: TenantWorld) -> Till:
    return await open_till(client, world)


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient() as client:
        yield client


async def add_webhook(
    client: httpx.AsyncClient, world: TenantWorld, url: str, events: list[str]
) -> dict[str, Any]:
    created: dict[str, Any] = data(
        await client.post(
            "/v1/webhooks",
            json={"url": url, "events": events},
            headers=bearer(await owner_token(client, world)),
        ),
        201,
    )
    return created


async def one_suspension_event(
    client: httpx.AsyncClient, world: TenantWorld, receiver: Receiver
) -> tuple[dict[str, Any], dict[str, str]]:
    """An endpoint for device.suspended, and one device suspended: one delivery to make."""
    hook = await add_webhook(client, world, receiver.url, ["device.suspended"])
    owner = bearer(await owner_token(client, world))
    device = await pair_device(client, world)
    data(await client.post(f"/v1/devices/{device.device_id}/suspend", json={"reason": "lost"}, headers=owner))
    return hook, owner


async def test_a_sale_sends_signed_sale_and_ticket_events(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps, receiver: Receiver, http: Any
) -> None:
    hook = await add_webhook(client, world, receiver.url, ["sale.created", "ticket.issued"])
    assert hook["secret"].startswith("whsec_")
    sold = data(await sell(client, till, "sale-0001", [("single", 2)]), 201)
    worker = Worker(deps, http, seed=1)
    assert await worker.run_once() == 3
    events = receiver.events()
    assert sorted(e["type"] for e in events) == ["sale.created", "ticket.issued", "ticket.issued"]
    assert {e["data"]["ticket"]["ticket_id"] for e in events if e["type"] == "ticket.issued"} == {
        t["ticket_id"] for t in sold["tickets"]
    }
    assert all("qr_token" not in e["data"].get("ticket", {}) for e in events)
    for request in receiver.received:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert rules.verify(
            hook["secret"].encode(), headers["x-signature"], request["body"], deps.clock.now()
        )
        assert not rules.verify(b"whsec_wrong", headers["x-signature"], request["body"], deps.clock.now())
        assert headers["x-event-id"] == json.loads(request["body"])["id"]
    assert await worker.run_once() == 0  # nothing sent twice
    assert len(receiver.received) == 3
    for collection in (C.EVENTS, C.WEBHOOK_DELIVERIES, C.WEBHOOK_ATTEMPTS):  # forgotten after 30 days
        stored = await deps.db[collection].find_one({})
        assert stored is not None
        assert stored["purge_after"] == int((deps.clock.now() + timedelta(days=30)).timestamp())
        assert "expires_at" not in stored  # no TTL index: retention deletes them (core/retention.py)


async def test_failures_are_retried_on_the_schedule_and_the_third_try_succeeds(
    client: httpx.AsyncClient,
    world: TenantWorld,
    deps: Deps,
    receiver: Receiver,
    http: Any,
    clock: FixedClock,
) -> None:
    hook, owner = await one_suspension_event(client, world, receiver)
    receiver.answers = [500, 500, 200]
    worker = Worker(deps, http, seed=3)
    start = clock.now()

    await worker.run_once()
    [delivery] = data(await client.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries", headers=owner))[
        "items"
    ]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("pending", 1, 500)
    first_retry = _at(delivery["next_attempt_at"]) - start
    assert timedelta(seconds=9) <= first_retry <= timedelta(seconds=11)

    clock.advance(timedelta(seconds=5))
    await worker.run_once()  # not due yet
    assert len(receiver.received) == 1
    clock.advance(first_retry)
    await worker.run_once()
    detail = data(await client.get(f"/v1/webhook-deliveries/{delivery['delivery_id']}", headers=owner))
    second_retry = _at(detail["next_attempt_at"]) - clock.now()
    assert timedelta(seconds=54) <= second_retry <= timedelta(seconds=66)
    clock.advance(second_retry)
    await worker.run_once()
    detail = data(await client.get(f"/v1/webhook-deliveries/{delivery['delivery_id']}", headers=owner))
    assert detail["status"] == "delivered"
    assert [a["status_code"] for a in detail["attempts_log"]] == [500, 500, 200]
    assert all(a["latency_ms"] >= 0 for a in detail["attempts_log"])
    alerts = (
        await deps.db[C.AUDITS]
        .find({"event_type": {"$in": ["webhook.failing", "webhook.recovered"]}})
        .to_list()
    )
    assert sorted(a["event_type"] for a in alerts) == ["webhook.failing", "webhook.recovered"]  # once each
    # The failing episode was one alert, resolved by the recovery; a new failure is a new episode.
    [episode] = data(await client.get("/v1/alerts", headers=owner))["items"]
    assert (episode["kind"], episode["cause_key"], episode["status"]) == (
        "webhook_failing",
        hook["webhook_id"],
        "resolved",
    )
    assert episode["occurrences"] == 1  # the second failure belonged to the same episode
    assert episode["links"]["webhook_id"] == hook["webhook_id"]
    device = await pair_device(client, world)
    data(await client.post(f"/v1/devices/{device.device_id}/suspend", json={"reason": "x"}, headers=owner))
    receiver.answers = [503]
    await worker.run_once()
    listed = data(await client.get("/v1/alerts", headers=owner))["items"]
    assert [a["status"] for a in listed] == ["open", "resolved"]
    assert await deps.db[C.AUDITS].count_documents({"event_type": "alert.raised"}) == 2


async def test_a_receiver_that_never_answers_ends_dead_lettered_with_every_attempt(
    client: httpx.AsyncClient,
    world: TenantWorld,
    deps: Deps,
    receiver: Receiver,
    http: Any,
    clock: FixedClock,
) -> None:
    hook, _ = await one_suspension_event(client, world, receiver)
    receiver.hang_seconds = 0.5
    worker = Worker(deps, http, seed=5, timeout=0.2)
    for n in range(1, len(rules.RETRY_SCHEDULE) + 2):
        await worker.run_once()
        delivery = await deps.db[C.WEBHOOK_DELIVERIES].find_one({"webhook_id": hook["webhook_id"]})
        assert delivery is not None
        assert delivery["attempts"] == n
        if n <= len(rules.RETRY_SCHEDULE):
            assert delivery["status"] == "pending"
            assert _at(delivery["next_attempt_at"]) > clock.now()  # the next retry, shown while pending
            clock.set(_at(delivery["next_attempt_at"]) + timedelta(seconds=1))
    assert delivery["status"] == "dead"
    owner = bearer(await login_password(client, world.owner_email, world.owner_password))
    detail = data(await client.get(f"/v1/webhook-deliveries/{delivery['delivery_id']}", headers=owner))
    assert len(detail["attempts_log"]) == len(rules.RETRY_SCHEDULE) + 1
    assert all(a["error"] and "Timeout" in a["error"] for a in detail["attempts_log"])
    assert detail["attempts_log"][-1]["next_retry_at"] is None
    again = data(
        await client.post(f"/v1/webhook-deliveries/{delivery['delivery_id']}/redeliver", headers=owner)
    )
    assert again["status"] == "pending"
    receiver.hang_seconds = 0
    await worker.run_once()
    assert (await deps.db[C.WEBHOOK_DELIVERIES].find_one({"delivery_id": delivery["delivery_id"]}) or {})[
        "status"
    ] == "delivered"


async def test_two_workers_never_send_the_same_attempt(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps, receiver: Receiver, http: Any
) -> None:
    await add_webhook(client, world, receiver.url, ["sale.created", "ticket.issued"])
    for n in range(4):
        await sell(client, till, f"sale-{n:04d}", [("single", 3)])
    workers = [Worker(deps, http, seed=n) for n in range(3)]
    await asyncio.gather(*(w.run_once() for w in workers))
    await asyncio.gather(*(w.run_once() for w in workers))
    ids = [e["id"] for e in receiver.events()]
    assert len(ids) == 4 * (1 + 3)
    assert len(set(ids)) == len(ids)


async def test_one_tenants_events_never_reach_another_tenants_endpoint(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps, http: Any
) -> None:
    mine, theirs = Receiver(), Receiver()
    try:
        other = await make_tenant(deps, "B")
        await webhooks_feature(client, other, True)
        await add_webhook(client, world, mine.url, ["sale.created"])
        await add_webhook(client, other, theirs.url, ["sale.created", "ticket.issued"])
        await sell(client, till, "sale-0001", [("single", 1)])
        await Worker(deps, http).run_once()
        assert [e["tenant_id"] for e in mine.events()] == [world.tenant_id]
        assert theirs.received == []
        foreign = await client.get("/v1/webhooks", headers=bearer(await owner_token(client, other)))
        assert len(data(foreign)["items"]) == 1  # only their own endpoint
    finally:
        mine.close()
        theirs.close()


async def test_gone_pauses_the_endpoint_and_rotation_signs_with_both_secrets(
    client: httpx.AsyncClient, world: TenantWorld, till: Till, deps: Deps, receiver: Receiver, http: Any
) -> None:
    hook = await add_webhook(client, world, receiver.url, ["sale.created"])
    owner = bearer(await owner_token(client, world))
    rotated = data(
        await client.post(
            f"/v1/webhooks/{hook['webhook_id']}/rotate_secret", json={"grace_hours": 1}, headers=owner
        )
    )
    assert rotated["secret"] != hook["secret"]
    tested = data(await client.post(f"/v1/webhooks/{hook['webhook_id']}/test", headers=owner))
    assert tested["success"] is True
    assert tested["latency_ms"] >= 0
    signature = {k.lower(): v for k, v in receiver.received[-1]["headers"].items()}["x-signature"]
    body = receiver.received[-1]["body"]
    assert signature.count("v1=") == 2
    for secret in (hook["secret"], rotated["secret"]):
        assert rules.verify(secret.encode(), signature, body, deps.clock.now())

    receiver.answers = [410]
    await sell(client, till, "sale-0001", [("single", 1)])
    await Worker(deps, http).run_once()
    shown = data(await client.get(f"/v1/webhooks/{hook['webhook_id']}", headers=owner))
    assert shown["active"] is False
    assert "410" in shown["paused_reason"]
    resumed = data(
        await client.patch(f"/v1/webhooks/{hook['webhook_id']}", json={"active": True}, headers=owner)
    )
    assert resumed["active"] is True


async def test_webhooks_need_settings_write_everywhere_and_a_real_url(
    client: httpx.AsyncClient, world: TenantWorld
) -> None:
    owner = bearer(await owner_token(client, world))
    bad = await client.post(
        "/v1/webhooks", json={"url": "ftp://x", "events": ["sale.created"]}, headers=owner
    )
    assert error_code(bad) == "E_VALIDATION"
    unknown = await client.post(
        "/v1/webhooks", json={"url": "https://x.test/h", "events": ["sale.deleted"]}, headers=owner
    )
    assert error_code(unknown) == "E_VALIDATION"
    created = await add_webhook(client, world, "https://hooks.example.test/in", ["sale.created"])
    listed = data(await client.get("/v1/webhooks", headers=owner))
    assert [h["webhook_id"] for h in listed["items"]] == [created["webhook_id"]]
    assert created["secret"] not in json.dumps(listed)  # shown once, at creation only
    manager = await add_employee(client, world, role="Manager", pin="4321", password="manager-pass-1")
    managers = bearer(await login_password(client, manager["email"], "manager-pass-1"))
    assert error_code(await client.get("/v1/webhooks", headers=managers)) == "E_PERMISSION"


def _at(stamp: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_outside_development_a_webhook_into_our_own_network_is_never_called(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, receiver: Receiver
) -> None:
    hook, _ = await one_suspension_event(client, world, receiver)
    production = Deps(deps.db, deps.clock, replace(deps.settings, environment="production"))
    async with webhook_client(production.settings) as http:
        await Worker(production, http).run_once()
    assert receiver.received == []
    attempt = await deps.db[C.WEBHOOK_ATTEMPTS].find_one({"webhook_id": hook["webhook_id"]})
    assert attempt is not None
    assert attempt["error"] == "blocked address"  # nothing about what resolved to what


async def test_the_webhooks_feature_decides_per_store_and_off_drops_the_events_deliveries(
    client: httpx.AsyncClient,
    world: TenantWorld,
    till: Till,
    deps: Deps,
    receiver: Receiver,
    http: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_webhook(client, world, receiver.url, ["sale.created", "alert.raised"])
    worker = Worker(deps, http, seed=7)
    reads: list[tuple[str, str | None]] = []
    effective = settings_service.effective

    async def counted(deps: Deps, tenant_id: str, store_id: str | None) -> dict[str, Any]:
        reads.append((tenant_id, store_id))
        return await effective(deps, tenant_id, store_id)

    monkeypatch.setattr(settings_service, "effective", counted)

    async def sale_types_sent(key: str) -> list[str]:
        before = len(receiver.received)
        data(await sell(client, till, key, [("single", 1)]), 201)
        await worker.run_once()
        return [e["type"] for e in receiver.events()[before:]]

    await webhooks_feature(client, world, False)  # off for the tenant: nothing is delivered
    for n in range(3):
        data(await sell(client, till, f"sale-off-{n}", [("single", 1)]), 201)
    reads.clear()  # (selling reads settings too)
    await worker.run_once()
    assert receiver.received == []
    assert await deps.db[C.WEBHOOK_DELIVERIES].count_documents({}) == 0
    # ... but the events are kept in the outbox (done with: turning it on later sends later events)
    assert await deps.db[C.EVENTS].count_documents({"type": "sale.created", "fanned_out": True}) == 3
    assert reads == [(world.tenant_id, world.store_id)]  # 6 events, settings read once per pass

    await webhooks_feature(client, world, True, store_id=world.store_id)  # this store overrides: on
    assert await sale_types_sent("sale-store-on") == ["sale.created"]
    # A tenant-wide event (no store) follows the tenant's setting, still off.
    await alerts.raise_alert(
        deps, world.tenant_id, kind="webhook_failing", cause_key="x", store_id=None, title="t", detail="d"
    )
    await worker.run_once()
    assert [e["type"] for e in receiver.events()] == ["sale.created"]

    await webhooks_feature(client, world, True)  # on for the tenant, off at this store
    await webhooks_feature(client, world, False, store_id=world.store_id)
    assert await sale_types_sent("sale-store-off") == []
    owner = bearer(await owner_token(client, world))
    data(await client.delete("/v1/settings/features", params={"store_id": world.store_id}, headers=owner))
    assert await sale_types_sent("sale-tenant-on") == ["sale.created"]


async def test_deliveries_due_after_the_feature_is_turned_off_are_not_sent(
    client: httpx.AsyncClient,
    world: TenantWorld,
    deps: Deps,
    receiver: Receiver,
    http: Any,
    clock: FixedClock,
) -> None:
    await one_suspension_event(client, world, receiver)
    receiver.answers = [500]
    worker = Worker(deps, http, seed=2)
    await worker.run_once()
    await webhooks_feature(client, world, False)
    clock.advance(timedelta(minutes=5))
    await worker.run_once()
    assert len(receiver.received) == 1  # the retry was not sent
    delivery = await deps.db[C.WEBHOOK_DELIVERIES].find_one({})
    assert delivery is not None
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("cancelled", 1, FEATURE_OFF)


async def test_a_secret_sealed_under_another_master_key_is_dead_lettered_at_once_with_one_alert(
    client: httpx.AsyncClient,
    world: TenantWorld,
    deps: Deps,
    receiver: Receiver,
    http: Any,
    clock: FixedClock,
) -> None:
    hook, owner = await one_suspension_event(client, world, receiver)  # sealed under today's key
    second = await pair_device(client, world)
    data(await client.post(f"/v1/devices/{second.device_id}/suspend", json={"reason": "x"}, headers=owner))
    rekeyed = Deps(deps.db, deps.clock, replace(deps.settings, webhook_master_key="a-different-master-key"))
    worker = Worker(rekeyed, http, seed=4)
    assert await worker.run_once() == 0
    deliveries = await deps.db[C.WEBHOOK_DELIVERIES].find({"webhook_id": hook["webhook_id"]}).to_list()
    assert len(deliveries) == 2
    for delivery in deliveries:
        assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == ("dead", 1, None)
        assert delivery["last_error"] == UNSEALABLE
    clock.advance(timedelta(days=2))
    await worker.run_once()  # dead letters are not retried
    assert await deps.db[C.WEBHOOK_ATTEMPTS].count_documents({}) == 2
    assert receiver.received == []  # nothing was ever sent unsigned
    owner = bearer(await login_password(client, world.owner_email, world.owner_password))
    detail = data(await client.get(f"/v1/webhook-deliveries/{deliveries[0]['delivery_id']}", headers=owner))
    assert detail["status"] == "dead"
    assert detail["attempts_log"][0]["error"] == UNSEALABLE
    [alert] = data(await client.get("/v1/alerts", params={"kind": "webhook_failing"}, headers=owner))["items"]
    assert (alert["status"], alert["cause_key"], alert["store_id"]) == ("open", hook["webhook_id"], None)
    assert alert["detail"] == UNSEALABLE
    assert alert["links"]["webhook_id"] == hook["webhook_id"]
    assert alert["occurrences"] == 2  # both deliveries reported it; one alert
    assert await deps.db[C.AUDITS].count_documents({"event_type": "alert.raised"}) == 1
    assert await deps.db[C.EVENTS].count_documents({"type": "alert.raised"}) == 1
    shown = data(await client.get(f"/v1/webhooks/{hook['webhook_id']}", headers=owner))
    assert shown["healthy"] is False
    # Removing the endpoint ends its alert.
    assert (await client.delete(f"/v1/webhooks/{hook['webhook_id']}", headers=owner)).status_code == 204
    [ended] = data(await client.get("/v1/alerts", headers=owner))["items"]
    assert ended["status"] == "resolved"


# ---- the background loop: one leased worker, quiet when idle, woken by emits ----------------------


@pytest.fixture
async def listened(settings: Settings, clean_db: Database) -> AsyncIterator[tuple[Database, CommandLog]]:
    """A second connection to the test database whose every command is logged."""
    log = CommandLog()
    database = listening_database(settings.mongo_uri, settings.mongo_db, log)
    yield database, log
    await database.close()


async def _until(done: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds / 0.01)):
        if done():
            return
        await asyncio.sleep(0.01)


def _suspension(n: int, at: Any) -> dict[str, Any]:
    return {
        "event_id": f"ev-{n}",
        "type": "device.suspended",
        "store_id": None,
        "resource": "device",
        "resource_id": f"device-{n}",
        "sequence": 1,
        "at": at,
        "data": {"reason": "lost"},
    }


async def test_idle_passes_back_off_to_thirty_seconds_with_three_indexed_reads_each(
    deps: Deps, http: Any, listened: tuple[Database, CommandLog]
) -> None:
    db, commands = listened
    mine = Deps(db, deps.clock, deps.settings)
    loop = Background(
        Lease(db, deps.clock, "webhook_worker", "replica-a"),
        Worker(mine, http).background_pass,
        first_idle=worker_module.FIRST_IDLE_SECONDS,
        most_idle=worker_module.MOST_IDLE_SECONDS,
    )
    delays = []
    for _ in range(8):
        commands.clear()
        delays.append(await loop.step())
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    # An idle pass: renew the lease by `_id`, read the two pending markers; nothing else.
    assert commands.shapes() == [
        ("findAndModify", "leases"),
        ("find", "events"),
        ("find", "webhook_deliveries"),
    ]
    for command in commands.log[1:]:
        assert await served_by_an_index(db, command.collection, command.body["filter"]), command.body


async def test_an_idle_worker_is_silent_while_it_sleeps_and_an_emit_wakes_it_at_once(
    client: httpx.AsyncClient,
    world: TenantWorld,
    deps: Deps,
    receiver: Receiver,
    http: Any,
    listened: tuple[Database, CommandLog],
) -> None:
    await add_webhook(client, world, receiver.url, ["device.suspended"])
    db, commands = listened
    loop = Background(
        Lease(db, deps.clock, "webhook_worker", "replica-a"),
        Worker(Deps(db, deps.clock, deps.settings), http).background_pass,
        first_idle=0.2,
        most_idle=30.0,
    )
    stop_waking = on_emit(loop.wake)
    task = asyncio.create_task(loop.run_forever())
    try:
        await _until(lambda: len(commands.passes()) >= 5 and len(commands.passes()[4]) == 3, 10.0)
        passes = commands.passes()
        assert len(passes) == 5  # at 0, 0.2, 0.6, 1.4 and 3.0 s; the next is 6.2 s in
        gaps = [b[0].at - a[0].at for a, b in itertools.pairwise(passes)]
        for gap, idle in zip(gaps, [0.2, 0.4, 0.8, 1.6], strict=True):
            assert idle - 0.05 <= gap <= idle + 1.0, gaps
        quiet_from = len(commands.log)
        await asyncio.sleep(1.5)
        assert commands.log[quiet_from:] == []  # 1.5 s of backoff: not one command

        emitted = time.monotonic()
        await outbox.emit_one(deps.db, world.tenant_id, **_suspension(1, deps.clock.now()))
        await _until(lambda: bool(receiver.received), 5.0)
        assert len(receiver.received) == 1
        assert time.monotonic() - emitted < 1.0  # woken, not waiting out its 30 s
    finally:
        stop_waking()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await loop.stop()


async def test_a_second_replica_stands_by_while_the_lease_is_held_and_takes_over_when_it_lapses(
    client: httpx.AsyncClient,
    world: TenantWorld,
    deps: Deps,
    receiver: Receiver,
    http: Any,
    clock: FixedClock,
    listened: tuple[Database, CommandLog],
) -> None:
    await add_webhook(client, world, receiver.url, ["device.suspended"])
    db_b, commands = listened

    def replica(db: Database, name: str) -> Background:
        return Background(
            Lease(db, clock, "webhook_worker", name),
            Worker(Deps(db, clock, deps.settings), http).background_pass,
            first_idle=1.0,
            most_idle=30.0,
        )

    a, b = replica(deps.db, "replica-a"), replica(db_b, "replica-b")
    assert await a.step() == 1.0  # A holds the lease; nothing to do
    await outbox.emit_one(deps.db, world.tenant_id, **_suspension(1, clock.now()))
    commands.clear()
    assert await b.step() == 60.0  # B looks again when A's lease would run out
    assert b.standing_by
    assert commands.shapes() == [("find", "leases")]  # standing by: one read of the lease, no work
    assert receiver.received == []
    await a.step()
    assert [e["id"] for e in receiver.events()] == ["ev-1"]

    # A dies (no renewal, no release): B takes over once A's lease has lapsed.
    await outbox.emit_one(deps.db, world.tenant_id, **_suspension(2, clock.now()))
    clock.advance(timedelta(seconds=30))
    await b.step()
    assert b.standing_by
    clock.advance(timedelta(seconds=31))
    await b.step()
    assert not b.standing_by
    assert b.lease.held
    assert [e["id"] for e in receiver.events()] == ["ev-1", "ev-2"]
    # A comes back: its renewal fails and it stands by; B's clean stop hands the lease over at once.
    await a.step()
    assert a.standing_by
    assert not a.lease.held
    await b.stop()
    await a.step()
    assert a.lease.held
    assert not a.standing_by


async def test_the_next_pass_is_never_later_than_a_known_retry(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, receiver: Receiver, http: Any
) -> None:
    await one_suspension_event(client, world, receiver)
    receiver.answers = [500]
    loop = Background(
        Lease(deps.db, deps.clock, "webhook_worker", "replica-a"),
        Worker(deps, http, seed=1).background_pass,
        first_idle=1.0,
        most_idle=30.0,
        busy_pause=0.2,
    )
    assert await loop.step() == 0.2  # it sent (and failed) one: look again soon
    assert await loop.step() == 0.2  # the failure raised an alert: its event, marked done
    delays = [await loop.step() for _ in range(6)]  # the clock stands still: the retry stays ~10 s off
    assert delays[:4] == [1, 2, 4, 8]
    assert all(9 <= d <= 11 for d in delays[4:]), delays


# ---- the address guard: resolve once, check, connect to the checked address ---------------------


def _loopback_only(address: Any) -> bool:
    """The tests' stand-in for "public": the receiver listens on 127.0.0.1."""
    return bool(address == ipaddress.ip_address("127.0.0.1"))


def _pinned_client(resolver: Any, **options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=PinnedTransport(resolver, allowed=_loopback_only, **options),
        follow_redirects=False,
        trust_env=False,
    )


async def test_a_host_that_rebinds_between_lookups_is_called_only_at_the_address_that_was_checked(
    client: httpx.AsyncClient, world: TenantWorld, deps: Deps, receiver: Receiver
) -> None:
    port = receiver.server.server_address[1]
    hook = await add_webhook(client, world, f"http://hooks.example.test:{port}/hook", ["device.suspended"])
    owner = bearer(await owner_token(client, world))
    device = await pair_device(client, world)
    data(await client.post(f"/v1/devices/{device.device_id}/suspend", json={"reason": "x"}, headers=owner))
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        """Answers the checked address first, an internal one on every later lookup."""
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["10.0.0.7"]

    production = Deps(deps.db, deps.clock, replace(deps.settings, environment="production"))
    async with _pinned_client(rebinding) as http:
        worker = Worker(production, http)
        assert await worker.run_once() == 1
        assert lookups == ["hooks.example.test"]  # resolved once: the connection used that answer
        [request] = receiver.received
        assert {k.lower(): v for k, v in request["headers"].items()}["host"] == f"hooks.example.test:{port}"

        webhook = await deps.db[C.WEBHOOKS].find_one({"webhook_id": hook["webhook_id"]}, {"_id": 0})
        assert webhook is not None
        again = await worker.post(webhook, "{}", "ev-x", "device.suspended")  # now it rebinds
    assert (again["status_code"], again["error"]) == (None, "blocked address")
    assert len(receiver.received) == 1


async def test_the_tenant_is_told_only_blocked_address(deps: Deps, receiver: Receiver) -> None:
    async def unresolvable(host: str, port: int) -> list[str]:
        raise OSError(-2, "Name or service not known")

    async def internal(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "10.1.2.3"]  # one bad address among good ones is enough

    for resolver in (unresolvable, internal):
        async with _pinned_client(resolver) as http:
            with pytest.raises(BlockedAddress) as refused:
                await http.post(receiver.url.replace("127.0.0.1", "db.internal.test"), content=b"{}")
        assert str(refused.value) == "blocked address"
    assert receiver.received == []
    assert not is_public(ipaddress.ip_address("::ffff:10.0.0.1"))  # IPv4 spelled as IPv6
    assert not is_public(ipaddress.ip_address("169.254.169.254"))  # the metadata service
    assert is_public(ipaddress.ip_address("93.184.216.34"))


def _self_signed(hostname: str, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_https_is_pinned_to_the_checked_address_with_the_certificate_checked_against_the_name(
    tmp_path: Path,
) -> None:
    cert, key = _self_signed("hooks.example.test", tmp_path)
    receiver = Receiver()
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    receiver.server.socket = server_side.wrap_socket(receiver.server.socket, server_side=True)
    port = receiver.server.server_address[1]
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    trusted = ssl.create_default_context(cafile=str(cert))
    try:
        async with _pinned_client(
            resolver, transport_for=lambda host: httpx.AsyncHTTPTransport(verify=trusted)
        ) as http:
            answer = await http.post(f"https://hooks.example.test:{port}/hook", content=b"{}")
            assert answer.status_code == 200
            # Same address, another name: the certificate is checked against the name, so it fails.
            with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
                await http.post(f"https://other.example.test:{port}/hook", content=b"{}")
    finally:
        receiver.close()
    assert lookups == ["hooks.example.test", "other.example.test"]
    [request] = receiver.received
    assert {k.lower(): v for k, v in request["headers"].items()}["host"] == f"hooks.example.test:{port}"
