"""Fraud Watch rules, pure (no I/O, no clock): opening hours, one entity's day against its own
trailing baseline and against its peers, the flags, and the words that explain them.

A day is flagged for an employee or a device, per metric, when both hold:

* its count is at least `z_threshold` standard deviations above the entity's own mean over the 28
  local days before it (zeros included: a day without a doc is a day with none). The deviation
  used is never below `MIN_SIGMA` (one a day), so an entity whose baseline is flat — a new cashier,
  a gate that never saw a duplicate — needs a real jump, not one event, to stand out;
* its count reaches the metric's floor (a setting), so one reprint on a quiet day is no spike.

The store's other entities of the same kind that day (those with any activity) are the peers: their
median is shown beside the entity's own figure, to tell "everyone had a bad day" from "one person".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from boxoffice.core.clock import isoformat_z

EntityKind = Literal["employee", "device"]
ENTITY_KINDS: tuple[EntityKind, ...] = ("employee", "device")

#: Local days before the judged day that make an entity's baseline.
BASELINE_DAYS = 28
#: The smallest standard deviation a z-score divides by (counts come in ones).
MIN_SIGMA = 1.0


@dataclass(frozen=True)
class Metric:
    """One thing counted per entity and day. The activity summary holds the count under `name`
    and, when `amount`, the satang involved under `<name>_amount`."""

    name: str
    one: str  # "reprint"
    many: str  # "reprints"
    kinds: frozenset[str]
    amount: bool


_BOTH = frozenset(ENTITY_KINDS)
METRICS: tuple[Metric, ...] = (
    Metric("reprints", "reprint", "reprints", _BOTH, False),
    Metric("refunds", "refund", "refunds", _BOTH, True),
    Metric("manual_discounts", "manual discount", "manual discounts", _BOTH, True),
    Metric("approvals", "approval given", "approvals given", frozenset({"employee"}), True),
    Metric("duplicate_use", "duplicate-use FAIL", "duplicate-use FAILs", frozenset({"device"}), False),
    Metric("offline_conflicts", "offline conflict", "offline conflicts", frozenset({"device"}), False),
    Metric("after_hours", "after-hours sale", "after-hours sales", _BOTH, True),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)


def metrics_of(kind: str) -> tuple[Metric, ...]:
    return tuple(m for m in METRICS if kind in m.kinds)


# ---- opening hours ------------------------------------------------------------------------------

#: Per weekday, Monday first: (opens, closes) in minutes of the local day, closes exclusive; None:
#: closed all day.
WeekHours = tuple[tuple[int, int] | None, ...]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPEN_ALL_WEEK: WeekHours = ((0, 24 * 60),) * 7


def minutes_of(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def week_hours(section: Mapping[str, Any] | None) -> WeekHours:
    """The `hours` setting (a weekday absent: open all day; null: closed all day)."""
    if not section:
        return OPEN_ALL_WEEK
    days: list[tuple[int, int] | None] = []
    for name in WEEKDAYS:
        if name not in section:
            days.append((0, 24 * 60))
            continue
        day = section[name]
        days.append(None if day is None else (minutes_of(str(day["open"])), minutes_of(str(day["close"]))))
    return tuple(days)


def outside_hours(at: datetime, tz: str, hours: WeekHours) -> bool:
    """Whether an instant falls outside the store's opening hours, read on the store's wall clock
    (so a daylight-saving change moves the UTC times of opening and closing with it). Opening is
    inclusive, closing exclusive, to the minute."""
    local = at.astimezone(ZoneInfo(tz))
    day = hours[local.weekday()]
    if day is None:
        return True
    minute = local.hour * 60 + local.minute
    return not day[0] <= minute < day[1]


def _local(day: date, minute: int, tz: str) -> datetime:
    """A wall-clock minute of a local day as a UTC instant (24:00 is the next midnight)."""
    extra, minute = divmod(minute, 24 * 60)
    wall = datetime.combine(day + timedelta(days=extra), time(minute // 60, minute % 60), ZoneInfo(tz))
    return wall.astimezone(ZoneInfo("UTC"))


def day_span(day: str, tz: str) -> tuple[datetime, datetime]:
    """A local day as UTC instants [start, end): 23 or 25 hours long on a daylight-saving change."""
    local = date.fromisoformat(day)
    return _local(local, 0, tz), _local(local, 24 * 60, tz)


def closed_spans(day: str, tz: str, hours: WeekHours) -> list[tuple[datetime, datetime]]:
    """The parts of a local day outside opening hours, as UTC [start, end) spans."""
    local = date.fromisoformat(day)
    opening = hours[local.weekday()]
    if opening is None:
        return [day_span(day, tz)]
    spans = [(0, opening[0]), (opening[1], 24 * 60)]
    return [(_local(local, a, tz), _local(local, b, tz)) for a, b in spans if b > a]


# ---- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    mean: float
    stdev: float  # population deviation of the daily counts


def baseline(daily: Sequence[int]) -> Baseline:
    """Mean and standard deviation of daily counts (every day given, zeros included)."""
    if not daily:
        return Baseline(0.0, 0.0)
    mean = sum(daily) / len(daily)
    variance = sum((value - mean) ** 2 for value in daily) / len(daily)
    return Baseline(mean, math.sqrt(variance))


def z_score(count: int, base: Baseline) -> float:
    return (count - base.mean) / max(base.stdev, MIN_SIGMA)


def median(values: Sequence[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


# ---- judging one entity's day -------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    metric: str
    count: int
    amount: int | None
    mean: float
    stdev: float
    z: float
    peer_median: float | None
    peers: int
    flagged: bool
    explanation: str | None


def money(satang: int) -> str:
    return f"{satang / 100:,.2f} THB"


def _number(value: float) -> str:
    return f"{value:.1f}"


def _median_words(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def explain(
    who: str,
    metric: Metric,
    count: int,
    amount: int | None,
    base: Baseline,
    peer: float | None,
    peers: int,
    when: str,
    kind: str,
) -> str:
    """E.g. "Cashier Bee: 9 reprints today, usually 1.2 ± 0.8 a day; the store's 3 other employees
    that day: median 1"."""
    noun = metric.one if count == 1 else metric.many
    money_part = f" ({money(amount)})" if amount else ""
    usual = f"usually {_number(base.mean)} ± {_number(base.stdev)} a day"
    words = f"{who}: {count} {noun}{money_part} {when}, {usual}"
    if peer is not None:
        others = f"{peers} other {kind}{'s' if peers != 1 else ''}"
        words += f"; the store's {others} that day: median {_median_words(peer)}"
    return words


def judge(
    metric: Metric,
    *,
    who: str,
    when: str,
    kind: str,
    count: int,
    amount: int | None,
    history: Sequence[int],
    peer_counts: Sequence[int],
    z_threshold: float,
    floor: int,
) -> Finding:
    """One metric of one entity's day: its z-score against `history` (the days before it), the
    peers' median, and whether it is flagged (with the words that say why)."""
    base = baseline(history)
    z = round(z_score(count, base), 2)  # the score the owner reads is the one compared: 2.998 shows 3.0
    peer = median(peer_counts)
    flagged = count >= floor and z >= z_threshold
    return Finding(
        metric=metric.name,
        count=count,
        amount=amount,
        mean=round(base.mean, 3),
        stdev=round(base.stdev, 3),
        z=z,
        peer_median=peer,
        peers=len(peer_counts),
        flagged=flagged,
        explanation=explain(who, metric, count, amount, base, peer, len(peer_counts), when, kind)
        if flagged
        else None,
    )


# ---- a store's day ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    kind: str
    entity_id: str


@dataclass(frozen=True)
class Assessment:
    entity: Entity
    name: str
    counts: Mapping[str, int]  # the day's other figures: sales, sales_amount, duplicate_use_offline
    findings: tuple[Finding, ...]

    @property
    def flags(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flagged)


def history_days(day: str) -> list[str]:
    """The baseline's days: the 28 local days before `day`, oldest first."""
    judged = date.fromisoformat(day)
    return [(judged - timedelta(days=n)).isoformat() for n in range(BASELINE_DAYS, 0, -1)]


def assess_day(
    docs: Sequence[Mapping[str, Any]],
    day: str,
    *,
    kinds: Sequence[str],
    names: Mapping[Entity, str],
    when: str,
    z_threshold: float,
    floors: Mapping[str, int],
    groups: Mapping[Entity, str] | None = None,
) -> list[Assessment]:
    """Every entity of `kinds` active at the store on `day` (it has an activity document that day),
    each metric judged against its own previous 28 days (`docs`: the store's activity documents of
    those 29 days) and against its peers that day: the other active entities of its kind and group
    (`groups`: e.g. a device's type, so a gate is compared with gates; the group names the peers in
    the words, default the kind)."""
    groups = groups or {}
    by_entity: dict[Entity, dict[str, Mapping[str, Any]]] = {}
    for doc in docs:
        entity = Entity(str(doc.get("entity_kind", "")), str(doc.get("entity_id", "")))
        if entity.kind in kinds and entity.entity_id:
            by_entity.setdefault(entity, {})[str(doc["day"])] = doc
    active = sorted((e for e, days in by_entity.items() if day in days), key=lambda e: (e.kind, e.entity_id))
    past = history_days(day)
    assessed = []
    for entity in active:
        today = by_entity[entity][day]
        who = names.get(entity) or entity.entity_id
        findings = []
        for metric in metrics_of(entity.kind):
            count = int(today.get(metric.name) or 0)
            group = groups.get(entity, entity.kind)
            others = [
                int(by_entity[peer][day].get(metric.name) or 0)
                for peer in active
                if peer.kind == entity.kind and peer != entity and groups.get(peer, peer.kind) == group
            ]
            findings.append(
                judge(
                    metric,
                    who=who,
                    when=when,
                    kind=group,
                    count=count,
                    amount=int(today.get(f"{metric.name}_amount") or 0) if metric.amount else None,
                    history=[int(by_entity[entity].get(d, {}).get(metric.name) or 0) for d in past],
                    peer_counts=others,
                    z_threshold=z_threshold,
                    floor=int(floors.get(metric.name, 1)),
                )
            )
        extra = {
            k: int(today.get(k) or 0) for k in ("sales", "sales_amount", "duplicate_use_offline", "scans")
        }
        assessed.append(Assessment(entity, who, extra, tuple(findings)))
    return assessed


# ---- drill-down ---------------------------------------------------------------------------------


def drill_downs(
    metric: str,
    entity: Entity,
    store_id: str,
    day: tuple[datetime, datetime],
    closed: Sequence[tuple[datetime, datetime]],
) -> list[str]:
    """The lists of the records behind a figure, as API paths with their queries: the store, the
    entity and the local day `day` (UTC span); for after-hours sales, one list per part of the day
    outside opening hours (`closed`)."""
    who = {"employee_id" if entity.kind == "employee" else "device_id": entity.entity_id}
    spans = closed if metric == "after_hours" else [day]
    links = []
    for start, end in spans:
        when = {"from": isoformat_z(start), "to": isoformat_z(end)}
        if metric == "reprints":
            path, query = "/v1/reprints", {"store_id": store_id, **who, **when}
        elif metric == "refunds":  # the refunds list has no employee filter: the store's refunds
            path, query = (
                "/v1/refunds",
                {"store_id": store_id, **(who if entity.kind == "device" else {}), **when},
            )
        elif metric == "approvals":  # an approval is granted in the approver's name, in the audit log
            path = "/v1/audits"
            query = {
                "store_id": store_id,
                "actor_id": entity.entity_id,
                "event_type": "approval.granted",
                **when,
            }
        elif metric in ("duplicate_use", "offline_conflicts"):
            path, query = "/v1/redemptions", {"store_id": store_id, **who, "result": "fail", **when}
            if metric == "duplicate_use":
                query["reason"] = "duplicate_use"
        else:  # manual_discounts, after_hours: the sales
            path, query = "/v1/sales", {"store_id": store_id, **who, **when}
        links.append(f"{path}?{urlencode(query)}")
    return links
