"""Demo history: weeks of plausible venue activity, written in exactly the shapes the services write.

`make run` seeds the demo store's last 60 days once; `boxoffice seed-history` makes larger data for
benchmarks (`--sales-per-day` is per store; a sale issues about two tickets). The days are the store's last
`days` local days ending yesterday, so today stays live for the demo.

What a store's day holds: two POS shifts (three at weekends) opened and closed by cashiers, with small
cash differences and the odd pay-in or pay-out; completed sales across the packages and payment types,
busier at weekends and in the afternoon, with a promo code now and then and a few manual discounts a
supervisor approved; their tickets; gate scans judged by the redemption rules themselves, so the
failures are those gates really get (`duplicate_use`, `expired`, `exhausted`, `refunded`, a wrong zone
as `wrong_device`, a forged code as `invalid_sig`); a few approved refunds and reprints with reasons.

So the shapes cannot drift, the services' own builders make them: prices come from the pricing engine,
the ticket plan from the sale service's planner, tickets from `issuance.ticket_documents`, verdicts from
`redemption.decide`, refund amounts from `refund_rules.plan_refund`, shift figures from `shift_math`,
and every stored view from the service's view function. Ids are ULIDs of each record's business time
drawn from one `random.Random` seeded by the tenant, the parameters and the first day: the same call
on the same day writes the same records.

No outbox events are written, so the report projector never sees the history. Its summaries come from
the rebuild's own replay and fold (`reports/rebuild.py`) over each generated day, added to the stored
summaries: every figure is a sum over records, and the history shares no record with anything else, so
adding them gives what a rebuild from the raw records gives. Tickets it counted as used get their
first-PASS marks as a rebuild writes them. Raw records go in with `insert_many` (hundreds a round
trip), summaries with unordered bulk upserts addressed by `_id`. Each day is drawn in a worker thread
while the day before is written, so the database server works meanwhile.

It runs once per tenant and parameters: a marker document (`history_seeds`) records the seeded range
and the counts, and a second call returns those counts and writes nothing. While it runs, the marker
holds a lease and the tenant's report lease is held (no projection pass or rebuild interleaves); a
run that died is taken over once its lease has ended: the same records are written again (the ones
already there are skipped) and the seeded days' summaries recomputed with `rebuild_tenant`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.errors import BulkWriteError, DuplicateKeyError
from ulid import ULID

from boxoffice.access.policy import DEFAULT_CAPS, DeviceType
from boxoffice.access.principal import ALL_STORES, Principal
from boxoffice.aftersale.refunds import LEASE as REFUND_LEASE
from boxoffice.aftersale.refunds import refund_view
from boxoffice.aftersale.reprints import LEASE as REPRINT_LEASE
from boxoffice.aftersale.reprints import reprint_view
from boxoffice.aftersale.schemas import RefundCreate, ReprintCreate
from boxoffice.catalog import pricing
from boxoffice.catalog import service as catalog
from boxoffice.catalog.repository import PackageRepository, RuleRepository
from boxoffice.catalog.schemas import PackageCreate
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.idempotency import fingerprint, scoped_key
from boxoffice.core.repository import Scope, ScopedRepository
from boxoffice.core.security import new_secret_token, sha256_hex
from boxoffice.fraud.rules import week_hours
from boxoffice.reports.projection import TENANT_LEASE, TenantPass
from boxoffice.reports.rebuild import Records, fold, rebuild_if_never_projected, rebuild_tenant
from boxoffice.reports.repository import MarkRepository, SummaryRepository
from boxoffice.sales import service as sales
from boxoffice.sales import shift_math
from boxoffice.sales import shifts as shift_service
from boxoffice.sales.repository import (
    MovementRepository,
    SaleRepository,
    ShiftRepository,
    SnapshotRepository,
)
from boxoffice.sales.schemas import CashMovementIn, SaleCreate, ShiftRead
from boxoffice.seed import DEMO_STORE_ID, DEMO_TENANT_ID
from boxoffice.settings import service as settings_service
from boxoffice.staff import service as staff
from boxoffice.staff.repository import ApprovalRepository, EmployeeRepository, MembershipRepository
from boxoffice.staff.schemas import EmployeeCreate, MembershipIn
from boxoffice.tenancy.repository import DeviceRepository, StoreRepository, TenantRepository
from boxoffice.tenancy.schemas import StoreCreate
from boxoffice.tickets import changes
from boxoffice.tickets import keys as key_store
from boxoffice.tickets.issuance import ticket_documents, ticket_view
from boxoffice.tickets.qr import CROCKFORD, SHORT_CODE_LENGTH, sign
from boxoffice.tickets.redeem import gate_rules, gate_zone, scan_field
from boxoffice.tickets.redemption import GateRules, Scan, Verdict, decide
from boxoffice.tickets.refund_rules import effective_status, plan_refund
from boxoffice.tickets.repository import (
    RedemptionRepository,
    RefundRepository,
    ReprintRepository,
    TicketRepository,
)

DEFAULT_DAYS = 60
#: A store's sales on an average day (weekends about twice a weekday's).
DEFAULT_SALES_PER_DAY = 100
MAX_DAYS = 400
MAX_STORES = 50
MAX_SALES_PER_DAY = 20_000
#: A store's average day per POS it runs (three at least, twelve at most).
SALES_PER_TILL = 80
MAX_TILLS = 12
#: Documents per insert_many or bulk_write round trip (a sale with its tickets is a few kilobytes).
BATCH = 500
#: How long a run holds its marker without renewing it; it renews it (and the tenant's report
#: lease) every HEARTBEAT_SECONDS of writing.
MARKER_LEASE = timedelta(minutes=2)
HEARTBEAT_SECONDS = 10.0
MARKERS = "history_seeds"

#: Monday … Sunday: a play park is busiest at weekends (the mean is 1).
WEEKDAY_SHAPE = (0.78, 0.72, 0.75, 0.8, 0.95, 1.55, 1.45)
#: Local hour → weight of the day's sales (doors open 10:00 to 20:00; afternoons are busiest).
HOUR_SHAPE = {10: 5, 11: 7, 12: 8, 13: 10, 14: 13, 15: 15, 16: 15, 17: 12, 18: 9, 19: 6}
PAYMENT_SHARE = {"cash": 45, "qr": 40, "card": 15}
PACKAGE_SHARE = {"single": 45, "timepass": 25, "bundle": 14, "multi": 6, "credit": 6}
#: A sale at the till after the doors closed (the Fraud Watch's after-hours sales).
AFTER_HOURS_RATE = 0.004
PROMO_RATE = 0.03
MANUAL_DISCOUNT_RATE = 0.012
REFUND_RATE = 0.007
REPRINT_RATE = 0.005
#: Drawer movements: (kind, share of shifts with one).
MOVES = (("pay_in", 0.05), ("pay_out", 0.12))
FORGED_SCAN_RATE = 0.3  # a store-day with one scan of a code that names no ticket
CROSS_STORE_RATE = 0.002  # a ticket tried at another store's gate
CASH_FLOAT = (200_000, 300_000)
PAY_OUT_REASONS = ("Ice and drinking water", "Cleaning supplies", "Printer paper", "Cash to the safe")
PAY_IN_REASONS = ("Float top-up", "Change from the safe")

DEMO_ZONE_PACKAGE = {"name": "Ball Pit Session", "type": "single", "price": 10_000, "zones": ["ball-pit"]}
#: The demo store's people: the seed's cashier and supervisor, and these cashiers beside them.
DEMO_CASHIERS = (
    ("Kanya Cashier", "cashier@demo.test"),
    ("Niran Cashier", "niran@demo.test"),
    ("Ploy Cashier", "ploy@demo.test"),
    ("Arthit Cashier", "arthit@demo.test"),
)
DEMO_SUPERVISORS = (("Somchai Supervisor", "supervisor@demo.test"),)
FIRST_NAMES = (
    "Anan", "Busaba", "Chai", "Dao", "Ekkachai", "Fah", "Kwan", "Lek", "Mali", "Nok", "Pim", "Rin",
    "Sakda", "Tong", "Wan", "Yupa",
)  # fmt: skip
LAST_NAMES = ("Boonmee", "Chaiyo", "Kaewmanee", "Rattana", "Srisuk", "Sukjai", "Thongdee", "Wongsa")
BRANCHES = (
    "Chiang Mai", "Phuket", "Khon Kaen", "Pattaya", "Hua Hin", "Korat", "Hat Yai", "Udon Thani",
    "Ayutthaya", "Chonburi", "Rayong", "Phitsanulok",
)  # fmt: skip
#: What `Records.load` sets: the history fills the same attributes from what it generated. Another
#: attribute there means the rebuild learned of a record the history does not fill: then the
#: seeded days are rebuilt from the stored records instead (slower, never wrong).
RECORDS_FILLED = frozenset(
    {
        "deps",
        "scope",
        "zones",
        "hours",
        "approvers",
        "sales",
        "tickets",
        "refunds",
        "reprints",
        "redemptions",
        "shifts",
        "written",
    }
)


class HistoryBusy(RuntimeError):
    """Another run is seeding the same history (its marker's lease has not ended)."""


class MarkerRepository(ScopedRepository):
    """One document per tenant and parameters: the seeded range, the run's lease, then its counts."""

    collection_name = MARKERS
    store_scoped = False


def marker_key(tenant_id: str, days: int, sales_per_day: int, stores: int) -> str:
    return f"{tenant_id}|history|{days}d|{sales_per_day}/day|{stores}st"


# ---- the cast: stores, devices, people, catalog ---------------------------------------------------


@dataclass
class Shop:
    """One store and everything its days are drawn from."""

    store_id: str
    tz: str
    zone: ZoneInfo
    pos: list[Document]
    gates: list[Document]
    cashiers: list[str]
    approvers: list[str]  # supervisors first, the owner last
    values: dict[str, Any]  # effective settings
    packages: dict[str, Document]  # every package the store sees (a bundle's parts too)
    sellable: list[Document]
    weights: list[float]
    engine: dict[str, pricing.PricedPackage]
    rules: list[pricing.Rule]
    taxes: dict[str, pricing.TaxProfile]
    default_tax: str
    fees: dict[str, tuple[int, int]]
    methods: list[str]
    method_weights: list[int]
    gate_rules: GateRules
    promo: str | None
    refund_reasons: list[str]
    reprint_reasons: list[str]

    def local(self, day: date, hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> datetime:
        at = datetime.combine(day, time(hour, minute, second), self.zone) + timedelta(milliseconds=ms)
        return at.astimezone(UTC)

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time.min, self.zone).astimezone(UTC)


def _stable_id(at: datetime, *parts: str) -> str:
    """A ULID of `at` whose random part comes from `parts`: the same name, the same id, in any run."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()[:10]
    return str(ULID.from_bytes(int(at.timestamp() * 1000).to_bytes(6, "big") + digest))


async def _owner(deps: Deps, tenant_id: str) -> Principal:
    """The tenant's owner, who adds the people and the packages the history needs (audited)."""
    scope = Scope(tenant_id)
    roles = {r["name"]: r["role_id"] for r in await staff.list_roles(deps, tenant_id)}
    rows = await MembershipRepository(deps.db, scope).find_many({"store_id": ALL_STORES})
    for row in sorted(rows, key=lambda r: str(r["employee_id"])):
        if roles.get("Owner") in (row.get("role_ids") or []):
            employee = await EmployeeRepository(deps.db, scope).find_one({"employee_id": row["employee_id"]})
            if employee is not None and employee.get("status", "active") == "active":
                grants = await staff.load_grants(deps, tenant_id, str(employee["employee_id"]))
                return Principal(tenant_id=tenant_id, ip=None, employee=employee, grants=grants)
    raise LookupError(f"tenant {tenant_id} has no active owner to add the history's people")


async def _stores(deps: Deps, tenant: Document, count: int, since: datetime) -> list[Document]:
    """The tenant's stores (the demo store first, then the oldest), and branches made for the rest."""
    tenant_id = str(tenant["tenant_id"])
    repo = StoreRepository(deps.db, Scope(tenant_id))
    existing = [
        s for s in await repo.find_many(sort=[("created_at", 1), ("store_id", 1)]) if not s.get("synthetic")
    ]
    existing.sort(key=lambda s: s["store_id"] != DEMO_STORE_ID)
    chosen = existing[:count]
    names = {str(s["name"]) for s in existing}
    n = 0
    while len(chosen) < count:
        n += 1
        city = BRANCHES[(n - 1) % len(BRANCHES)] + ("" if n <= len(BRANCHES) else f" {n}")
        name = f"{tenant['name']} - {city}"
        if name in names:
            continue
        fields = StoreCreate(
            name=name, address=f"{city}, Thailand", tz=str(tenant.get("tz") or "Asia/Bangkok")
        )
        store = {
            **fields.model_dump(),
            "receipt_header": name,
            "store_id": _stable_id(since, tenant_id, "store", name),
            "active": True,
            "created_at": deps.clock.now(),
        }
        await repo.insert(store)
        chosen.append(store)
    return chosen


def tills_for(sales_per_day: int) -> int:
    """POS a store runs: three, and one more for every SALES_PER_TILL sales of an average day."""
    return min(MAX_TILLS, max(3, -(-sales_per_day // SALES_PER_TILL)))


async def _people(
    deps: Deps, owner: Principal, store: Document, index: int, domain: str, tills: int
) -> tuple[list[str], list[str]]:
    """(cashier ids, supervisor ids) of a store, made through the staff service when missing: a
    cashier more than it has tills (they take turns), a supervisor for every six tills."""
    tenant_id = owner.tenant_id
    roles = {r["name"]: r["role_id"] for r in await staff.list_roles(deps, tenant_id)}
    cast: dict[str, list[tuple[str, str]]] = {"Cashier": [], "Supervisor": []}
    if tenant_id == DEMO_TENANT_ID and store["store_id"] == DEMO_STORE_ID:
        cast = {"Cashier": list(DEMO_CASHIERS), "Supervisor": list(DEMO_SUPERVISORS)}
    wanted = {"Cashier": tills + 1, "Supervisor": 1 + tills // 6}
    n = 0
    for role, people in cast.items():
        while len(people) < wanted[role]:
            first, last = (
                FIRST_NAMES[(index * 7 + n) % len(FIRST_NAMES)],
                LAST_NAMES[(index * 3 + n) % len(LAST_NAMES)],
            )
            people.append((f"{first} {last}", f"{first}.{last}.{index + 1}.{n + 1}@{domain}".lower()))
            n += 1
    found: dict[str, list[str]] = {}
    repo = EmployeeRepository(deps.db, Scope(tenant_id))
    for role, people in cast.items():
        for name, email in people:
            employee = await repo.find_one({"email": email})
            if employee is None:
                body = EmployeeCreate(
                    name=name,
                    email=email,
                    memberships=[MembershipIn(store_id=str(store["store_id"]), role_ids=[roles[role]])],
                )
                employee = await staff.create_employee(deps, owner, body)
            found.setdefault(role, []).append(str(employee["employee_id"]))
    return found["Cashier"], found["Supervisor"]


async def _devices(
    deps: Deps, tenant_id: str, store: Document, zones: list[Document], since: datetime, tills: int
) -> tuple[list[Document], list[Document]]:
    """The store's POS and a gate per access zone (two gates when there are no zones), as
    registration makes them; their tokens are unknown (rotate one to use the device)."""
    repo = DeviceRepository(deps.db, Scope(tenant_id))
    store_id = str(store["store_id"])
    till_names = {1: "POS 1 - Front desk", 3: "POS 3 - Party desk"}
    wanted: list[tuple[DeviceType, str, list[str] | None]] = [
        ("POS", till_names.get(n, f"POS {n}"), None) for n in range(1, tills + 1)
    ]
    if zones:
        wanted += [("GATE", f"Gate - {z['name']}", [str(z["zone_id"])]) for z in zones[:3]]
    else:
        wanted += [("GATE", "Gate 1", None), ("GATE", "Gate 2", None)]
    pos: list[Document] = []
    gates: list[Document] = []
    for kind, name, gate_zones in wanted:
        device = await repo.find_one({"store_id": store_id, "name": name})
        if device is None:
            device = {
                "device_id": _stable_id(since, tenant_id, store_id, "device", name),
                "store_id": store_id,
                "type": kind,
                "name": name,
                "status": "active",
                "registered_at": since,
                "registered_by": None,
                "approved_at": since,
                "approved_by": None,
                "suspended_at": None,
                "revoked_at": None,
                "device_token_hash": sha256_hex(new_secret_token("dt")),
                "token_version": 1,
                "last_used_at": None,
                "last_ip": None,
                "caps": dict(DEFAULT_CAPS[kind]),
                "notes": "",
                "meta": {},
                **({"zones": gate_zones} if gate_zones else {}),
            }
            await repo.insert(device)
            device = {**device, "tenant_id": tenant_id}
        (pos if device["type"] == "POS" else gates).append(device)
    return pos, gates


async def _demo_zone_package(deps: Deps, owner: Principal) -> None:
    """The demo catalog's one single-zone package, so a gate of the other zone refuses it."""
    existing = await PackageRepository(deps.db, Scope(owner.tenant_id)).for_store(None, active_only=False)
    if DEMO_ZONE_PACKAGE["name"] not in {p["name"] for p in existing}:
        await catalog.create_package(deps, owner, PackageCreate.model_validate(DEMO_ZONE_PACKAGE))


def _package_weight(package: Document, zone_count: int) -> float:
    share = float(PACKAGE_SHARE.get(str(package["type"]), 5))
    zones = package.get("zones") or []
    if package["type"] == "single" and zones and len(zones) < zone_count:
        return 8.0  # a zone-only entry sells beside the everywhere one
    return share


async def _shop(
    deps: Deps,
    tenant_id: str,
    store: Document,
    pos: list[Document],
    gates: list[Document],
    cashiers: list[str],
    approvers: list[str],
) -> Shop:
    store_id = str(store["store_id"])
    tz = str(store.get("tz") or deps.settings.tz)
    values: dict[str, Any] = (await settings_service.effective(deps, tenant_id, store_id))["values"]
    every = await PackageRepository(deps.db, Scope(tenant_id)).for_store(store_id, active_only=False)
    zone_count = len(values.get("zones") or [])
    sellable = [
        p
        for p in every
        if p["active"]
        and not p.get("active_window")
        and p.get("allowed_devices") is None
        and (p.get("visible_on") or {}).get("POS", False)
        and p["type"] in PACKAGE_SHARE
    ]
    if not sellable:
        raise LookupError(f"store {store_id} has no package a POS may sell")
    multi_price = bool(values["features"]["multi_price"])
    rules = await RuleRepository(deps.db, Scope(tenant_id)).for_store(store_id, active_only=True)
    promo = next(
        (str(r["params"]["code"]) for r in rules if r["kind"] == "promo_code" and not r.get("active_window")),
        None,
    )
    enabled = [t for t in values["payment_types"] if t["enabled"] and t["code"] in PAYMENT_SHARE]
    if not enabled:
        raise LookupError(f"store {store_id} takes none of cash, qr or card")
    reasons = [r for r in values["reasons"] if r.get("active", True)]
    return Shop(
        store_id=store_id,
        tz=tz,
        zone=ZoneInfo(tz),
        pos=pos,
        gates=gates,
        cashiers=cashiers,
        approvers=approvers,
        values=values,
        packages={p["package_id"]: p for p in every},
        sellable=sellable,
        weights=[_package_weight(p, zone_count) for p in sellable],
        engine={p["package_id"]: catalog._engine_package(p, store_id, multi_price) for p in every},
        rules=[catalog._engine_rule(r) for r in rules],
        taxes={
            p["tax_profile_id"]: pricing.TaxProfile(
                p["tax_profile_id"], int(p["rate_bp"]), bool(p["inclusive"])
            )
            for p in values["taxes"]["profiles"]
        },
        default_tax=str(values["taxes"]["default_profile_id"]),
        fees={t["code"]: (int(t["fee_bp"]), int(t["fee_satang"])) for t in enabled},
        methods=[t["code"] for t in enabled],
        method_weights=[PAYMENT_SHARE[t["code"]] for t in enabled],
        gate_rules=gate_rules(values),
        promo=promo,
        refund_reasons=[r["code"] for r in reasons if "refund" in r["applies_to"]] or ["customer_request"],
        reprint_reasons=[r["code"] for r in reasons if "reprint" in r["applies_to"]] or ["printer_jam"],
    )


# ---- one generated day ----------------------------------------------------------------------------


@dataclass
class Batch:
    """One local day's records (a ticket's later uses included), in the order they are written."""

    tickets: list[Document] = field(default_factory=list)
    sales: list[Document] = field(default_factory=list)
    approvals: list[Document] = field(default_factory=list)
    refunds: list[Document] = field(default_factory=list)
    reprints: list[Document] = field(default_factory=list)
    redemptions: list[Document] = field(default_factory=list)
    shifts: list[Document] = field(default_factory=list)
    snapshots: list[Document] = field(default_factory=list)
    movements: list[Document] = field(default_factory=list)


@dataclass
class Till:
    """A POS with its cashier and open shift for the day."""

    device: Document
    cashier: str
    principal: Principal
    shift: Document
    sales: list[Document] = field(default_factory=list)
    refunds: list[Document] = field(default_factory=list)
    last_at: datetime | None = None

    def touch(self, at: datetime) -> None:
        if self.last_at is None or at > self.last_at:
            self.last_at = at


@dataclass(frozen=True)
class Visit:
    """A scan a visitor will make: when, at which gate (and its store), what credit it asks."""

    at: datetime
    gate: Document
    shop: Shop
    amount: int | None = None


class Ids:
    """Every id, code and secret the history needs, drawn from its generator."""

    def __init__(self, rng: random.Random, codes: set[str] | None = None) -> None:
        self.rng = rng
        self.codes: set[str] = set() if codes is None else codes

    def ulid(self, at: datetime) -> str:
        return str(ULID.from_bytes(int(at.timestamp() * 1000).to_bytes(6, "big") + self.rng.randbytes(10)))

    def short_code(self) -> str:
        """Eight Crockford characters, never twice in one run (collisions with other tickets are
        drawn again when written)."""
        while True:
            bits = self.rng.getrandbits(5 * SHORT_CODE_LENGTH)
            code = "".join(CROCKFORD[(bits >> (5 * n)) & 31] for n in range(SHORT_CODE_LENGTH))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def key(self) -> str:
        """An Idempotency-Key as a POS makes them."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, prefix: str) -> str:
        return f"{prefix}_{base64.urlsafe_b64encode(self.rng.randbytes(32)).rstrip(b'=').decode()}"


def _ms(seconds: float) -> timedelta:
    return timedelta(milliseconds=int(seconds * 1000))


class DayMaker:
    """Draws one local day of every store: shifts, sales and each ticket's whole life (its later
    visits included, up to the end of the history), refunds, reprints and drawer movements."""

    def __init__(
        self,
        tenant_id: str,
        shops: list[Shop],
        ring: key_store.KeyRing,
        rng: random.Random,
        ids: Ids,
        sales_per_day: int,
        end_day: date,
    ) -> None:
        self.tenant_id = tenant_id
        self.shops = shops
        self.ring = ring
        self.rng = rng
        self.ids = ids
        self.sales_per_day = sales_per_day
        self.end_day = end_day  # the first day not seeded (today)
        self.batch = Batch()

    # -- the day and its tills ----------------------------------------------------------------

    def day(self, day: date) -> Batch:
        self.batch = Batch()
        for shop in self.shops:
            self._store_day(shop, day)
        return self.batch

    def _store_day(self, shop: Shop, day: date) -> None:
        rng = self.rng
        weekend = day.weekday() >= 5
        count = len(shop.pos) if weekend else -(-2 * len(shop.pos) // 3)  # a third rest on weekdays
        first = day.toordinal() % len(shop.cashiers)
        tills = [
            self._open(shop, day, shop.pos[n], shop.cashiers[(first + n) % len(shop.cashiers)])
            for n in range(count)
        ]
        mean = self.sales_per_day * WEEKDAY_SHAPE[day.weekday()] * rng.uniform(0.88, 1.12)
        sales = max(0, round(rng.gauss(mean, mean**0.5))) if mean > 0 else 0
        hours, weights = list(HOUR_SHAPE), list(HOUR_SHAPE.values())
        times = []
        for _ in range(sales):
            if rng.random() < AFTER_HOURS_RATE:
                times.append(
                    shop.local(day, 20, rng.randrange(0, 50), rng.randrange(60), rng.randrange(1000))
                )
            else:
                hour = rng.choices(hours, weights)[0]
                times.append(shop.local(day, hour, rng.randrange(60), rng.randrange(60), rng.randrange(1000)))
        till_weights = [1 / (n + 1) ** 0.7 for n in range(count)]  # the front desk is busiest
        for at in sorted(times):
            self._sale(shop, rng.choices(tills, till_weights)[0], at)
        if shop.gates and rng.random() < FORGED_SCAN_RATE:
            gate = rng.choice(shop.gates)
            self._forged(shop, gate, shop.local(day, rng.choice(hours), rng.randrange(60), rng.randrange(60)))
        for till in tills:
            self._close(shop, day, till)

    def _open(self, shop: Shop, day: date, device: Document, cashier: str) -> Till:
        open_at = shop.local(
            day, 9, 30 + self.rng.randrange(25), self.rng.randrange(60), self.rng.randrange(1000)
        )
        cash_open = self.rng.choice(CASH_FLOAT)
        shift = {
            "shift_id": self.ids.ulid(open_at),
            "store_id": shop.store_id,
            "device_id": device["device_id"],
            "open_slot": device["device_id"],
            "status": "open",
            "opened_by": cashier,
            "open_at": open_at,
            "cash_open": cash_open,
            "closed_by": None,
            "close_at": None,
            "cash_expected": None,
            "cash_counted": None,
            "cash_diff": None,
            "drawer_seq": 0,
            "drawer_pay_ins": 0,
            "drawer_pay_outs": 0,
        }
        principal = Principal(
            tenant_id=self.tenant_id, ip=None, device=device, employee={"employee_id": cashier}
        )
        return Till(device, cashier, principal, shift, last_at=open_at)

    # -- a sale ---------------------------------------------------------------------------------

    def _cart(self, shop: Shop) -> list[pricing.CartLine]:
        rng = self.rng
        lines: dict[str, int] = {}
        for _ in range(1 if rng.random() < 0.85 else 2):
            package = rng.choices(shop.sellable, shop.weights)[0]
            if package["type"] in ("multi", "credit", "bundle"):
                qty = 1 if rng.random() < 0.9 else 2
            else:
                qty = rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0]
            lines[package["package_id"]] = lines.get(package["package_id"], 0) + qty
        return [pricing.CartLine(pid, qty) for pid, qty in lines.items()]

    def _quote(self, shop: Shop, cart: pricing.Cart) -> pricing.Quote:
        try:
            return pricing.quote(cart, shop.engine, shop.rules, shop.taxes, shop.default_tax)
        except pricing.PricingError:  # the promo code is not in effect then
            plain = pricing.Cart(cart.lines, cart.at, cart.tz, None, cart.manual_discount)
            return pricing.quote(plain, shop.engine, shop.rules, shop.taxes, shop.default_tax)

    def _sale(self, shop: Shop, till: Till, at: datetime) -> None:
        rng, ids = self.rng, self.ids
        promo = shop.promo if shop.promo and rng.random() < PROMO_RATE else None
        manual: pricing.ManualDiscount | None = None
        if rng.random() < MANUAL_DISCOUNT_RATE:
            manual = (
                pricing.ManualDiscount(percent_bp=rng.choice((500, 1000, 2000)))
                if rng.random() < 0.6
                else pricing.ManualDiscount(amount=rng.choice((2_000, 5_000, 10_000)))
            )
        cart = pricing.Cart(tuple(self._cart(shop)), at, shop.tz, promo, manual)
        result = self._quote(shop, cart)
        promo = promo if any(r.kind == "promo_code" for r in result.applied_rules) else None
        quote = catalog._quote_view(shop.store_id, shop.tz, at, result)
        method = rng.choices(shop.methods, shop.method_weights)[0]
        fee = pricing.payment_fee(result.grand_total, *shop.fees[method])
        due = result.grand_total + fee
        tendered = due
        if method == "cash":
            note = rng.choice((1, 10_000, 50_000, 100_000))
            tendered = -(-due // note) * note if due else 0
        key = scoped_key(till.principal, ids.key())
        approval_id, token = "", None
        if manual is not None:
            token = ids.token("ap")
            approval = self._approval(
                shop,
                till,
                at,
                "manual_discount",
                None,
                key,
                token,
                amount=manual.amount or None,
                percent_bp=manual.percent_bp or None,
            )
            approval_id = str(approval["approval_id"])
        body = SaleCreate.model_validate(
            {
                "lines": [{"package_id": line.package_id, "qty": line.qty} for line in cart.lines],
                "promo_code": promo,
                "manual_discount": (
                    None
                    if manual is None
                    else (
                        {"percent_bp": manual.percent_bp} if manual.percent_bp else {"amount": manual.amount}
                    )
                ),
                "approval_token": token,
                "payment_method": method,
                "amount_tendered": tendered if method == "cash" else None,
            }
        )
        quote.update(payment_method=method, payment_fee=fee, amount_due=due)
        plan = [
            self._issue(planned, at)
            for planned in sales._plan_tickets(quote, shop.packages, at, shop.tz, self.ring)
        ]
        sale_id = ids.ulid(at)
        completed_at = at + _ms(rng.uniform(0.15, 0.9))
        sale: Document = {
            "_id": sale_id,
            "sale_id": sale_id,
            "short_ref": "".join(rng.choice(CROCKFORD) for _ in range(SHORT_CODE_LENGTH)),
            "idempotency_key": key,
            "fingerprint": fingerprint(shop.store_id, str(till.device["device_id"]), body),
            "store_id": shop.store_id,
            "device_id": till.device["device_id"],
            "issued_by": till.cashier,
            "shift_id": till.shift["shift_id"],
            "status": "completed",
            "lease_until": at + sales.LEASE,
            "created_at": at,
            "offline": False,
            "completed_at": completed_at,
            "lines": quote["lines"],
            "applied_rules": quote["applied_rules"],
            "subtotal": quote["subtotal"],
            "discount_total": quote["discount_total"],
            "tax_total": quote["tax_total"],
            "grand_total": quote["grand_total"],
            "fee_total": fee,
            "amount_due": due,
            "payment_method": method,
            "amount_tendered": tendered,
            "change": tendered - due,
            "discount_approval_id": approval_id,
            "ticket_ids": [t["ticket_id"] for t in plan],
            "ticket_plan": plan,
            "response": None,
            "event_seq": 1,
        }
        tickets = ticket_documents(sale)
        sale["response"] = {
            "sale": sales.sale_view(sale, completed_at=completed_at),
            "tickets": [ticket_view(t) for t in tickets],
        }
        self.batch.sales.append(sale)
        self.batch.tickets.extend(tickets)
        till.sales.append(sale)
        till.touch(completed_at)
        self._lives(shop, till, sale, tickets, at)

    def _issue(self, planned: Document, at: datetime) -> Document:
        """The sale service's planned ticket under the history's own id, code and signature."""
        ticket_id = self.ids.ulid(at)
        return {
            **planned,
            "ticket_id": ticket_id,
            "short_code": self.ids.short_code(),
            "qr_token": sign(self.ring.current_id, self.ring.current_secret, ticket_id),
        }

    def _approval(
        self,
        shop: Shop,
        till: Till,
        at: datetime,
        action: str,
        target_id: str | None,
        key: str,
        token: str,
        *,
        amount: int | None = None,
        percent_bp: int | None = None,
    ) -> Document:
        """A supervisor's PIN typed on the till a moment before, used once for this."""
        granted = at - _ms(self.rng.uniform(15, 120))
        approver = shop.approvers[0 if self.rng.random() < 0.85 else -1]
        approval = {
            "approval_id": self.ids.ulid(granted),
            "token_hash": sha256_hex(token),
            "store_id": shop.store_id,
            "action": action,
            "target_type": "",
            "target_id": target_id or "",
            "discount_amount": amount if amount is not None else -1,
            "discount_percent_bp": percent_bp if percent_bp is not None else -1,
            "refund_method": "",
            "approver_id": approver,
            "requested_by": till.cashier,
            "device_id": till.device["device_id"],
            "created_at": granted,
            "expires_at": granted + staff.APPROVAL_TTL,
            "used": True,
            "used_at": at,
            "used_for": target_id or "",
            "used_key": key,
        }
        self.batch.approvals.append(approval)
        return approval

    # -- a ticket's life ------------------------------------------------------------------------

    def _lives(self, shop: Shop, till: Till, sale: Document, tickets: list[Document], at: datetime) -> None:
        """The sale's tickets from issue to their last scan, with the sale's refund and reprint in
        time order among their scans (a ticket is judged as it stands at each)."""
        rng = self.rng
        events: list[tuple[datetime, int, str, Any]] = []
        for ticket in tickets:
            for visit in self._visits(shop, ticket, at):
                events.append((visit.at, len(events), "scan", (ticket, visit)))
        if rng.random() < REFUND_RATE:
            chosen = tickets if rng.random() < 0.6 else [rng.choice(tickets)]
            events.append((at + _ms(rng.uniform(90, 900)), len(events), "refund", chosen))
        if rng.random() < REPRINT_RATE:
            events.append((at + _ms(rng.uniform(40, 400)), len(events), "reprint", rng.choice(tickets)))
        turned_away: set[str] = set()
        for when, _, kind, subject in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == "scan":
                ticket, visit = subject
                if ticket["status"] == "refunded":  # one try after the refund, at most
                    if ticket["ticket_id"] in turned_away or rng.random() < 0.8:
                        turned_away.add(ticket["ticket_id"])
                        continue
                    turned_away.add(ticket["ticket_id"])
                self._scan(ticket, visit)
            elif kind == "refund":
                self._refund(shop, till, sale, subject, when)
            else:
                self._reprint(shop, till, subject, when)

    def _gate_for(self, shop: Shop, ticket: Document, *, wrong: bool = False) -> Document | None:
        zones = ticket.get("zones") or []
        fits = [g for g in shop.gates if not zones or not g.get("zones") or set(g["zones"]) & set(zones)]
        misfits = [g for g in shop.gates if g not in fits]
        pool = misfits if wrong else (fits or shop.gates)
        return self.rng.choice(pool) if pool else None

    def _visit_time(self, shop: Shop, day: date) -> datetime:
        hour = self.rng.choices(list(HOUR_SHAPE), list(HOUR_SHAPE.values()))[0]
        return shop.local(day, hour, self.rng.randrange(60), self.rng.randrange(60), self.rng.randrange(1000))

    def _visits(self, shop: Shop, ticket: Document, sold: datetime) -> list[Visit]:
        """The scans the ticket's holder will try, before the history ends."""
        rng = self.rng
        kind = ticket["type"]
        first_gate = self._gate_for(shop, ticket)
        if first_gate is None:
            return []
        first = sold + _ms(rng.uniform(120, 2_100))
        visits: list[Visit] = []
        if kind in ("single", "timepass"):
            if rng.random() < 0.015:  # bought and never came in: expires unused
                return []
            if rng.random() < 0.06:  # tried the wrong zone's gate first
                wrong = self._gate_for(shop, ticket, wrong=True)
                if wrong is not None:
                    visits.append(Visit(first - _ms(rng.uniform(20, 90)), wrong, shop))
            visits.append(Visit(first, first_gate, shop))
            if kind == "timepass":
                for _ in range(rng.choices((0, 1, 2), (40, 35, 25))[0]):
                    gate = self._gate_for(shop, ticket) or first_gate
                    visits.append(Visit(first + _ms(rng.uniform(600, 6_900)), gate, shop))
                if rng.random() < 0.05:  # back after the two hours ran out
                    visits.append(Visit(first + _ms(rng.uniform(7_500, 12_000)), first_gate, shop))
            elif rng.random() < 0.035:  # came back out and tried to get in again
                gate = self._gate_for(shop, ticket) or first_gate
                visits.append(Visit(first + _ms(rng.uniform(2_400, 10_800)), gate, shop))
            if rng.random() < 0.007:  # yesterday's ticket
                day = sold.astimezone(shop.zone).date() + timedelta(days=1)
                visits.append(Visit(self._visit_time(shop, day), first_gate, shop))
        else:
            visits = self._repeat_visits(shop, ticket, first, first_gate)
        if len(self.shops) > 1 and rng.random() < CROSS_STORE_RATE:
            other = rng.choice([s for s in self.shops if s is not shop])
            if other.gates:
                visits.append(Visit(first + _ms(rng.uniform(60, 600)), rng.choice(other.gates), other))
        return [v for v in visits if v.at < v.shop.day_start(self.end_day)]

    def _repeat_visits(self, shop: Shop, ticket: Document, first: datetime, gate: Document) -> list[Visit]:
        """A visit pass or play credit: a visit now, then every few days until it is used up (or
        the holder stops coming); a double tap now and then, one try too many at the end."""
        rng = self.rng
        credit = ticket["type"] == "credit"
        quota = int(ticket.get("quota_or_minutes") or 1)
        stops_after = quota if rng.random() < 0.7 else rng.randint(2, max(2, quota - 1))
        visits: list[Visit] = []
        at, used, visit_no = first, 0, 0
        sold_day = first.astimezone(shop.zone).date()
        while at < shop.day_start(self.end_day):
            visit_no += 1
            taps = rng.choices((1, 2, 3), (40, 40, 20))[0] if credit else 1
            for tap in range(taps):
                amount = rng.choice((50, 100)) if credit else None
                tap_gate = self._gate_for(shop, ticket) or gate
                tap_at = at + _ms(tap * rng.uniform(600, 3_000))
                visits.append(Visit(tap_at, tap_gate, shop, amount))
                used += amount or 1
                if rng.random() < 0.03:  # the visitor's double tap at the same gate
                    visits.append(Visit(tap_at + _ms(rng.uniform(3, 20)), tap_gate, shop, amount))
                if used > quota:
                    return visits  # that one found nothing left
            if used >= quota or visit_no >= stops_after:
                if used >= quota and rng.random() < 0.35:  # one more try: nothing left
                    day = at.astimezone(shop.zone).date() + timedelta(days=rng.randint(2, 9))
                    visits.append(Visit(self._visit_time(shop, day), gate, shop, 50 if credit else None))
                return visits
            day = max(at.astimezone(shop.zone).date(), sold_day) + timedelta(
                days=rng.randint(2, 9 if not credit else 14)
            )
            at = self._visit_time(shop, day)
        return visits

    def _scan(self, ticket: Document, visit: Visit) -> None:
        """One scan, judged by the gate rules on the ticket as it stands, recorded as a gate's online
        scan is (its use, by a PASS, written on the ticket)."""
        gate, at = visit.gate, visit.at
        device_id = str(gate["device_id"])
        scan = Scan(
            at=at,
            device_id=device_id,
            store_id=visit.shop.store_id,
            zone=gate_zone(gate, None),
            amount=visit.amount,
        )
        verdict = decide(ticket, scan, visit.shop.gate_rules)
        redemption_id = self.ids.ulid(at)
        if verdict.result == "pass":
            ticket.update(verdict.changes)
            ticket["updated_at"] = at
            ticket.setdefault("scans", {})[scan_field(device_id, redemption_id)] = True
        ticket["event_seq"] = int(ticket["event_seq"]) + 1
        self.batch.redemptions.append(
            self._record(redemption_id, str(ticket["ticket_id"]), gate, scan, verdict)
        )

    def _record(
        self, redemption_id: str, ticket_id: str, gate: Document, scan: Scan, verdict: Verdict
    ) -> Document:
        return {
            "redemption_id": redemption_id,
            "ticket_id": ticket_id,
            "device_id": gate["device_id"],
            "store_id": scan.store_id,
            "ts": scan.at,
            "recorded_at": scan.at,
            "result": verdict.result,
            "reason": verdict.reason,
            "remaining_after": verdict.remaining,
            "metadata": {
                "offline": False,
                "op_id": None,
                "device_seq": None,
                "zone": scan.zone,
                "offline_conflict": False,
                "simulated": bool(gate.get("simulate_offline", False)),
                "units": verdict.units if verdict.result == "pass" else 0,
                "server_reason": verdict.overridden,
                "flags": [],
            },
        }

    def _forged(self, shop: Shop, gate: Document, at: datetime) -> None:
        """A code that names no ticket (a photocopy, another venue's QR)."""
        scan = Scan(
            at=at, device_id=str(gate["device_id"]), store_id=shop.store_id, zone=gate_zone(gate, None)
        )
        refused = Verdict("fail", "invalid_sig", None, {})
        self.batch.redemptions.append(self._record(self.ids.ulid(at), "", gate, scan, refused))

    # -- refunds and reprints ---------------------------------------------------------------------

    def _refund(self, shop: Shop, till: Till, sale: Document, chosen: list[Document], at: datetime) -> None:
        """A supervisor-approved refund at the till that sold them, of what may be refunded."""
        lines, _ = plan_refund(chosen, shop.values["refunds"]["partial_use"])
        if not lines:
            return
        rng, ids = self.rng, self.ids
        key = scoped_key(till.principal, ids.key())
        token = ids.token("ap")
        reason = rng.choice(shop.refund_reasons)
        whole = len(chosen) == len(sale["ticket_ids"])
        body = RefundCreate(
            sale_id=sale["sale_id"],
            ticket_ids=None if whole else sorted(t["ticket_id"] for t in chosen),
            approval_token=token,
            reason_code=reason,
        )
        approval = self._approval(shop, till, at, "refund", str(sale["sale_id"]), key, token)
        refund_id = ids.ulid(at)
        done_at = at + _ms(rng.uniform(0.2, 1.2))
        planned = [{"ticket_id": x.ticket_id, "amount": x.amount, "used_seen": x.used_seen} for x in lines]
        by_id = {t["ticket_id"]: t for t in chosen}
        for line in lines:
            by_id[line.ticket_id].update(
                status="refunded",
                refund_id=refund_id,
                refunded_amount=line.amount,
                refunded_at=done_at,
                updated_at=done_at,
            )
        flipped = sorted((by_id[x.ticket_id] for x in lines), key=lambda t: str(t["ticket_id"]))
        refunded = [{"ticket_id": x.ticket_id, "amount": x.amount} for x in lines]
        amount = sum(x.amount for x in lines)
        refund: Document = {
            "refund_id": refund_id,
            "sale_key": sale["_id"],
            "idempotency_key": key,
            "fingerprint": fingerprint(shop.store_id, str(till.device["device_id"]), body),
            "sale_id": sale["sale_id"],
            "store_id": shop.store_id,
            "device_id": till.device["device_id"],
            "shift_id": till.shift["shift_id"],
            "status": "completed",
            "lease_until": at + REFUND_LEASE,
            "method": sale["payment_method"],
            "method_chosen_by": "",
            "planned": planned,
            "lines": refunded,
            "amount": amount,
            "reason_code": reason,
            "reason_text": None,
            "refunded_by": till.cashier,
            "approver_id": approval["approver_id"],
            "approval_id": approval["approval_id"],
            "created_at": at,
            "response": None,
            "completed_at": done_at,
        }
        refund["response"] = {"refund": refund_view(refund), "tickets": [ticket_view(t) for t in flipped]}
        sale["event_seq"] = int(sale["event_seq"]) + 1
        sale["refund_claim"] = refund_id
        sale["refund_claim_until"] = done_at
        self.batch.refunds.append(refund)
        till.refunds.append(refund)
        till.touch(done_at)

    def _reprint(self, shop: Shop, till: Till, ticket: Document, at: datetime) -> None:
        if effective_status(ticket, at) != "active":
            return
        rng, ids = self.rng, self.ids
        key = scoped_key(till.principal, ids.key())
        token = ids.token("ap")
        reason = rng.choice(shop.reprint_reasons)
        body = ReprintCreate(ticket_id=ticket["ticket_id"], approval_token=token, reason_code=reason)
        approval = self._approval(shop, till, at, "reprint", str(ticket["ticket_id"]), key, token)
        reprint_id = ids.ulid(at)
        done_at = at + _ms(rng.uniform(0.2, 1.0))
        ticket["printed_count"] = int(ticket["printed_count"]) + 1
        ticket["event_seq"] = int(ticket["event_seq"]) + 1
        ticket.setdefault("reprints", {})[reprint_id] = True
        reprint: Document = {
            "reprint_id": reprint_id,
            "idempotency_key": key,
            "fingerprint": fingerprint(shop.store_id, str(till.device["device_id"]), body),
            "ticket_id": ticket["ticket_id"],
            "sale_id": ticket["sale_id"],
            "store_id": shop.store_id,
            "device_id": till.device["device_id"],
            "status": "completed",
            "lease_until": at + REPRINT_LEASE,
            "reason_code": reason,
            "reason_text": None,
            "printed_by": till.cashier,
            "approver_id": approval["approver_id"],
            "approval_id": approval["approval_id"],
            "created_at": at,
            "response": None,
            "completed_at": done_at,
        }
        reprint["response"] = {
            "reprint": reprint_view({**reprint, "status": "completed"}),
            "ticket": ticket_view(ticket),
        }
        self.batch.reprints.append(reprint)
        till.touch(done_at)

    # -- the drawer and the close -----------------------------------------------------------------

    def _figures(self, till: Till, before: datetime | None = None) -> shift_math.ShiftTotals:
        """The shift's figures from its records (as `shifts.compute_totals` reads them), as of
        `before` (None: all), with the drawer's counters as they stand."""
        shift = till.shift
        return shift_math.totals(
            (
                shift_math.SaleFigure(s["payment_method"], int(s["grand_total"]), int(s["fee_total"]))
                for s in till.sales
                if before is None or s["created_at"] < before
            ),
            (
                shift_math.RefundFigure(r["method"], int(r["amount"]))
                for r in till.refunds
                if before is None or r["created_at"] < before
            ),
            (
                shift_math.Movement("pay_in", int(shift["drawer_pay_ins"])),
                shift_math.Movement("pay_out", int(shift["drawer_pay_outs"])),
            ),
        )

    def _afternoon(self, shop: Shop, day: date) -> datetime:
        rng = self.rng
        return shop.local(day, rng.randint(12, 17), rng.randrange(60), rng.randrange(60), rng.randrange(1000))

    def _movement(self, shop: Shop, till: Till, kind: str, at: datetime) -> None:
        """A pay-in or pay-out, counted on the drawer as the shift service counts it (a pay-out only
        when the drawer holds it then)."""
        rng, ids, shift = self.rng, self.ids, till.shift
        if kind == "pay_out":
            amount = rng.choice((10_000, 15_000, 25_000, 40_000, 50_000))
            reason = rng.choice(PAY_OUT_REASONS)
            if amount > shift_math.expected_cash(int(shift["cash_open"]), self._figures(till, at)):
                return
        else:
            amount = rng.choice((50_000, 100_000))
            reason = rng.choice(PAY_IN_REASONS)
        body = CashMovementIn(amount=amount, reason=reason)
        device = till.device
        key = ids.key()
        owner = f"{device['device_id']}:{till.cashier}"
        record_id = "cm_" + hashlib.sha256(f"{self.tenant_id}:{owner}:{key}".encode()).hexdigest()[:40]
        digest = hashlib.sha256(
            f"{kind}:{fingerprint(shop.store_id, str(device['device_id']), body)}".encode()
        ).hexdigest()
        movement_id = ids.ulid(at)
        shift["drawer_seq"] = int(shift["drawer_seq"]) + 1
        shift[f"drawer_{kind}s"] = int(shift[f"drawer_{kind}s"]) + amount
        shift.setdefault("drawer_moves", {})[movement_id] = amount
        shown = {**shift, "totals": shift_service._totals_dict(self._figures(till, at)), "snapshots": []}
        self.batch.movements.append(
            {
                "_id": record_id,
                "movement_id": movement_id,
                "idempotency_key": f"{owner}:{key}",
                "fingerprint": digest,
                "shift_id": shift["shift_id"],
                "store_id": shop.store_id,
                "kind": kind,
                "amount": amount,
                "reason": reason,
                "at": at,
                "by": till.cashier,
                "status": "applied",
                "lease_until": at + shift_service.MOVEMENT_LEASE,
                "response": ShiftRead.model_validate(shown).model_dump(mode="json"),
            }
        )
        till.touch(at)

    def _close(self, shop: Shop, day: date, till: Till) -> None:
        """The cashier counts the drawer after the last customer: mostly exact, now and then a
        little short or over."""
        rng, shift = self.rng, till.shift
        moves = [(self._afternoon(shop, day), kind) for kind, rate in MOVES if rng.random() < rate]
        for at, kind in sorted(moves):
            self._movement(shop, till, kind, at)
        close_at = shop.local(day, 20, 5 + rng.randrange(25), rng.randrange(60), rng.randrange(1000))
        if till.last_at is not None and till.last_at + timedelta(minutes=3) > close_at:
            close_at = till.last_at + _ms(rng.uniform(180, 600))
        figures = self._figures(till)
        expected = shift_math.expected_cash(int(shift["cash_open"]), figures)
        roll = rng.random()
        if roll < 0.8:
            off = 0
        elif roll < 0.97:
            off = rng.choice((-1, 1)) * rng.choice((100, 500, 1_000, 2_000, 5_000))
        else:
            off = -rng.choice((10_000, 20_000, 50_000))
        counted = max(0, expected + off)
        closer = till.cashier if rng.random() < 0.9 else shop.approvers[0]
        totals = shift_service._totals_dict(figures)
        snapshot = {
            "shift_id": shift["shift_id"],
            "store_id": shop.store_id,
            "version": 1,
            "at": close_at + _ms(rng.uniform(0.05, 0.3)),
            "by": closer,
            "reason": "close",
            "cash_counted": counted,
            "cash_expected": expected,
            "cash_diff": shift_math.cash_difference(counted, expected),
            "totals": totals,
        }
        shift.update(
            status="closed",
            open_slot=shift["shift_id"],
            closed_by=closer,
            close_at=close_at,
            cash_counted=counted,
            cash_expected=expected,
            cash_diff=snapshot["cash_diff"],
            totals=totals,
            finalized=True,
        )
        self.batch.shifts.append(shift)
        self.batch.snapshots.append(snapshot)


# ---- the run --------------------------------------------------------------------------------------


class HistoryRecords(Records):
    """A generated day as the rebuild's records, replayed by its own rules (nothing is read)."""

    def __init__(
        self, deps: Deps, tenant_id: str, zones: dict[str, str], hours: dict[str, Any], batch: Batch
    ) -> None:
        super().__init__(deps, tenant_id)
        self.zones = dict(zones)
        self.hours = dict(hours)
        self.approvers = {str(a["approval_id"]): str(a["approver_id"]) for a in batch.approvals}
        self.sales = batch.sales
        self.tickets = {str(t["ticket_id"]): t for t in batch.tickets}
        self.refunds = batch.refunds
        self.reprints = batch.reprints
        self.redemptions = batch.redemptions
        self.shifts = batch.shifts
        self.written = {}


async def _records_filled(deps: Deps) -> bool:
    """Whether the rebuild's records are still the ones the history fills (see RECORDS_FILLED): the
    records of no tenant at all, loaded, name their attributes."""
    probe = Records(deps, "")
    await probe.load()
    return set(vars(probe)) <= RECORDS_FILLED


def _is_figure(value: Any) -> bool:
    """A summary's figures are its integers; every other field says what the document is."""
    return isinstance(value, int) and not isinstance(value, bool)


def _add(into: dict[str, Document], docs: dict[str, Document]) -> None:
    for summary_id, doc in docs.items():
        known = into.get(summary_id)
        if known is None:
            into[summary_id] = doc
            continue
        for name, value in doc.items():
            known[name] = int(known.get(name, 0)) + value if _is_figure(value) else value


def _recode(docs: Iterable[Any], ticket_id: str, code: str) -> None:
    """A ticket's new short code, wherever a view or plan of it is held."""
    for value in docs:
        if isinstance(value, dict):
            if value.get("ticket_id") == ticket_id and "short_code" in value:
                value["short_code"] = code
            _recode(value.values(), ticket_id, code)
        elif isinstance(value, list):
            _recode(value, ticket_id, code)


@dataclass
class Claim:
    """The marker as this run found it: done (its counts), or this run's to write."""

    counts: dict[str, int] | None = None
    first_day: date | None = None
    last_day: date | None = None
    resumed: bool = False


class Seeder:
    def __init__(self, deps: Deps, tenant_id: str, days: int, sales_per_day: int, stores: int) -> None:
        self.deps = deps
        self.tenant_id = tenant_id
        self.days = days
        self.sales_per_day = sales_per_day
        self.stores = stores
        self.scope = Scope(tenant_id)
        self.key = marker_key(tenant_id, days, sales_per_day, stores)
        self.owner = f"history:{uuid.uuid4().hex}"
        self.markers = MarkerRepository(deps.db, self.scope)
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "days",
                "stores",
                "devices",
                "sales",
                "tickets",
                "redemptions",
                "refunds",
                "reprints",
                "approvals",
                "shifts",
                "cash_movements",
                "summaries",
            ),
            0,
        )
        self.summaries: dict[str, Document] = {}
        self.turn: TenantPass | None = None  # the tenant's report lease, while it is held
        self.beaten = 0.0
        self.passed: list[str] = []
        self.still_valid: dict[str, list[str]] = {}

    # -- the marker ------------------------------------------------------------------------------

    async def claim(self, first_day: date, last_day: date) -> Claim:
        now = self.deps.clock.now()
        found = await self.markers.find_one({"_id": self.key}, with_id=True)
        if found is None:
            try:
                await self.markers.insert(
                    {
                        "_id": self.key,
                        "status": "writing",
                        "owner": self.owner,
                        "lease_until": now + MARKER_LEASE,
                        "days": self.days,
                        "sales_per_day": self.sales_per_day,
                        "stores": self.stores,
                        "first_day": first_day.isoformat(),
                        "last_day": last_day.isoformat(),
                        "started_at": now,
                    }
                )
            except DuplicateKeyError:
                found = await self.markers.find_one({"_id": self.key}, with_id=True)
            else:
                return Claim(None, first_day, last_day)
        assert found is not None
        if found["status"] == "done":
            return Claim(counts={k: int(v) for k, v in found["counts"].items()})
        if found["lease_until"] > now:
            raise HistoryBusy(f"the history {self.key} is being written by another run; try again later")
        taken = await self.markers.find_one_and_update(
            {"_id": self.key, "status": "writing", "lease_until": found["lease_until"]},
            {"$set": {"owner": self.owner, "lease_until": now + MARKER_LEASE}},
        )
        if taken is None:
            raise HistoryBusy(f"the history {self.key} was just taken over by another run")
        return Claim(
            None, date.fromisoformat(found["first_day"]), date.fromisoformat(found["last_day"]), resumed=True
        )

    async def renew(self) -> None:
        until = self.deps.clock.now() + MARKER_LEASE
        if not await self.markers.update_one(
            {"_id": self.key, "owner": self.owner}, {"$set": {"lease_until": until}}
        ):
            raise HistoryBusy(f"the history {self.key} was taken over by another run")

    async def finish(self) -> None:
        await self.markers.update_one(
            {"_id": self.key, "owner": self.owner},
            {"$set": {"status": "done", "counts": self.counts, "finished_at": self.deps.clock.now()}},
        )

    # -- the cast --------------------------------------------------------------------------------

    async def cast(self, tenant: Document, since: datetime) -> list[Shop]:
        deps, tenant_id = self.deps, self.tenant_id
        owner = await _owner(deps, tenant_id)
        if tenant_id == DEMO_TENANT_ID:
            await _demo_zone_package(deps, owner)
        domain = "demo.test" if tenant_id == DEMO_TENANT_ID else f"h{tenant_id.lower()}.test"
        shops = []
        stores = await _stores(deps, tenant, self.stores, since)
        for index, store in enumerate(stores):
            values = (await settings_service.effective(deps, tenant_id, str(store["store_id"])))["values"]
            zones = list(values.get("zones") or [])
            tills = tills_for(self.sales_per_day)
            pos, gates = await _devices(deps, tenant_id, store, zones, since, tills)
            cashiers, supervisors = await _people(deps, owner, store, index, domain, tills)
            approvers = [*supervisors, str(owner.employee_id)]
            shops.append(await _shop(deps, tenant_id, store, pos, gates, cashiers, approvers))
            self.counts["devices"] += len(pos) + len(gates)
        self.counts["stores"] = len(shops)
        return shops

    # -- writing ---------------------------------------------------------------------------------

    async def beat(self) -> None:
        """Keep the marker's lease and the tenant's report lease while writing (every few seconds
        of work, however long a day takes)."""
        if self.turn is None or monotonic() - self.beaten < HEARTBEAT_SECONDS:
            return
        self.beaten = monotonic()
        await self.renew()
        if not await self.turn.keep():
            raise HistoryBusy(f"tenant {self.tenant_id}: the report lease was lost while seeding")

    async def insert(self, repo: ScopedRepository, docs: Sequence[Document]) -> list[Document]:
        """Insert in batches; a document whose unique key is already there is returned (none is left
        out silently: the caller decides), anything else raises."""
        refused: list[Document] = []
        for start in range(0, len(docs), BATCH):
            chunk = docs[start : start + BATCH]
            try:
                await repo.insert_many(list(chunk))
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors") or []
                if any(e.get("code") != 11000 for e in errors):
                    raise
                refused += [chunk[int(e["index"])] for e in errors]
            await self.beat()
        return refused

    async def write(self, batch: Batch, ids: Ids) -> None:
        db, scope = self.deps.db, self.scope
        await self._write_tickets(batch, ids)
        # Several writes in flight: the server takes the next while this process encodes another.
        await asyncio.gather(
            self.insert(SaleRepository(db, scope), batch.sales),
            self.insert(RedemptionRepository(db, scope), batch.redemptions),
            self.insert(ApprovalRepository(db, scope), batch.approvals),
        )
        await asyncio.gather(
            self.insert(RefundRepository(db, scope), batch.refunds),
            self.insert(ReprintRepository(db, scope), batch.reprints),
            self.insert(ShiftRepository(db, scope), batch.shifts),
            self.insert(SnapshotRepository(db, scope), batch.snapshots),
            self.insert(MovementRepository(db, scope), batch.movements),
        )
        for name, docs in (
            ("sales", batch.sales),
            ("tickets", batch.tickets),
            ("redemptions", batch.redemptions),
            ("refunds", batch.refunds),
            ("reprints", batch.reprints),
            ("approvals", batch.approvals),
            ("shifts", batch.shifts),
            ("cash_movements", batch.movements),
        ):
            self.counts[name] += len(docs)
        now = self.deps.clock.now()
        for ticket in batch.tickets:
            if ticket["status"] == "active" and ticket["valid_to"] > now:
                self.still_valid.setdefault(str(ticket["store_id"]), []).append(str(ticket["ticket_id"]))

    async def _write_tickets(self, batch: Batch, ids: Ids) -> None:
        """Tickets first (as a sale writes them before completing). One already stored under its id
        is this history's own (a run taken over); one whose short code another ticket holds draws
        a new code, in its sale's plan and every view of it, before those are written."""
        repo = TicketRepository(self.deps.db, self.scope)
        todo = batch.tickets
        for _ in range(5):
            refused = await self.insert(repo, todo)
            if not refused:
                return
            mine = {
                str(t["_id"])
                for t in await repo.find_many({"_id": {"$in": [t["_id"] for t in refused]}}, with_id=True)
            }
            todo = [t for t in refused if str(t["_id"]) not in mine]
            for ticket in todo:
                code = ids.short_code()
                _recode(
                    [ticket, *batch.sales, *batch.refunds, *batch.reprints], str(ticket["ticket_id"]), code
                )
        if todo:
            raise RuntimeError("could not find free short codes for the history's tickets")

    def count_summaries(self, shops: list[Shop], batch: Batch) -> None:
        zones = {s.store_id: s.tz for s in shops}
        hours = {s.store_id: week_hours(s.values.get("hours")) for s in shops}
        records = HistoryRecords(self.deps, self.tenant_id, zones, hours, batch)
        docs, passed, _ = fold(self.tenant_id, records.replay(), set())
        _add(self.summaries, docs)
        self.passed += passed

    async def add_summaries(self) -> None:
        """Each folded summary added to the stored one (made when missing, counted from nothing
        by the projection: `upto` 0)."""
        changes: list[tuple[Any, dict[str, Any]]] = []
        for summary_id, doc in self.summaries.items():
            update: dict[str, Any] = {
                "$set": {k: v for k, v in doc.items() if not _is_figure(v)},
                "$setOnInsert": {"upto": 0},
            }
            figures = {k: v for k, v in doc.items() if _is_figure(v)}
            if figures:
                update["$inc"] = figures
            changes.append((summary_id, update))
        summaries = SummaryRepository(self.deps.db, self.scope)
        for start in range(0, len(changes), BATCH):
            await summaries.update_many_by_id(changes[start : start + BATCH], upsert=True)
            await self.beat()
        self.counts["summaries"] = len(changes)

    async def mark_first_passes(self) -> None:
        """The tickets the history counted as redeemed: their first PASS is taken (by no event), as
        a rebuild marks them, so a later PASS of one is not counted as its first."""
        marks = MarkRepository(self.deps.db, self.scope)
        docs = [
            {"_id": marks._id(t), "tenant_id": self.tenant_id, "ticket_id": t, "seq": 0} for t in self.passed
        ]
        for start in range(0, len(docs), BATCH):
            try:
                await marks.insert_many(docs[start : start + BATCH])
            except BulkWriteError as exc:
                if any(e.get("code") != 11000 for e in exc.details.get("writeErrors") or []):
                    raise
            await self.beat()

    async def note_for_gates(self) -> None:
        """Tickets still usable go in their store's gate journal, so a running API's allow-lists
        learn of them (as a sale notes its tickets)."""
        for store_id, ticket_ids in self.still_valid.items():
            for start in range(0, len(ticket_ids), changes.KEEP):
                await changes.note(
                    self.deps.db, self.tenant_id, store_id, ticket_ids[start : start + changes.KEEP]
                )

    # -- the whole run ---------------------------------------------------------------------------

    def _make(self, maker: DayMaker, shops: list[Shop], day: date, fold_it: bool) -> Batch:
        batch = maker.day(day)
        if fold_it:
            self.count_summaries(shops, batch)
        return batch

    async def _pipeline(
        self,
        maker: DayMaker,
        shops: list[Shop],
        days: list[date],
        fold_it: bool,
        recode: Ids,
    ) -> None:
        """Each day is drawn (and folded) in a worker thread while the day before is written: the
        database server works in its own process meanwhile."""

        def draw(day: date) -> asyncio.Future[Batch]:
            return asyncio.ensure_future(asyncio.to_thread(self._make, maker, shops, day, fold_it))

        coming = draw(days[0])
        try:
            for n in range(len(days)):
                batch = await coming
                if n + 1 < len(days):
                    coming = draw(days[n + 1])
                await self.write(batch, recode)
                self.counts["days"] += 1
                await self.beat()
        finally:
            coming.cancel()  # a run stopped meanwhile: the day being drawn is dropped

    async def run(self, today: date | None) -> dict[str, int]:
        deps = self.deps
        tenant = await TenantRepository(deps.db, self.scope).find_one({"tenant_id": self.tenant_id})
        if tenant is None:
            raise LookupError(f"tenant {self.tenant_id} not found")
        tz = str(tenant.get("tz") or deps.settings.tz)
        today = today or deps.clock.now().astimezone(ZoneInfo(tz)).date()
        claim = await self.claim(today - timedelta(days=self.days), today - timedelta(days=1))
        if claim.counts is not None:
            return claim.counts
        assert claim.first_day is not None
        assert claim.last_day is not None
        first_day, last_day = claim.first_day, claim.last_day
        await rebuild_if_never_projected(deps, self.tenant_id)  # older records get their summaries first
        since = datetime.combine(first_day - timedelta(days=7), time(8), ZoneInfo(tz)).astimezone(UTC)
        shops = await self.cast(tenant, since)
        fast = not claim.resumed and await _records_filled(deps)
        seed = f"{self.tenant_id}|{self.days}|{self.sales_per_day}|{self.stores}|{first_day.isoformat()}"
        rng = random.Random(seed)
        ids = Ids(rng)
        ring = await key_store.load(deps.db, deps.settings)
        maker = DayMaker(
            self.tenant_id, shops, ring, rng, ids, self.sales_per_day, last_day + timedelta(days=1)
        )
        turn = self.turn = TenantPass(deps, self.tenant_id, self.owner)
        await _hold(turn)
        try:
            days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
            recode = Ids(random.Random(f"{seed}|recode"), ids.codes)
            await self._pipeline(maker, shops, days, fast, recode)
            if fast:
                await self.add_summaries()
                await self.mark_first_passes()
        finally:
            self.turn = None
            await turn.release()
        if not fast:
            rebuilt = await rebuild_tenant(
                deps, self.tenant_id, first_day=first_day.isoformat(), last_day=last_day.isoformat()
            )
            self.counts["summaries"] = rebuilt.written
        await self.note_for_gates()
        await self.finish()
        return dict(self.counts)


async def _hold(turn: TenantPass) -> None:
    """The tenant's report lease (a projection pass or a rebuild holding it finishes first)."""
    waited = 0.0
    while await turn.take() is None:
        if waited >= TENANT_LEASE.total_seconds() * 2:
            raise HistoryBusy(f"tenant {turn.tenant_id}: the report projector's lease stays taken")
        await asyncio.sleep(0.5)
        waited += 0.5


async def seed_history(
    deps: Deps,
    *,
    tenant_id: str = DEMO_TENANT_ID,
    days: int = DEFAULT_DAYS,
    sales_per_day: int = DEFAULT_SALES_PER_DAY,
    stores: int = 1,
    today: date | None = None,
) -> dict[str, int]:
    """Seed `days` local days ending yesterday (`today`: the store's today by the clock) of
    `sales_per_day` sales a store (on average: weekends busier) in `stores` stores, once per tenant
    and parameters. Returns what was written (a second call: the first call's counts)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS}")
    if not 0 <= sales_per_day <= MAX_SALES_PER_DAY:
        raise ValueError(f"sales per day must be 0 to {MAX_SALES_PER_DAY}")
    if not 1 <= stores <= MAX_STORES:
        raise ValueError(f"stores must be 1 to {MAX_STORES}")
    return await Seeder(deps, tenant_id, days, sales_per_day, stores).run(today)
