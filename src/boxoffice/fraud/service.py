"""The Fraud Watch: judge a store's day from its kept activity summaries, and turn each flag of a
day that is over into an alert, once.

A store's day costs a few indexed reads, whatever the history holds: the store's settings (two
documents), one range on the summaries' bucket (the store's activity documents of the judged day
and the 28 before it), the store's devices, the active employees' names (each by id) and, for a
day that is over, the store-day's note of what was already raised. Flags of a closed day become
`fraud_flag` alerts — when the daily check (a leased background loop) judges it, and when the
report is read for it (a late offline upload may have added one) — each once: the store-day note
remembers the alert of every cause, and `raise_alert` itself raises a cause once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from boxoffice.access.principal import Principal
from boxoffice.alerts import service as alerts
from boxoffice.core.background import Background, Pass
from boxoffice.core.deps import Deps
from boxoffice.core.errors import NotFound, ValidationFailed
from boxoffice.core.lease import Lease
from boxoffice.core.logging import get_logger
from boxoffice.core.repository import Scope
from boxoffice.fraud import rules
from boxoffice.fraud.repository import FraudDayRepository, raised_field, stores_unscoped
from boxoffice.reports.repository import SummaryRepository
from boxoffice.reports.summaries import local_day
from boxoffice.settings import service as settings
from boxoffice.staff.repository import EmployeeRepository
from boxoffice.tenancy.repository import DeviceRepository, StoreRepository

log = get_logger(__name__)

PERMISSION = "reports_view"
#: The daily check judges a day this long after it ends (the projector counts within seconds).
CHECK_GRACE = timedelta(minutes=10)
#: Closed days the daily check looks back over (yesterday, and the day before if it was missed).
CHECK_DAYS = 2


@dataclass(frozen=True)
class StoreInfo:
    store_id: str
    name: str
    tz: str


@dataclass(frozen=True)
class Judged:
    """One store's day, judged."""

    store: StoreInfo
    day: str
    closed: bool
    z_threshold: float
    floors: dict[str, int]
    assessed: list[rules.Assessment]
    drill: dict[tuple[rules.Entity, str], list[str]]


def cause_key(store_id: str, entity: rules.Entity, metric: str, day: str) -> str:
    return f"{store_id}:{entity.kind}:{entity.entity_id}:{metric}:{day}"


async def _names(
    deps: Deps, tenant_id: str, store_id: str, entities: list[rules.Entity]
) -> tuple[dict[rules.Entity, str], dict[rules.Entity, str]]:
    """Display names, and each device's peer group (its type: a gate is compared with gates): the
    store's devices in one indexed read (the store was already allowed), each active employee by id."""
    names: dict[rules.Entity, str] = {}
    groups: dict[rules.Entity, str] = {}
    if any(e.kind == "device" for e in entities):
        devices = await DeviceRepository(deps.db, Scope(tenant_id)).find_many(
            {"store_id": store_id}, projection={"_id": 0, "device_id": 1, "name": 1, "type": 1}
        )
        by_id = {str(d["device_id"]): d for d in devices}
        for entity in entities:
            device = by_id.get(entity.entity_id)
            if entity.kind == "device" and device is not None:
                names[entity] = str(device.get("name") or device.get("type") or entity.entity_id)
                groups[entity] = f"{device.get('type') or 'other'} device"
    employees = EmployeeRepository(deps.db, Scope(tenant_id))
    for entity in entities:
        if entity.kind == "employee":
            found = await employees.find_one(
                {"employee_id": entity.entity_id}, projection={"_id": 0, "name": 1}
            )
            if found is not None:
                names[entity] = str(found.get("name") or entity.entity_id)
    return names, groups


async def judge_store_day(
    deps: Deps, scope: Scope, store: StoreInfo, day: str, kinds: tuple[str, ...]
) -> Judged:
    values = (await settings.effective(deps, scope.tenant_id, store.store_id))["values"]
    fraud, hours = values["fraud"], rules.week_hours(values.get("hours"))
    today = local_day(deps.clock.now(), store.tz)
    first = rules.history_days(day)[0]
    docs = await SummaryRepository(deps.db, scope).in_periods(
        "activity", [store.store_id], first, day, rollup=False
    )
    active = sorted(
        {
            rules.Entity(str(d["entity_kind"]), str(d["entity_id"]))
            for d in docs
            if d.get("day") == day and d.get("entity_kind") in kinds
        },
        key=lambda e: (e.kind, e.entity_id),
    )
    names, groups = await _names(deps, scope.tenant_id, store.store_id, active)
    floors = {str(k): int(v) for k, v in (fraud.get("floors") or {}).items()}
    assessed = rules.assess_day(
        docs,
        day,
        kinds=kinds,
        names=names,
        when="today" if day == today else f"on {day}",
        z_threshold=float(fraud["z_threshold"]),
        floors=floors,
        groups=groups,
    )
    span = rules.day_span(day, store.tz)
    closed = rules.closed_spans(day, store.tz, hours)
    drill = {
        (a.entity, f.metric): rules.drill_downs(f.metric, a.entity, store.store_id, span, closed or [span])
        for a in assessed
        for f in a.findings
    }
    return Judged(store, day, day < today, float(fraud["z_threshold"]), floors, assessed, drill)


async def raise_flags(deps: Deps, tenant_id: str, judged: Judged) -> dict[str, str]:
    """Each flag of a closed day as a `fraud_flag` alert, once: returns the alert id per cause."""
    if not judged.closed:
        return {}
    notes = FraudDayRepository(deps.db, Scope(tenant_id))
    note = await notes.load(judged.store.store_id, judged.day) or {}
    raised: dict[str, str] = {}
    for assessment in judged.assessed:
        for finding in assessment.flags:
            key = cause_key(judged.store.store_id, assessment.entity, finding.metric, judged.day)
            known = note.get(raised_field(key))
            if known:
                raised[key] = str(known)
                continue
            links = judged.drill[(assessment.entity, finding.metric)]
            metric = next(m for m in rules.METRICS if m.name == finding.metric)
            alert = await alerts.raise_alert(
                deps,
                tenant_id,
                kind="fraud_flag",
                cause_key=key,
                store_id=judged.store.store_id,
                title=f"Fraud Watch: {assessment.name}, {finding.count} {metric.many} on {judged.day}",
                detail=finding.explanation or "",
                links={
                    f"{assessment.entity.kind}_id": assessment.entity.entity_id,
                    "store_id": judged.store.store_id,
                    **{("records" if n == 0 else f"records_{n + 1}"): link for n, link in enumerate(links)},
                },
            )
            alert_id = str(alert.alert["alert_id"])
            await notes.note_raised(judged.store.store_id, judged.day, key, alert_id)
            raised[key] = alert_id
    return raised


# ---- the report ---------------------------------------------------------------------------------


def _bad(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"loc": ["query", name], "msg": message}])


async def report(
    deps: Deps, principal: Principal, *, day: str | None, store_id: str | None, entity: str | None
) -> dict[str, Any]:
    """The chosen day (default: today in each store's zone) of the stores the caller may report on
    (or the one asked for), for employees, devices or both."""
    scope = principal.scope_with(PERMISSION)
    found = await StoreRepository(deps.db, scope).find_many(
        projection={"_id": 0, "store_id": 1, "name": 1, "tz": 1}
    )
    stores = {
        str(s["store_id"]): StoreInfo(
            str(s["store_id"]), str(s.get("name") or ""), str(s.get("tz") or deps.settings.tz)
        )
        for s in found
    }
    if store_id is not None and store_id not in stores:
        raise NotFound("Store not found.")
    if day is not None:
        try:
            date.fromisoformat(day)
        except ValueError as exc:
            raise _bad("day", "day is YYYY-MM-DD.") from exc
    kinds = (entity,) if entity else rules.ENTITY_KINDS
    chosen = [stores[store_id]] if store_id else [stores[s] for s in sorted(stores)]
    shown = []
    for store in chosen:
        today = local_day(deps.clock.now(), store.tz)
        judged_day = day or today
        if judged_day > today:
            raise _bad("day", f"{judged_day} has not begun at {store.name or store.store_id}.")
        judged = await judge_store_day(deps, scope, store, judged_day, kinds)
        raised = await raise_flags(deps, principal.tenant_id, judged)
        shown.append(_store_view(judged, raised))
    return {"stores": shown}


def _store_view(judged: Judged, raised: dict[str, str]) -> dict[str, Any]:
    entities, flags = [], []
    for assessment in judged.assessed:
        metrics = []
        for finding in assessment.findings:
            links = judged.drill[(assessment.entity, finding.metric)]
            metrics.append(
                {
                    "metric": finding.metric,
                    "count": finding.count,
                    "amount": finding.amount,
                    "baseline_mean": finding.mean,
                    "baseline_stdev": finding.stdev,
                    "z": finding.z,
                    "peer_median": finding.peer_median,
                    "peers": finding.peers,
                    "flagged": finding.flagged,
                    "explanation": finding.explanation,
                    "drill_downs": links,
                }
            )
            if finding.flagged:
                key = cause_key(judged.store.store_id, assessment.entity, finding.metric, judged.day)
                flags.append(
                    {
                        "entity": assessment.entity.kind,
                        "entity_id": assessment.entity.entity_id,
                        "name": assessment.name,
                        "metric": finding.metric,
                        "count": finding.count,
                        "z": finding.z,
                        "explanation": finding.explanation,
                        "drill_downs": links,
                        "alert_id": raised.get(key),
                    }
                )
        entities.append(
            {
                "entity": assessment.entity.kind,
                "entity_id": assessment.entity.entity_id,
                "name": assessment.name,
                "flagged": bool(assessment.flags),
                **assessment.counts,
                "metrics": metrics,
            }
        )
    return {
        "store_id": judged.store.store_id,
        "store_name": judged.store.name,
        "tz": judged.store.tz,
        "day": judged.day,
        "closed": judged.closed,
        "z_threshold": judged.z_threshold,
        "floors": judged.floors,
        "entities": entities,
        "flags": flags,
    }


# ---- the daily check ----------------------------------------------------------------------------


async def check_closed_days(deps: Deps) -> int:
    """Judge every store's recently closed days not judged yet, raising their flags as alerts.
    Returns how many store-days were judged. An idle pass is one read of the stores and one read by
    `_id` per store and day."""
    judged_days = 0
    now = deps.clock.now()
    for store in await stores_unscoped(deps.db):
        tenant_id, store_id = str(store["tenant_id"]), str(store["store_id"])
        tz = str(store.get("tz") or deps.settings.tz)
        scope = Scope(tenant_id)
        notes = FraudDayRepository(deps.db, scope)
        last_closed = date.fromisoformat(local_day(now - CHECK_GRACE, tz)) - timedelta(days=1)
        for back in range(CHECK_DAYS - 1, -1, -1):
            day = (last_closed - timedelta(days=back)).isoformat()
            note = await notes.load(store_id, day)
            if note is not None and note.get("checked_at"):
                continue
            judged = await judge_store_day(deps, scope, StoreInfo(store_id, "", tz), day, rules.ENTITY_KINDS)
            raised = await raise_flags(deps, tenant_id, judged)
            await notes.mark_checked(store_id, day, deps.clock.now())
            judged_days += 1
            if raised:
                log.info(
                    "fraud_flags_raised", tenant_id=tenant_id, store_id=store_id, day=day, flags=len(raised)
                )
    return judged_days


#: The daily check's loop name (and its lease's): one replica checks at a time.
LOOP = "fraud_watch"
#: How often it looks for a newly closed day: every 5 minutes, backing off to 15 while none closed.
FIRST_IDLE_SECONDS = 300.0
MOST_IDLE_SECONDS = 900.0


async def background_pass(deps: Deps) -> Pass:
    return Pass(busy=await check_closed_days(deps) > 0)


def background(deps: Deps, lease: Lease) -> Background:
    return Background(
        lease,
        lambda: background_pass(deps),
        first_idle=FIRST_IDLE_SECONDS,
        most_idle=MOST_IDLE_SECONDS,
        busy_pause=FIRST_IDLE_SECONDS,
        initial_delay=90.0,
    )
