"""The dashboard: one store's day so far, from a few indexed reads — never from raw sales or scans.

What it reads, whatever the length of the history:
- the report summaries (reports/summaries.py) of today and of the same weekday last week: the
  day's `sales` detail documents (per device, cashier and payment type: their sum is the sales
  report's total), the `throughput` rollup (scans by hour and FAIL reason) and the `sales_hour`
  rollup (sales by hour) — each one range on the indexed bucket of one store and day;
- the store's devices (tenant and store, indexed) and, for each till, its open shift (by the
  shift's `open_slot`, unique) with the figures the till itself shows (that shift's sales and
  refunds, by the indexed shift id) and the cashier's name (by id);
- the tenant's unresolved alerts (tenant and `open_slot`, indexed: only the open few).

Figures are as the projector has counted them: a sale shows here (as in the reports) within
seconds of being made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.errors import PyMongoError

from boxoffice.access.principal import Principal
from boxoffice.alerts.repository import (
    AlertRepository,
    devices_holding_ops_unscoped,
    unresolved_counts_unscoped,
)
from boxoffice.alerts.service import public as alert_public
from boxoffice.core.db import Database, Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import NotFound, PermissionDenied
from boxoffice.core.logging import get_logger
from boxoffice.core.metrics import Metrics
from boxoffice.core.repository import Scope
from boxoffice.reports import summaries as rules
from boxoffice.reports.repository import SummaryRepository
from boxoffice.reports.service import SALES_FIELDS
from boxoffice.sales import shift_math
from boxoffice.sales.repository import ShiftRepository
from boxoffice.sales.shifts import compute_totals
from boxoffice.settings import service as settings
from boxoffice.staff.repository import EmployeeRepository
from boxoffice.tenancy.repository import DeviceRepository, StoreRepository

log = get_logger(__name__)

PERMISSION = "reports_view"
#: A device seen this recently is online.
ONLINE_WITHIN = timedelta(minutes=5)
TOP_FAIL_REASONS = 5
LATEST_ALERTS = 5
#: Hourly sales figures (reports/summaries.py `sales_hour`).
HOUR_FIGURES = ("count", "gross", "net", "total")
DEVICE_FIELDS = {
    "_id": 0,
    "device_id": 1,
    "name": 1,
    "type": 1,
    "status": 1,
    "last_used_at": 1,
    "last_sync_at": 1,
    "bootstrap_at": 1,
    "contact_at": 1,
    "holding_ops": 1,
    "outbox_remaining": 1,
}

Sums = dict[str, int]


# ---- the store the viewer asked for -------------------------------------------------------------


async def viewer_stores(deps: Deps, principal: Principal) -> list[Document]:
    """The stores the viewer may see the dashboard of (reports_view), by name."""
    found = await StoreRepository(deps.db, principal.scope_with(PERMISSION)).find_many(
        projection={"_id": 0, "store_id": 1, "name": 1, "tz": 1}
    )
    return sorted(found, key=lambda s: (str(s.get("name") or ""), str(s["store_id"])))


def chosen_store(principal: Principal, stores: list[Document], store_id: str | None) -> Document:
    """The store asked for (refused unless the viewer holds reports_view there), else their first."""
    if store_id is None:
        if not stores:
            raise NotFound("No store to show.")
        return stores[0]
    if PERMISSION not in principal.permissions_at(store_id):
        raise PermissionDenied(f"This needs the {PERMISSION} permission at this store.")
    for store in stores:
        if store["store_id"] == store_id:
            return store
    raise NotFound("Store not found.")


# ---- figures ------------------------------------------------------------------------------------


def _add(into: Sums, doc: Mapping[str, Any], fields: Iterable[str]) -> None:
    for name in fields:
        into[name] = into.get(name, 0) + int(doc.get(name) or 0)


def sales_figures(s: Mapping[str, int]) -> dict[str, Any]:
    """As the sales report's totals row (reports/service.py `_sales_row`)."""
    row: dict[str, Any] = {name: int(s.get(name, 0)) for name in SALES_FIELDS}
    row["net_after_refunds"] = row["net"] - row["refunds"]
    row["taken_after_refunds"] = row["taken"] - row["refunds"]
    return row


def throughput_figures(scans: int, passes: int) -> dict[str, Any]:
    return {
        "scans": scans,
        "passes": passes,
        "fails": scans - passes,
        "pass_rate": round(passes / scans, 4) if scans else None,
    }


def hours_through(hour: int) -> list[str]:
    return [h for h in rules.HOURS if int(h) <= hour]


def fold_sales(details: list[Document]) -> tuple[Sums, dict[str, Sums]]:
    """The day's sales detail documents → (total, per payment type)."""
    total: Sums = {}
    by_type: dict[str, Sums] = {}
    for doc in details:
        _add(total, doc, SALES_FIELDS)
        _add(by_type.setdefault(str(doc.get("payment_type") or ""), {}), doc, SALES_FIELDS)
    return total, by_type


def hour_sums(doc: Mapping[str, Any] | None, hour: str) -> Sums:
    doc = doc or {}
    return {name: int(doc.get(f"h{hour}_{name}") or 0) for name in HOUR_FIGURES}


def throughput_by_now(doc: Mapping[str, Any] | None, hour: int) -> dict[str, Any]:
    doc = doc or {}
    scans = sum(int(doc.get(f"h{h}_scans") or 0) for h in hours_through(hour))
    passes = sum(int(doc.get(f"h{h}_passes") or 0) for h in hours_through(hour))
    return throughput_figures(scans, passes)


def fail_reasons(doc: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    found = {name[3:]: int(value or 0) for name, value in (doc or {}).items() if name.startswith("fr_")}
    top = sorted(((r, n) for r, n in found.items() if n), key=lambda item: (-item[1], item[0]))
    return [{"reason": r, "count": n} for r, n in top[:TOP_FAIL_REASONS]]


def device_state(device: Mapping[str, Any], now: datetime) -> tuple[str, datetime | None]:
    seen = [device.get(k) for k in ("last_used_at", "last_sync_at", "bootstrap_at")]
    last_seen = max((t for t in seen if isinstance(t, datetime)), default=None)
    status = str(device.get("status"))
    if status in ("suspended", "pending"):
        return status, last_seen
    online = last_seen is not None and now - last_seen <= ONLINE_WITHIN
    return ("online" if online else "offline"), last_seen


# ---- the reads ----------------------------------------------------------------------------------


class Board:
    """One store's dashboard for one viewer."""

    def __init__(self, deps: Deps, principal: Principal, store: Document) -> None:
        self.deps = deps
        self.principal = principal
        self.store = store
        self.store_id = str(store["store_id"])
        self.tz = str(store.get("tz") or deps.settings.tz)
        self.scope = Scope(principal.tenant_id)  # the store is checked: reads name it by equality
        self.now = deps.clock.now()
        local = self.now.astimezone(ZoneInfo(self.tz))
        self.hour = local.hour
        self.day = local.date()
        self.compare = self.day - timedelta(days=7)

    async def _summary(self, family: str, day: date, *, rollup: bool) -> list[Document]:
        repo = SummaryRepository(self.deps.db, self.scope)
        return await repo.in_periods(family, [self.store_id], day.isoformat(), day.isoformat(), rollup=rollup)

    async def _one(self, family: str, day: date) -> Document | None:
        found = await self._summary(family, day, rollup=True)
        return found[0] if found else None

    async def sales(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        today, today_types = fold_sales(await self._summary("sales", self.day, rollup=False))
        before, before_types = fold_sales(await self._summary("sales", self.compare, rollup=False))
        hourly_today = await self._one("sales_hour", self.day)
        hourly_before = await self._one("sales_hour", self.compare)
        by_now: Sums = {}
        for hour in hours_through(self.hour):
            _add(by_now, hour_sums(hourly_before, hour), HOUR_FIGURES)
        types = sorted(set(today_types) | set(before_types))
        labels = await self.payment_labels() if types else {}
        sales = {
            "today": sales_figures(today),
            "last_week_by_now": {name: by_now.get(name, 0) for name in HOUR_FIGURES},
            "last_week": sales_figures(before),
            "by_payment_type": [
                {
                    "payment_type": t,
                    "label": labels.get(t),
                    "today": sales_figures(today_types.get(t, {})),
                    "last_week": sales_figures(before_types.get(t, {})),
                }
                for t in types
            ],
        }
        hours = [
            {"hour": h, "today": hour_sums(hourly_today, h), "last_week": hour_sums(hourly_before, h)}
            for h in rules.HOURS
        ]
        return sales, hours

    async def payment_labels(self) -> dict[str, str]:
        values = (await settings.effective(self.deps, self.principal.tenant_id, self.store_id))["values"]
        return {str(p["code"]): str(p["name"]) for p in values.get("payment_types") or []}

    async def redemptions(self) -> dict[str, Any]:
        today = await self._one("throughput", self.day)
        before = await self._one("throughput", self.compare)

        def whole(doc: Document | None) -> dict[str, Any]:
            return throughput_figures(int((doc or {}).get("scans") or 0), int((doc or {}).get("passes") or 0))

        return {
            "today": whole(today),
            "last_week_by_now": throughput_by_now(before, self.hour),
            "last_week": whole(before),
            "top_fail_reasons": fail_reasons(today),
        }

    async def devices(self) -> list[Document]:
        found = await DeviceRepository(self.deps.db, self.scope).find_many(
            {"store_id": {"$eq": self.store_id}}, projection=DEVICE_FIELDS
        )
        return [d for d in found if d.get("status") != "revoked"]

    def device_board(self, devices: list[Document]) -> dict[str, Any]:
        items = []
        for device in devices:
            state, last_seen = device_state(device, self.now)
            remaining = int(device.get("outbox_remaining") or 0)
            items.append(
                {
                    "device_id": device["device_id"],
                    "name": str(device.get("name") or ""),
                    "type": str(device.get("type") or ""),
                    "status": str(device.get("status") or ""),
                    "state": state,
                    "last_seen_at": last_seen,
                    "holding_ops": bool(device.get("holding_ops")) or remaining > 0,
                    "outbox_remaining": remaining,
                    "last_sync_at": device.get("last_sync_at"),
                }
            )
        items.sort(key=lambda d: (d["name"], d["device_id"]))
        counts = {
            s: sum(1 for d in items if d["state"] == s) for s in ("online", "offline", "suspended", "pending")
        }
        return {**counts, "holding_ops": sum(1 for d in items if d["holding_ops"]), "items": items}

    async def open_shifts(self, devices: list[Document]) -> list[dict[str, Any]]:
        shifts = ShiftRepository(self.deps.db, self.scope)
        employees = EmployeeRepository(self.deps.db, self.scope)
        names: dict[str, str | None] = {}
        found = []
        for device in devices:
            if device.get("type") == "GATE":
                continue
            shift = await shifts.open_for(str(device["device_id"]))
            if shift is None or shift.get("store_id") != self.store_id:
                continue
            cashier = shift.get("opened_by")
            if cashier and cashier not in names:
                person = await employees.find_one({"employee_id": cashier}, {"_id": 0, "name": 1})
                names[cashier] = str(person["name"]) if person else None
            figures = await compute_totals(self.deps, self.principal.tenant_id, str(shift["shift_id"]))
            found.append(
                {
                    "shift_id": shift["shift_id"],
                    "device_id": device["device_id"],
                    "device_name": str(device.get("name") or ""),
                    "cashier_id": cashier,
                    "cashier_name": names.get(cashier) if cashier else None,
                    "opened_at": shift["open_at"],
                    "cash_open": int(shift["cash_open"]),
                    "expected_cash": shift_math.expected_cash(int(shift["cash_open"]), figures),
                    "sales_count": figures.sales_count,
                    "sales_total": figures.sales_total,
                }
            )
        return sorted(found, key=lambda s: (s["opened_at"], s["shift_id"]))

    async def alerts(self) -> dict[str, Any]:
        every_store = self.principal.stores_with(PERMISSION) is None
        unresolved = [
            a
            for a in await AlertRepository(self.deps.db, self.scope).unresolved()
            if a.get("store_id") == self.store_id or (a.get("store_id") is None and every_store)
        ]
        kinds: dict[str, int] = {}
        for alert in unresolved:
            kinds[str(alert["kind"])] = kinds.get(str(alert["kind"]), 0) + 1
        return {
            "open": len(unresolved),
            "unacknowledged": sum(1 for a in unresolved if a.get("status") == "open"),
            "by_kind": [
                {"kind": k, "count": n}
                for k, n in sorted(kinds.items(), key=lambda item: (-item[1], item[0]))
            ],
            "latest": [alert_public(a) for a in unresolved[:LATEST_ALERTS]],
        }

    async def answer(self, stores: list[Document]) -> dict[str, Any]:
        sales, hours = await self.sales()
        devices = await self.devices()
        until = f"{self.hour + 1:02d}:00"
        return {
            "store": {"store_id": self.store_id, "name": str(self.store.get("name") or ""), "tz": self.tz},
            "stores": [{"store_id": s["store_id"], "name": str(s.get("name") or "")} for s in stores],
            "as_of": self.now,
            "day": self.day.isoformat(),
            "compare_day": self.compare.isoformat(),
            "compare_until": until,
            "sales": sales,
            "redemptions": await self.redemptions(),
            "open_shifts": await self.open_shifts(devices),
            "devices": self.device_board(devices),
            "alerts": await self.alerts(),
            "hours": hours,
        }


async def dashboard(deps: Deps, principal: Principal, store_id: str | None) -> dict[str, Any]:
    stores = await viewer_stores(deps, principal)
    store = chosen_store(principal, stores, store_id)
    return await Board(deps, principal, store).answer(stores)


# ---- /metrics: figures read when scraped --------------------------------------------------------


async def scrape_gauges(db: Database, metrics: Metrics) -> None:
    """The offline backlog and open alerts, read when Prometheus scrapes (two indexed reads of the
    few devices holding ops and alerts still open); the last values stand if the database is away."""
    try:
        holding = await devices_holding_ops_unscoped(db)
        counts = await unresolved_counts_unscoped(db)
    except PyMongoError as exc:
        log.warning("metrics_gauges_stale", reason=type(exc).__name__)
        return
    live = [d for d in holding if d.get("status") != "revoked"]
    metrics.set_backlog(sum(int(d.get("outbox_remaining") or 0) for d in live), len(live))
    metrics.set_open_alerts(counts)
