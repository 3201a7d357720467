"""Report reading: summaries of the chosen stores and local days → rows and a totals row.

Reads only summary documents (and, for the shifts report, the shifts they name, by id): never raw
records, never aggregation. Grouping and filtering by dimension happen here, on the few documents
a range of days holds; an unfiltered report by day, store (or hour and reason, for throughput) reads
the one-per-day rollups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from boxoffice.access.principal import Principal
from boxoffice.catalog.repository import PackageRepository
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import ValidationFailed
from boxoffice.core.repository import Scope, ScopedRepository
from boxoffice.reports import summaries as rules
from boxoffice.reports.repository import SummaryRepository
from boxoffice.settings.repository import TENANT_LEVEL, SettingsRepository
from boxoffice.settings.rules import resolve
from boxoffice.staff.repository import EmployeeRepository
from boxoffice.tenancy.repository import DeviceRepository, StoreRepository

PERMISSION = "reports_view"
#: A gate's failure reasons in words (the throughput report's reasons are these, not settings codes).
SCAN_REASON_LABELS = {
    "invalid_sig": "Invalid QR code",
    "expired": "Expired",
    "refunded": "Refunded",
    "cancelled": "Cancelled",
    "not_started": "Not valid yet",
    "wrong_device": "Wrong gate",
    "duplicate_use": "Used again",
    "exhausted": "No uses left",
    "unknown": "Unknown",
}
#: The longest range one report reads (a year and a leap day, and then some).
MAX_DAYS = 400
#: Groupings that list records one by one, and the longest range they list: a year of ten stores'
#: shifts is 8,000 rows, more than a page or a phone shows (group a longer range by day, store…).
LISTED_MAX_DAYS = {"shift": 92}
#: A filter's query name → the summary field it compares.
FILTERS = {
    "store_id": "store_id",
    "device_id": "device_id",
    "employee_id": "employee_id",
    "approver_id": "approver_id",
    "package_id": "package_id",
    "zone": "zone",
    "payment_type": "payment_type",
    "reason": "reason",
}
#: A `group_by` value → the summary field it groups on.
GROUP_FIELDS = {
    "day": "day",
    "store": "store_id",
    "device": "device_id",
    "employee": "employee_id",
    "approver": "approver_id",
    "package": "package_id",
    "zone": "zone",
    "payment_type": "payment_type",
    "reason": "reason",
    "shift": "shift_id",
}


@dataclass(frozen=True)
class Query:
    first_day: date
    last_day: date
    group_by: str
    filters: Mapping[str, str]  # query name → value (only those given)

    @property
    def days(self) -> list[str]:
        return rules.days_between(self.first_day, self.last_day)


@dataclass(frozen=True)
class Report:
    name: str
    group_bys: tuple[str, ...]
    filters: tuple[str, ...]
    default_group: str = "day"


REPORTS: dict[str, Report] = {
    "sales": Report(
        "sales",
        ("day", "store", "device", "employee", "payment_type", "package"),
        ("store_id", "device_id", "employee_id", "payment_type", "package_id"),
    ),
    "shifts": Report(
        "shifts",
        ("shift", "day", "store", "device", "employee"),
        ("store_id", "device_id", "employee_id"),
        "shift",
    ),
    "tickets": Report("tickets", ("day", "store", "package", "zone"), ("store_id", "package_id", "zone")),
    "refunds": Report(
        "refunds",
        ("day", "store", "device", "employee", "approver", "reason", "payment_type"),
        ("store_id", "device_id", "employee_id", "approver_id", "reason", "payment_type"),
    ),
    "reprints": Report(
        "reprints",
        ("day", "store", "device", "employee", "approver", "reason"),
        ("store_id", "device_id", "employee_id", "approver_id", "reason"),
    ),
    "throughput": Report(
        "throughput", ("day", "hour", "store", "device", "zone", "reason"), ("store_id", "device_id", "zone")
    ),
}


def _bad(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"loc": ["query", name], "msg": message}])


def parse_query(
    report: Report, today: date, from_: str | None, to: str | None, group_by: str | None, **given: str | None
) -> Query:
    """Days are the store's local days, both ends included; the default is the last 7 days."""
    try:
        last = date.fromisoformat(to) if to else today
        first = date.fromisoformat(from_) if from_ else last - timedelta(days=6)
    except ValueError as exc:
        raise _bad("from" if from_ else "to", "Days are YYYY-MM-DD.") from exc
    if first > last:
        raise _bad("from", "from is after to.")
    if (last - first).days + 1 > MAX_DAYS:
        raise _bad("from", f"A report covers at most {MAX_DAYS} days.")
    group = group_by or report.default_group
    if group not in report.group_bys:
        raise _bad("group_by", f"The {report.name} report groups by {', '.join(report.group_bys)}.")
    listed = LISTED_MAX_DAYS.get(group)
    if listed is not None and (last - first).days + 1 > listed:
        others = ", ".join(g for g in report.group_bys if g != group)
        raise _bad(
            "group_by",
            f"One row per {group} covers at most {listed} days; group a longer range by {others}.",
        )
    filters = {name: value for name, value in given.items() if value is not None}
    unknown = sorted(set(filters) - set(report.filters))
    if unknown:
        raise _bad(unknown[0], f"The {report.name} report does not filter by {', '.join(unknown)}.")
    return Query(first, last, group, filters)


class Reader:
    """Reads one report for one caller: the stores they may report on, the days asked for."""

    def __init__(self, deps: Deps, principal: Principal) -> None:
        self.deps = deps
        self.scope = principal.scope_with(PERMISSION)
        self.summaries = SummaryRepository(deps.db, self.scope)
        self._stores: dict[str, str] | None = None
        self._store_names: dict[str, str] = {}

    async def stores(self) -> dict[str, str]:
        """The caller's stores and their time zones."""
        if self._stores is None:
            found = await StoreRepository(self.deps.db, self.scope).find_many(
                projection={"_id": 0, "store_id": 1, "tz": 1, "name": 1}
            )
            self._stores = {str(s["store_id"]): str(s.get("tz") or self.deps.settings.tz) for s in found}
            self._store_names = {str(s["store_id"]): str(s.get("name") or "") for s in found}
        return self._stores

    async def names(self, group_by: str, query: Query) -> dict[str, str]:
        """What the groups of a report grouped by `group_by` are called, in one read of the
        tenant's devices, employees, packages or settings (each by the indexed tenant prefix)."""
        if group_by == "store":
            await self.stores()
            return dict(self._store_names)
        if group_by == "device":
            return await self._names_of(DeviceRepository, "device_id")
        if group_by in ("employee", "approver"):  # a kiosk's sales name the kiosk as their seller
            devices = await self._names_of(DeviceRepository, "device_id")
            return {**devices, **await self._names_of(EmployeeRepository, "employee_id")}
        if group_by == "package":
            return await self._names_of(PackageRepository, "package_id")
        if group_by in ("zone", "reason", "payment_type"):
            return await self._setting_labels(group_by, query)
        return {}

    async def _names_of(self, repo: type[ScopedRepository], key: str) -> dict[str, str]:
        found = await repo(self.deps.db, Scope(self.scope.tenant_id)).find_many(
            projection={"_id": 0, key: 1, "name": 1}
        )
        return {str(d[key]): str(d["name"]) for d in found if d.get("name")}

    async def _setting_labels(self, group_by: str, query: Query) -> dict[str, str]:
        """Zones' names, reasons' and payment types' labels from the settings of the stores read
        (the first store naming a code wins), then the tenant's; a gate's failure reasons by their
        fixed words."""
        levels = {
            str(d.get("store_id") or ""): dict(d.get("values") or {})
            for d in await SettingsRepository(self.deps.db, Scope(self.scope.tenant_id)).find_many()
        }
        tenant_values = levels.get(TENANT_LEVEL, {})
        chosen = [query.filters["store_id"]] if "store_id" in query.filters else sorted(await self.stores())
        found: dict[str, str] = dict(SCAN_REASON_LABELS) if group_by == "reason" else {}
        section, key, name = {
            "zone": ("zones", "zone_id", "name"),
            "reason": ("reasons", "code", "label"),
            "payment_type": ("payment_types", "code", "name"),
        }[group_by]
        for store_id in [TENANT_LEVEL, *reversed(chosen)]:
            values, _ = resolve(tenant_values, levels.get(store_id, {}) if store_id else {})
            found |= {str(item[key]): str(item[name]) for item in values.get(section) or [] if item.get(name)}
        return found

    async def today(self) -> date:
        stores = await self.stores()
        tz = next(iter(stores.values()), self.deps.settings.tz)
        return date.fromisoformat(rules.local_day(self.deps.clock.now(), tz))

    async def docs(self, family: str, query: Query) -> list[Document]:
        """The summaries a query reads, from the family's smallest documents that still tell its
        groups and filters apart (`source`); by day when it groups by day, else the whole months
        inside the range from month documents and the days at its ends from day documents."""
        stores = await self.stores()
        chosen = [query.filters["store_id"]] if "store_id" in query.filters else sorted(stores)
        chosen = [s for s in chosen if s in stores]
        family, rollup = source(family, query)
        first, last = query.first_day.isoformat(), query.last_day.isoformat()
        if query.group_by == "day" or not rules.has_months(family, rollup):
            spans, months = [(first, last)], None
        else:
            spans, months = rules.split_range(query.first_day, query.last_day)
        found: list[Document] = []
        for low, high in spans:
            found += await self.summaries.in_periods(family, chosen, low, high, rollup=rollup)
        if months is not None:
            found += await self.summaries.in_periods(family, chosen, months[0], months[1], rollup=rollup)
        wanted = {FILTERS[name]: value for name, value in query.filters.items() if name != "store_id"}
        return [d for d in found if all(str(d.get(f, "")) == v for f, v in wanted.items())]


def source(family: str, query: Query) -> tuple[str, bool]:
    """Which documents of a family answer a query, as (family, rollup): the rollup when it groups
    and filters by no dimension, a view by the one dimension it groups or filters by, else the
    detail documents (summaries.VIEWS)."""
    dims = rules.FAMILY_DIMS[family]
    needed = {FILTERS[name] for name in query.filters if name != "store_id"}
    if GROUP_FIELDS.get(query.group_by) in dims:
        needed.add(GROUP_FIELDS[query.group_by])
    if not needed and family in rules.ROLLUP_FAMILIES:
        return family, True
    for keep in rules.VIEWS.get(family, ()):
        if keep and set(keep) == needed:
            return rules.view_family(family, keep), False
    return family, False


# ---- folding documents into rows ----------------------------------------------------------------

Sums = dict[str, int]


def _add(into: Sums, doc: Mapping[str, Any], fields: Iterable[str]) -> None:
    for name in fields:
        into[name] = into.get(name, 0) + int(doc.get(name) or 0)


def _grouped(
    docs: Iterable[Document], key: Callable[[Document], str], fields: tuple[str, ...]
) -> dict[str, Sums]:
    groups: dict[str, Sums] = {}
    for doc in docs:
        _add(groups.setdefault(key(doc), {}), doc, fields)
    return groups


def _rows(
    groups: dict[str, Sums], derive: Callable[[Sums], dict[str, Any]], *, all_keys: Iterable[str] = ()
) -> list[dict[str, Any]]:
    keys = sorted(set(groups) | set(all_keys))
    return [{"group": key, **derive(groups.get(key, {}))} for key in keys]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _key(group_by: str) -> Callable[[Document], str]:
    field = GROUP_FIELDS[group_by]
    return lambda doc: str(doc.get(field) or "")


def _answer(
    name: str,
    query: Query,
    docs: list[Document],
    fields: tuple[str, ...],
    derive: Callable[[Sums], dict[str, Any]],
) -> dict[str, Any]:
    groups = _grouped(docs, _key(query.group_by), fields)
    totals: Sums = {}
    for doc in docs:
        _add(totals, doc, fields)
    return {
        **_frame(name, query),
        "rows": _rows(groups, derive, all_keys=query.days if query.group_by == "day" else ()),
        "totals": derive(totals),
    }


def _frame(name: str, query: Query) -> dict[str, Any]:
    return {
        "report": name,
        "from_day": query.first_day.isoformat(),
        "to_day": query.last_day.isoformat(),
        "group_by": query.group_by,
        "filters": dict(query.filters),
    }


# ---- the reports --------------------------------------------------------------------------------

SALES_FIELDS = (
    "count",
    "gross",
    "discounts",
    "net",
    "taxes",
    "total",
    "fees",
    "taken",
    "refund_count",
    "refunds",
)


def _sales_row(s: Sums) -> dict[str, Any]:
    row: dict[str, Any] = {name: s.get(name, 0) for name in SALES_FIELDS}
    row["net_after_refunds"] = row["net"] - row["refunds"]
    row["taken_after_refunds"] = row["taken"] - row["refunds"]
    return row


async def sales(reader: Reader, query: Query) -> dict[str, Any]:
    """Count, gross, discounts, net, taxes, total, payment fees, what was taken, refunds, net and
    taken after refunds. By package (a filter or grouping) it reads the sale lines: a sale holding
    two packages counts once in each."""
    by_package = query.group_by == "package" or "package_id" in query.filters
    docs = await reader.docs("sales_pkg" if by_package else "sales", query)
    return _answer("sales", query, docs, SALES_FIELDS, _sales_row)


REFUND_FIELDS = ("count", "tickets", "amount")


async def refunds(reader: Reader, query: Query) -> dict[str, Any]:
    docs = await reader.docs("refunds", query)
    return _answer("refunds", query, docs, REFUND_FIELDS, lambda s: {n: s.get(n, 0) for n in REFUND_FIELDS})


async def reprints(reader: Reader, query: Query) -> dict[str, Any]:
    docs = await reader.docs("reprints", query)
    return _answer("reprints", query, docs, ("count",), lambda s: {"count": s.get("count", 0)})


def _throughput_row(s: Sums) -> dict[str, Any]:
    scans, passes = s.get("scans", 0), s.get("passes", 0)
    return {"scans": scans, "passes": passes, "fails": scans - passes, "pass_rate": _rate(passes, scans)}


def _failure_fields(docs: Iterable[Document]) -> dict[str, int]:
    found: dict[str, int] = {}
    for doc in docs:
        for name, value in doc.items():
            if name.startswith("fr_"):
                found[name[3:]] = found.get(name[3:], 0) + int(value or 0)
    return found


async def throughput(reader: Reader, query: Query) -> dict[str, Any]:
    """Scans, PASS and FAIL, the pass rate; by hour of the day (every hour listed), by failure
    reason (failures only), per gate and zone; and the period's top failure reasons."""
    docs = await reader.docs("throughput", query)
    totals: Sums = {}
    for doc in docs:
        _add(totals, doc, ("scans", "passes"))
    failures = _failure_fields(docs)
    if query.group_by == "hour":
        groups = {h: {"scans": 0, "passes": 0} for h in rules.HOURS}
        for doc in docs:
            for hour in rules.HOURS:
                groups[hour]["scans"] += int(doc.get(f"h{hour}_scans") or 0)
                groups[hour]["passes"] += int(doc.get(f"h{hour}_passes") or 0)
        rows = _rows(groups, _throughput_row)
    elif query.group_by == "reason":
        rows = _rows({r: {"scans": n, "passes": 0} for r, n in failures.items()}, _throughput_row)
    else:
        groups = _grouped(docs, _key(query.group_by), ("scans", "passes"))
        rows = _rows(groups, _throughput_row, all_keys=query.days if query.group_by == "day" else ())
    top = sorted(failures.items(), key=lambda item: (-item[1], item[0]))[:5]
    return {
        **_frame("throughput", query),
        "rows": rows,
        "totals": _throughput_row(totals),
        "top_failure_reasons": [{"reason": r, "count": n} for r, n in top if n],
    }


TICKET_FIELDS = ("issued", "redeemed", "uses", "refunded", "refunded_unused", "expired_unused", "value")


def _tickets_row(s: Sums) -> dict[str, Any]:
    return {
        "issued": s.get("issued", 0),
        "redeemed": s.get("redeemed", 0),
        "redemption_rate": _rate(s.get("redeemed", 0), s.get("issued", 0)),
        "uses": s.get("uses", 0),
        "refunded": s.get("refunded", 0),
        "expired_unused": s.get("expired_unused", 0),
        "value": s.get("value", 0),
    }


def _zone_row(s: Sums) -> dict[str, Any]:
    return {
        "issued": None,
        "redeemed": None,
        "redemption_rate": None,
        "uses": s.get("uses", 0),
        "refunded": None,
        "expired_unused": None,
        "value": None,
    }


async def tickets(reader: Reader, query: Query) -> dict[str, Any]:
    """Tickets by the day they were sold (and store, package): issued, redeemed at least once, the
    rate, uses consumed (PASS scans, whenever made), refunded, and expired unused (their last valid
    day is past, never used, not refunded unused). By zone (a filter or grouping) only uses can be
    told: they are read from the scans, by the day of the scan."""
    if query.group_by == "zone" or "zone" in query.filters:
        docs = await reader.docs("ticket_zones", query)
        return _answer("tickets", query, docs, ("uses",), _zone_row)
    docs = await reader.docs("tickets", query)
    stores = await reader.stores()
    now = reader.deps.clock.now()
    today = {store: rules.local_day(now, tz) for store, tz in stores.items()}
    counted = [
        {**doc, "expired_unused": rules.expired_unused(doc, today.get(str(doc["store_id"]), ""))}
        for doc in docs
    ]
    return _answer("tickets", query, counted, TICKET_FIELDS, _tickets_row)


SHIFT_FIELDS = ("shifts", *rules.SHIFT_FIGURES, "reprints")


async def shifts(reader: Reader, query: Query) -> dict[str, Any]:
    """Shifts by the day they opened: how many closed, and their float, cash sales and refunds,
    pay-ins and -outs, expected, counted, the difference (as they stand: a corrected count
    included), and the reprints made on them. One row per shift unless grouped otherwise; a shift
    still open is listed only when it has reprints (its cash figures come at close). Every figure
    is on the summaries, so a year of shifts grouped by store reads a few hundred documents."""
    docs = [{**d, "shifts": int(d.get("closes") or 0)} for d in await reader.docs("shifts", query)]
    answer = _answer("shifts", query, docs, SHIFT_FIELDS, lambda s: {n: s.get(n, 0) for n in SHIFT_FIELDS})
    if query.group_by == "shift":
        by_id = {str(d["shift_id"]): d for d in docs}
        for row in answer["rows"]:
            summary = by_id[row["group"]]
            row.update(
                device_id=summary.get("device_id"),
                opened_by=summary.get("employee_id"),
                closed_by=summary.get("closed_by"),
                open_at=summary.get("open_at"),
                close_at=summary.get("close_at"),
            )
    return answer


async def label_rows(reader: Reader, query: Query, answer: dict[str, Any]) -> dict[str, Any]:
    """Name every row's group (one lookup for the report, not one per row); a shift by its POS and
    who opened it."""
    if query.group_by == "shift":
        names = await reader.names("employee", query)  # people and devices
        for row in answer["rows"]:
            parts = (names.get(str(row.get(k) or "")) for k in ("device_id", "opened_by"))
            row["label"] = " · ".join(p for p in parts if p) or None
        return answer
    names = await reader.names(query.group_by, query)
    for row in answer["rows"]:
        row["label"] = names.get(row["group"]) if row["group"] else None
    return answer


async def read(reader: Reader, name: str, query: Query) -> dict[str, Any]:
    """One report, its rows named."""
    answer: dict[str, Any] = await READERS[name](reader, query)
    return await label_rows(reader, query, answer)


READERS: dict[str, Callable[[Reader, Query], Any]] = {
    "sales": sales,
    "shifts": shifts,
    "tickets": tickets,
    "refunds": refunds,
    "reprints": reprints,
    "throughput": throughput,
}
