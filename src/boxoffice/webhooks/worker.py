"""The delivery worker: fan events out to the endpoints that want them, then POST the deliveries
that are due. Every API process has one, but only the replica holding the `webhook_worker` lease
runs it (core/background.py): it backs off while there is nothing to do, is woken by this process's
emits, and sleeps until the next retry it knows of. Its reads are equalities on indexed pending
markers (webhooks/repository.py); it never scans.

Safe should two workers overlap (a lease that lapsed mid-pass): an event is fanned out under unique
delivery ids, and each attempt is claimed by a compare-and-set on the delivery's `_id`, attempt
count and lease before it is sent, so no two workers send the same attempt.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from pymongo.errors import BulkWriteError

from boxoffice.alerts import service as alerts
from boxoffice.audit import service as audit
from boxoffice.core.background import Pass
from boxoffice.core.clock import isoformat_z
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.logging import get_logger
from boxoffice.core.metrics import Metrics
from boxoffice.core.repository import Scope
from boxoffice.core.sealing import Unsealable
from boxoffice.settings import service as settings_service
from boxoffice.webhooks import rules
from boxoffice.webhooks.repository import (
    AttemptRepository,
    DeliveryRepository,
    WebhookRepository,
    mark_fanned_out_unscoped,
    pending_deliveries_unscoped,
    pending_delivery_count_unscoped,
    pending_events_unscoped,
)
from boxoffice.webhooks.service import signing_secrets
from boxoffice.webhooks.transport import BLOCKED, BlockedAddress

#: A claimed delivery is this worker's to send for this long (a send waits at most TIMEOUT_SECONDS).
LEASE = timedelta(seconds=30)
TIMEOUT_SECONDS = 10.0
#: The background loop: idle passes 1, 2, 4 … 30 s apart; a pass that did work is followed soon.
FIRST_IDLE_SECONDS = 1.0
MOST_IDLE_SECONDS = 30.0
BUSY_PAUSE_SECONDS = 0.2
PAUSED_RETRY = timedelta(minutes=5)
SNIPPET = 500
log = get_logger(__name__)

#: Why a delivery is dead-lettered without a request: retrying cannot help until a person acts.
UNSEALABLE = (
    "The endpoint's signing secret cannot be decrypted with the current WEBHOOK_MASTER_KEY (was the "
    "key changed?). Nothing was sent. Rotate the endpoint's secret, give the new one to the "
    "receiver, then redeliver."
)
FEATURE_OFF = "Webhooks are turned off for this store (settings: features.webhooks)."


class FeatureFlags:
    """`features.webhooks` per (tenant, store), read once per worker pass however many events and
    deliveries the pass handles (settings resolve built-in default ← tenant ← store; an event
    without a store follows the tenant's setting)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.known: dict[tuple[str, str | None], bool] = {}

    async def webhooks_on(self, tenant_id: str, store_id: str | None) -> bool:
        key = (tenant_id, store_id or None)
        if key not in self.known:
            effective = await settings_service.effective(self.deps, tenant_id, store_id or None)
            self.known[key] = bool(effective["values"]["features"].get("webhooks", False))
        return self.known[key]


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return isoformat_z(value)
    raise TypeError(type(value).__name__)


def event_body(event: Document, tenant_id: str) -> str:
    """What the receiver gets: the same bytes on every attempt."""
    return json.dumps(
        {
            "id": event["event_id"],
            "type": event["type"],
            "created_at": event["created_at"],
            "tenant_id": tenant_id,
            "store_id": event.get("store_id"),
            "resource": event["resource"],
            "resource_id": event["resource_id"],
            "sequence": event["sequence"],
            "data": event["data"],
        },
        default=_json_default,
        separators=(",", ":"),
        ensure_ascii=False,
    )


@dataclass(frozen=True)
class Outcome:
    """One pass: events fanned out, deliveries claimed and sent, and when the earliest delivery
    still waiting falls due (None: none waits)."""

    fanned_out: int
    claimed: int
    sent: int
    next_due: datetime | None


class Worker:
    """One per API process. `run_once` is one pass; tests drive it with their own clock. The
    background loop calls `background_pass` under the lease."""

    def __init__(
        self,
        deps: Deps,
        http: httpx.AsyncClient,
        metrics: Metrics | None = None,
        seed: int | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ):
        self.timeout = timeout
        self.deps = deps
        self.http = http
        self.metrics = metrics
        self.rng = random.Random(seed)

    async def run_once(self, limit: int = 100) -> int:
        """One pass; the number of deliveries sent."""
        return (await self.run_pass(limit)).sent

    async def run_pass(self, limit: int = 100) -> Outcome:
        flags = FeatureFlags(self.deps)
        fanned_out = await self.fan_out(limit, flags)
        claimed, sent, next_due, seen = await self._deliver_due(limit, flags)
        if self.metrics is not None:
            depth = seen if seen < limit else await pending_delivery_count_unscoped(self.deps.db)
            self.metrics.webhook_queue_depth.set(depth)
        return Outcome(fanned_out, claimed, sent, next_due)

    async def background_pass(self) -> Pass:
        outcome = await self.run_pass()
        due_in = None
        if outcome.next_due is not None:
            due_in = (outcome.next_due - self.deps.clock.now()).total_seconds()
        return Pass(busy=bool(outcome.fanned_out or outcome.claimed), due_in=due_in)

    async def fan_out(self, limit: int, flags: FeatureFlags | None = None) -> int:
        """A delivery per (event, wanting endpoint), then every event read is marked done, once, by
        `_id` (a second worker doing the same is harmless: delivery ids are unique). Events no
        endpoint wants, or of a store with `features.webhooks` off, get no deliveries: they stay in
        the outbox, marked done (dropped, not held: turning the feature on later sends only later
        events)."""
        flags = flags or FeatureFlags(self.deps)
        now = self.deps.clock.now()
        hooks_by_tenant: dict[str, list[Document]] = {}
        done: list[Any] = []  # `_id`s of the events handled, wanted or not
        for event in await pending_events_unscoped(self.deps.db, limit):
            tenant_id = event["tenant_id"]
            if tenant_id not in hooks_by_tenant:
                hooks_by_tenant[tenant_id] = await WebhookRepository(
                    self.deps.db, Scope(tenant_id)
                ).find_many({"status": "live"})
            if not any(
                event["type"] in hook["events"] for hook in hooks_by_tenant[tenant_id]
            ) or not await flags.webhooks_on(tenant_id, event.get("store_id")):
                done.append(event["_id"])
                continue
            body = event_body(event, tenant_id)
            deliveries = [
                {
                    "delivery_id": f"{event['event_id']}:{hook['webhook_id']}",
                    "webhook_id": hook["webhook_id"],
                    "event_id": event["event_id"],
                    "event_type": event["type"],
                    "store_id": event.get("store_id"),
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "round_failures": 0,
                    "next_attempt_at": now,
                    "lease_until": now,
                    "created_at": now,
                }
                for hook in hooks_by_tenant[tenant_id]
                if event["type"] in hook["events"]
            ]
            if deliveries:
                try:
                    await DeliveryRepository(self.deps.db, Scope(tenant_id)).insert_many(deliveries)
                except BulkWriteError as exc:
                    if any(e.get("code") != 11000 for e in exc.details["writeErrors"]):
                        raise
            done.append(event["_id"])
        await mark_fanned_out_unscoped(self.deps.db, done)
        return len(done)

    async def deliver_due(self, limit: int, flags: FeatureFlags | None = None) -> int:
        """Send the deliveries that are due; the number delivered."""
        return (await self._deliver_due(limit, flags))[1]

    async def _deliver_due(
        self, limit: int, flags: FeatureFlags | None = None
    ) -> tuple[int, int, datetime | None, int]:
        """Claimed, delivered, when the earliest one still waiting falls due, pending ones read."""
        flags = flags or FeatureFlags(self.deps)
        now = self.deps.clock.now()
        claimed: list[Document] = []
        next_due: datetime | None = None
        pending = await pending_deliveries_unscoped(self.deps.db, limit)
        for delivery in pending:
            due = max(delivery.get("next_attempt_at") or now, delivery["lease_until"])
            if due > now:  # a retry not yet due, or another worker is sending it
                next_due = due if next_due is None else min(next_due, due)
                continue
            mine = await DeliveryRepository(self.deps.db, Scope(delivery["tenant_id"])).find_one_and_update(
                {
                    "_id": delivery["_id"],
                    "status": "pending",
                    "attempts": delivery["attempts"],
                    "lease_until": delivery["lease_until"],
                },
                {"$set": {"lease_until": now + LEASE}},
            )
            if mine is None:
                continue
            # Made while the feature was on, due after it was turned off: not sent. (A delivery
            # from before deliveries carried their store is sent as it always would have been.)
            if "store_id" in mine and not await flags.webhooks_on(mine["tenant_id"], mine["store_id"]):
                await DeliveryRepository(self.deps.db, Scope(mine["tenant_id"])).update_one(
                    {"delivery_id": mine["delivery_id"]},
                    {"$set": {"status": "cancelled", "last_error": FEATURE_OFF, "lease_until": now}},
                )
                continue
            claimed.append(mine)
        hooks = await self._webhooks_of(claimed)
        gate = asyncio.Semaphore(10)

        async def send(delivery: Document) -> bool:
            async with gate:
                return await self.attempt(delivery, hooks.get(delivery["webhook_id"]))

        results = await asyncio.gather(*(send(d) for d in claimed))
        return len(claimed), sum(1 for sent in results if sent), next_due, len(pending)

    async def post(self, webhook: Document, body: str, event_id: str, event_type: str) -> dict[str, Any]:
        """One signed POST: status code, latency, a snippet of the answer, or the error.
        `permanent` is true when no retry can help (the secret cannot be decrypted): no request."""
        now = self.deps.clock.now()
        payload = body.encode()
        try:
            keys = signing_secrets(self.deps.settings, webhook, now)
        except Unsealable:
            log.error("webhook_secret_unsealable", webhook_id=webhook["webhook_id"])
            return {
                "status_code": None,
                "latency_ms": 0.0,
                "response_snippet": None,
                "error": UNSEALABLE,
                "permanent": True,
            }
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "BoxOffice-Webhooks/1",
            "X-Event-Id": event_id,
            "X-Event-Type": event_type,
            "X-Signature": rules.signature_header(keys, int(now.timestamp()), payload),
        }
        started = time.perf_counter()
        status_code: int | None = None
        snippet: str | None = None
        error: str | None = None
        try:  # outside development the client's transport refuses non-public addresses (transport.py)
            response = await self.http.post(
                webhook["url"], content=payload, headers=headers, timeout=self.timeout
            )
            status_code = response.status_code
            snippet = response.text[:SNIPPET]
        except BlockedAddress:
            error = BLOCKED
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:SNIPPET] or type(exc).__name__
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        if self.metrics is not None:
            self.metrics.webhook_latency.observe(latency_ms / 1000)
        return {
            "status_code": status_code,
            "latency_ms": latency_ms,
            "response_snippet": snippet,
            "error": error,
            "permanent": False,
        }

    async def _webhooks_of(self, deliveries: list[Document]) -> dict[str, Document]:
        """The endpoints of a pass's deliveries: one read per tenant, not one per delivery."""
        wanted: dict[str, set[str]] = {}
        for delivery in deliveries:
            wanted.setdefault(delivery["tenant_id"], set()).add(delivery["webhook_id"])
        hooks: dict[str, Document] = {}
        for tenant_id, ids in wanted.items():
            for hook in await WebhookRepository(self.deps.db, Scope(tenant_id)).find_many(
                {"webhook_id": {"$in": sorted(ids)}}
            ):
                hooks[hook["webhook_id"]] = hook
        return hooks

    async def attempt(self, delivery: Document, webhook: Document | None) -> bool:
        """Send one claimed delivery and record the attempt; True when it was delivered."""
        tenant = Scope(delivery["tenant_id"])
        deliveries = DeliveryRepository(self.deps.db, tenant)
        now = self.deps.clock.now()
        if webhook is None or webhook.get("status") != "live":
            await deliveries.update_one(
                {"delivery_id": delivery["delivery_id"]}, {"$set": {"status": "cancelled"}}
            )
            return False
        if not webhook["active"]:  # paused: wait, without spending an attempt
            await deliveries.update_one(
                {"delivery_id": delivery["delivery_id"]},
                {"$set": {"next_attempt_at": now + PAUSED_RETRY, "lease_until": now}},
            )
            return False
        outcome = await self.post(webhook, delivery["body"], delivery["event_id"], delivery["event_type"])
        code = outcome["status_code"]
        delivered = code is not None and 200 <= code < 300
        failures = 0 if delivered else int(delivery.get("round_failures", 0)) + 1
        gone = code == 410
        permanent = bool(outcome.get("permanent"))
        next_at = None if delivered or gone or permanent else rules.next_attempt(failures, now, self.rng)
        status = "delivered" if delivered else ("pending" if next_at is not None else "dead")
        n = int(delivery["attempts"]) + 1
        await AttemptRepository(self.deps.db, tenant).insert(
            {
                "attempt_id": new_id(),
                "delivery_id": delivery["delivery_id"],
                "webhook_id": webhook["webhook_id"],
                "n": n,
                "at": now,
                "next_retry_at": next_at,
                **outcome,
            }
        )
        await deliveries.update_one(
            {"delivery_id": delivery["delivery_id"], "attempts": delivery["attempts"]},
            {
                "$set": {
                    "attempts": n,
                    "round_failures": failures,
                    "status": status,
                    "next_attempt_at": next_at,
                    "lease_until": now,
                    "last_status_code": code,
                    "last_error": outcome["error"],
                    "delivered_at": now if delivered else None,
                }
            },
        )
        if self.metrics is not None:
            self.metrics.webhook_deliveries.labels(
                outcome=status if status != "pending" else "retrying"
            ).inc()
        await self._health(
            webhook, delivered, gone, code, outcome["error"], permanent, delivery["delivery_id"]
        )
        return delivered

    async def _health(
        self,
        webhook: Document,
        delivered: bool,
        gone: bool,
        code: int | None,
        error: str | None,
        permanent: bool = False,
        delivery_id: str | None = None,
    ) -> None:
        """410 Gone pauses the endpoint. The first failure of a healthy endpoint starts a failing
        episode: audited `webhook.failing` and raised as a `webhook_failing` alert (one per
        episode); its next success ends it (`webhook.recovered`, the alert resolved)."""
        tenant_id = webhook["tenant_id"]
        hooks = WebhookRepository(self.deps.db, Scope(tenant_id))
        if gone:
            await hooks.update_one(
                {"webhook_id": webhook["webhook_id"]},
                {"$set": {"active": False, "paused_reason": "The receiver answered 410 Gone"}},
            )
        if delivered:
            if await hooks.find_one_and_update(
                {"webhook_id": webhook["webhook_id"], "healthy": False}, {"$set": {"healthy": True}}
            ):
                await self._alert(tenant_id, "webhook.recovered", webhook, code, error)
                await alerts.resolve_alert(
                    self.deps, tenant_id, kind="webhook_failing", cause_key=webhook["webhook_id"]
                )
            return
        flipped = await hooks.find_one_and_update(
            {"webhook_id": webhook["webhook_id"], "healthy": True}, {"$set": {"healthy": False}}
        )
        if flipped:
            await self._alert(tenant_id, "webhook.failing", webhook, code, error)
        if flipped or permanent:  # a permanent failure raises even on an endpoint already failing
            await raise_failing_alert(self.deps, webhook, code, error, delivery_id)

    async def _alert(
        self, tenant_id: str, event_type: str, webhook: Document, code: int | None, error: str | None
    ) -> None:
        await audit.append(
            self.deps.db,
            self.deps.clock,
            tenant_id=tenant_id,
            event_type=event_type,
            payload={
                "webhook_id": webhook["webhook_id"],
                "url": webhook["url"],
                "status_code": code,
                "error": error,
            },
            subjects=[webhook["webhook_id"]],
        )
        log.warning(event_type, webhook_id=webhook["webhook_id"], status_code=code)


async def raise_failing_alert(
    deps: Deps, webhook: Document, code: int | None, error: str | None, delivery_id: str | None
) -> None:
    """The endpoint's `webhook_failing` alert (tenant-wide: an endpoint carries every store's
    events), raised once per failing episode whatever the number of failed deliveries."""
    if error == UNSEALABLE:
        detail = error
    else:
        answer = f"HTTP {code}" if code is not None else (error or "no answer")
        detail = (
            f"Deliveries to {webhook['url']} fail ({answer}). They are retried on the schedule, then "
            "dead-lettered; the alert is resolved by the next successful delivery."
        )
    links = {"webhook_id": str(webhook["webhook_id"])}
    if delivery_id:
        links["delivery_id"] = delivery_id
    await alerts.raise_alert(
        deps,
        webhook["tenant_id"],
        kind="webhook_failing",
        cause_key=str(webhook["webhook_id"]),
        store_id=None,
        title=f"Webhook endpoint failing: {webhook['url']}"[:200],
        detail=detail,
        links=links,
    )
