"""The MongoDB connection, collection names and the index specifications created at start-up.

Only the operations listed in DESIGN.md ("write discipline") are used, so the same code runs
on MongoDB and on the embedded MongoDB-wire server; `tests/conformance/` pins them down.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, OperationFailure

from boxoffice.core.logging import get_logger

Document = dict[str, Any]

log = get_logger(__name__)

# ---- timestamps ---------------------------------------------------------------------------------
# Timestamps are stored as fixed-width UTC ISO-8601 strings with milliseconds
# ("2026-11-26T05:00:00.000Z"). They sort and compare correctly as strings on MongoDB and on the
# embedded server alike, and survive every update operator: the embedded server turns a
# datetime given to `$set` into a local-time string, so stored BSON dates cannot be relied on.
# Repositories encode on the way in and decode on the way out; services only see datetimes.
# Collections that forget carry `purge_after` (UNIX seconds, an int: a range on it is served by its
# index, where a range on a stamp is not) for the retention job (core/retention.py); no TTL indexes.

_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def stamp(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetimes are not stored; use the injected clock (UTC)")
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode(value: Any) -> Any:
    """Datetimes → stamps, recursively through dicts and lists (documents, filters, updates)."""
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """Stamps → aware datetimes, recursively."""
    if isinstance(value, str) and len(value) == 24 and _STAMP.match(value):
        return datetime.fromisoformat(value)  # UTC ("Z"); some 50 times faster than strptime
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def decode_doc(doc: Document | None) -> Document | None:
    if doc is None:
        return None
    decoded: Document = decode(doc)
    return decoded


class C:
    """Collection names, in one place."""

    TENANTS = "tenants"
    STORES = "stores"
    SITE_KEYS = "site_keys"
    DEVICES = "devices"
    EMPLOYEES = "employees"
    ROLES = "roles"
    MEMBERSHIPS = "memberships"
    APPROVALS = "approvals"
    AUTH_FAILURES = "auth_failures"
    PACKAGES = "packages"
    PRICING_RULES = "pricing_rules"
    SALES = "sales"
    TICKETS = "tickets"
    REDEMPTIONS = "redemptions"
    SHIFTS = "shifts"
    CASH_MOVEMENTS = "cash_movements"
    SHIFT_SNAPSHOTS = "shift_snapshots"
    REFUNDS = "refunds"
    REPRINTS = "reprints"
    AUDITS = "audits"
    AUDIT_HEADS = "audit_heads"
    SETTINGS = "settings"
    WEBHOOKS = "webhooks"
    WEBHOOK_DELIVERIES = "webhook_deliveries"
    SECRETS = "secrets"
    OPS = "ops"
    RATE_LIMITS = "rate_limits"
    INCIDENTS = "incidents"
    EVENTS = "events"
    WEBHOOK_ATTEMPTS = "webhook_attempts"
    ALERTS = "alerts"
    REPORT_SUMMARIES = "report_summaries"
    REPORT_MARKS = "report_marks"
    REPORT_STATE = "report_state"
    LEASES = "leases"
    FRAUD_DAYS = "fraud_days"  # per store and local day: the Fraud Watch's check and the alerts it raised
    GATE_LISTS = "gate_lists"  # per store: the change journal gates' allow-lists are kept by
    AUDIT_ANCHORS = "audit_anchors"  # per tenant and day: the chain's hash, where pruning may stop
    BACKUP_STATUS = "backup_status"  # the backup job's last good archive (ops/backup_status.py)
    SCHEMA_MIGRATIONS = "schema_migrations"  # one document per migration step applied
    JOB_RUNS = "job_runs"  # per daily job: the last day it ran (ops/retention.py)
    VERSIONS = "versions"  # per tenant: change counters of what hot paths cache (core/repository.py)


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    expire_after_seconds: int | None = None

    @property
    def name(self) -> str:
        return "_".join(f"{field}_{direction}" for field, direction in self.keys)


def _ix(collection: str, *fields: str, unique: bool = False, ttl: int | None = None) -> IndexSpec:
    return IndexSpec(collection, tuple((f, ASCENDING) for f in fields), unique, ttl)


#: Unique indexes are behaviour (they make retries and races safe), not just speed.
INDEX_SPECS: tuple[IndexSpec, ...] = (
    _ix(C.TENANTS, "tenant_id", unique=True),
    _ix(C.STORES, "tenant_id", "store_id", unique=True),
    _ix(C.SITE_KEYS, "key_hash", unique=True),
    _ix(C.DEVICES, "device_id", unique=True),
    _ix(C.DEVICES, "tenant_id", "store_id"),
    _ix(
        C.DEVICES, "tenant_id", "device_id"
    ),  # a tenant's device: ties (device_id) with (tenant_id, store_id) else
    _ix(C.EMPLOYEES, "employee_id", unique=True),
    _ix(C.EMPLOYEES, "email", unique=True),
    _ix(C.EMPLOYEES, "tenant_id", "employee_id"),  # a tenant's staff by name (report labels)
    _ix(C.ROLES, "tenant_id", "role_id", unique=True),
    _ix(C.MEMBERSHIPS, "tenant_id", "employee_id", "store_id", unique=True),
    _ix(C.APPROVALS, "token_hash", unique=True),
    _ix(C.APPROVALS, "tenant_id", "approval_id"),  # a manual discount's approver, for the Fraud Watch
    _ix(C.SITE_KEYS, "tenant_id", "store_id"),
    _ix(C.SETTINGS, "tenant_id", "store_id", unique=True),
    _ix(C.SECRETS, "tenant_id", "kind", "key_id", unique=True),
    _ix(C.SECRETS, "tenant_id", "kind", "seq", unique=True),
    _ix(C.PACKAGES, "package_id", unique=True),
    _ix(C.PACKAGES, "tenant_id", "store_id"),
    _ix(C.PRICING_RULES, "rule_id", unique=True),
    _ix(C.PRICING_RULES, "tenant_id", "store_id"),
    _ix(C.SHIFTS, "shift_id", unique=True),
    _ix(C.SHIFTS, "tenant_id", "open_slot", unique=True),
    _ix(C.SHIFTS, "tenant_id", "store_id", "open_at"),
    _ix(C.CASH_MOVEMENTS, "tenant_id", "shift_id"),
    _ix(C.SHIFT_SNAPSHOTS, "tenant_id", "shift_id", "version", unique=True),
    _ix(C.SALES, "sale_id", unique=True),
    _ix(C.SALES, "tenant_id", "shift_id"),
    _ix(C.TICKETS, "tenant_id", "sale_id"),
    _ix(C.TICKETS, "ticket_id", unique=True),
    _ix(C.TICKETS, "qr_token", unique=True),
    _ix(C.TICKETS, "tenant_id", "short_code", unique=True),
    _ix(C.SALES, "tenant_id", "idempotency_key", unique=True),
    _ix(C.SALES, "tenant_id", "store_id", "created_at"),
    _ix(C.REDEMPTIONS, "tenant_id", "ticket_id", "ts"),
    _ix(C.REDEMPTIONS, "tenant_id", "redemption_id", unique=True),  # a gate's scan_id, per tenant
    _ix(C.REDEMPTIONS, "tenant_id", "store_id", "ts"),
    _ix(C.INCIDENTS, "tenant_id", "created_at"),
    _ix(C.EVENTS, "event_id", unique=True),
    # The outbox's pending marker: the worker reads `fanned_out: {$eq: False}` (only the pending few).
    _ix(C.EVENTS, "fanned_out"),
    _ix(C.WEBHOOKS, "webhook_id", unique=True),
    _ix(C.WEBHOOKS, "tenant_id", "status"),
    _ix(C.WEBHOOK_DELIVERIES, "delivery_id", unique=True),
    _ix(C.WEBHOOK_DELIVERIES, "status", "next_attempt_at"),
    _ix(C.WEBHOOK_DELIVERIES, "tenant_id", "webhook_id", "created_at"),
    _ix(C.WEBHOOK_ATTEMPTS, "tenant_id", "delivery_id", "n"),
    # One alert per cause while it lasts: open_slot is "open" until the alert is resolved, then
    # the alert's own id, so a later recurrence of the same cause raises a new alert.
    _ix(C.ALERTS, "tenant_id", "kind", "cause_key", "open_slot", unique=True),
    _ix(C.ALERTS, "tenant_id", "alert_id"),
    # What is still open: the dashboard reads a tenant's unresolved alerts, /metrics every tenant's.
    _ix(C.ALERTS, "tenant_id", "open_slot"),
    _ix(C.ALERTS, "open_slot"),
    # Devices whose last upload left ops on them (offline/sync.py): the unsynced-ops check, /metrics.
    _ix(C.DEVICES, "holding_ops"),
    _ix(C.TICKETS, "tenant_id", "store_id", "valid_to"),
    _ix(C.REFUNDS, "refund_id", unique=True),
    _ix(C.REFUNDS, "tenant_id", "idempotency_key", unique=True),
    _ix(C.REFUNDS, "tenant_id", "shift_id"),
    _ix(C.REFUNDS, "tenant_id", "sale_id"),
    _ix(C.REFUNDS, "tenant_id", "store_id", "created_at"),
    _ix(C.REPRINTS, "reprint_id", unique=True),
    _ix(C.REPRINTS, "tenant_id", "idempotency_key", unique=True),
    _ix(C.REPRINTS, "tenant_id", "ticket_id"),
    _ix(C.REPRINTS, "tenant_id", "store_id", "created_at"),  # a period's reprints (reports/reconcile.py)
    _ix(C.AUDITS, "tenant_id", "seq", unique=True),
    _ix(C.AUDITS, "tenant_id", "ts"),
    _ix(C.AUDITS, "tenant_id", "event_type", "seq"),
    # Drill-downs and the audit explorer: one store's, one actor's, one device's or one kind of
    # entries over a time span (equality on the second key spelled `$eq`, then the range on `ts`).
    _ix(C.AUDITS, "tenant_id", "store_id", "ts"),
    _ix(C.AUDITS, "tenant_id", "actor_id", "ts"),
    _ix(C.AUDITS, "tenant_id", "device_id", "ts"),
    _ix(C.AUDITS, "tenant_id", "event_type", "ts"),
    _ix(C.OPS, "tenant_id", "device_id", "op_id", unique=True),  # op ids are unique per device
    # The sweepers' work lists: `status: {$eq: "pending"}` reads only the in-flight few, oldest lease first.
    _ix(C.SALES, "status", "lease_until"),
    _ix(C.REFUNDS, "status", "lease_until"),
    _ix(C.SHIFTS, "finalized"),
    # Retention (core/retention.py) deletes by these, in small batches, on one replica; no TTL index:
    # on the embedded server every find on a collection with one first runs a full-scan purge.
    # (rate_limits counters are keyed by `_id`, the counter's key.)
    _ix(C.RATE_LIMITS, "purge_after"),
    _ix(C.EVENTS, "purge_after"),
    _ix(C.WEBHOOK_DELIVERIES, "purge_after"),
    _ix(C.WEBHOOK_ATTEMPTS, "purge_after"),
    _ix(C.OPS, "purge_after"),
    # Reports (reports/): summaries are read by their bucket (family, store, day); the projector
    # finds events it has not yet counted by equality on `projected`, and a scan's zone by its
    # record's id (a leading single field: the embedded server serves only that from an index).
    _ix(C.REPORT_SUMMARIES, "bucket"),
    _ix(C.EVENTS, "projected"),
    _ix(C.REDEMPTIONS, "redemption_id", "device_id"),
    # The daily retention job (ops/retention.py): summaries older than a year by their period (a
    # range on one single-field key), raw scans by their time as an int (`ts_s`, stamped by the job:
    # a range over an int is served by its index, one over a stamp is not), anchors by `purge_after`.
    _ix(C.REPORT_SUMMARIES, "day"),
    _ix(C.REDEMPTIONS, "ts_s"),
    _ix(C.AUDIT_ANCHORS, "tenant_id", "day", unique=True),
    _ix(C.AUDIT_ANCHORS, "purge_after"),
)


#: Indexes an earlier version created that now stand in the way (unique where they must not be):
#: dropped at start-up if present. Op ids and scan ids were once unique across every tenant. The TTL
#: indexes (an entry with `ttl`: only a TTL index on those keys matches) made every find on their
#: collection run a full-scan purge on the embedded server; retention replaced them.
OBSOLETE_INDEXES: tuple[IndexSpec, ...] = (
    _ix(C.OPS, "op_id", unique=True),
    _ix(C.REDEMPTIONS, "redemption_id", unique=True),
    _ix(C.RATE_LIMITS, "key", unique=True),
    _ix(C.EVENTS, "fanned_out", "lease_until"),
    _ix(C.RATE_LIMITS, "expires_at", ttl=0),
    _ix(C.EVENTS, "expires_at", ttl=0),
    _ix(C.WEBHOOK_DELIVERIES, "expires_at", ttl=0),
    _ix(C.WEBHOOK_ATTEMPTS, "expires_at", ttl=0),
    _ix(C.OPS, "expires_at", ttl=0),
)


class Database:
    """Owns the client; hands out collections; knows whether the indexes are in place."""

    def __init__(
        self,
        uri: str,
        name: str,
        *,
        timeout_ms: int = 2000,
        event_listeners: Sequence[monitoring.CommandListener] = (),
    ) -> None:
        """`event_listeners`: PyMongo monitoring listeners (tests count the commands a loop sends)."""
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(
            uri,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms * 5, 10_000),
            tz_aware=True,
            appname="boxoffice",
            event_listeners=list(event_listeners),
        )
        self.db: AsyncDatabase[Document] = self.client[name]
        self.indexes_ready = False

    def __getitem__(self, collection: str) -> AsyncCollection[Document]:
        return self.db[collection]

    async def ping(self) -> float:
        """Round trip to the server in milliseconds; raises ConnectionFailure when it is down."""
        started = time.perf_counter()
        await self.client.admin.command("ping")
        return (time.perf_counter() - started) * 1000

    async def ensure_indexes(self) -> None:
        """Create every index in INDEX_SPECS (dropping OBSOLETE_INDEXES first); safe to call again
        (create_index is idempotent)."""
        for obsolete in OBSOLETE_INDEXES:
            present = await self[obsolete.collection].index_information()
            for name, info in present.items():
                if tuple((k, int(d)) for k, d in info["key"]) != obsolete.keys:
                    continue
                if obsolete.expire_after_seconds is not None and "expireAfterSeconds" not in info:
                    continue  # only the TTL index on these keys is obsolete
                await self[obsolete.collection].drop_index(name)
        for spec in INDEX_SPECS:
            options: dict[str, Any] = {"name": spec.name}
            if spec.unique:
                options["unique"] = True
            if spec.expire_after_seconds is not None:
                options["expireAfterSeconds"] = spec.expire_after_seconds
            await self[spec.collection].create_index(list(spec.keys), **options)
        self.indexes_ready = True

    async def try_ensure_indexes(self) -> bool:
        """At start-up the database may be down: note it and let readiness retry later."""
        try:
            await self.ensure_indexes()
        except (ConnectionFailure, OperationFailure) as exc:
            log.warning("indexes_pending", reason=type(exc).__name__)
            return False
        return True

    async def missing_indexes(self) -> list[str]:
        """Index names the specs ask for that the server does not have."""
        missing: list[str] = []
        by_collection: dict[str, list[IndexSpec]] = {}
        for spec in INDEX_SPECS:
            by_collection.setdefault(spec.collection, []).append(spec)
        for collection, specs in by_collection.items():
            present = await self[collection].index_information()
            present_keys = {tuple((k, int(d)) for k, d in info["key"]) for info in present.values()}
            missing.extend(f"{collection}.{spec.name}" for spec in specs if spec.keys not in present_keys)
        return missing

    async def close(self) -> None:
        await self.client.close()
