"""When two pricing rules would fight silently, pure.

Two active rules conflict when they run in the same stage with the same priority (so neither
order is "right"), could meet in one cart (scopes, targets, dates, weekdays and clock windows
overlap). Promo codes conflict only when they share a code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STAGES = {
    "line_percent": "line",
    "line_amount": "line",
    "cart_percent": "cart",
    "cart_amount": "cart",
    "bundle": "cart",
    "promo_code": "promo",
    "time_of_day": "price",
}


@dataclass(frozen=True)
class RuleShape:
    rule_id: str
    name: str
    kind: str
    store_id: str  # "" = every store of the tenant
    params: dict[str, Any]
    priority: int
    active: bool
    active_from: datetime | None
    active_to: datetime | None
    days_of_week: frozenset[int] | None


def _targets(rule: RuleShape) -> frozenset[str] | None:
    """The packages a rule can touch; None means every package."""
    if rule.kind == "bundle":
        return frozenset(str(i["package_id"]) for i in rule.params["items"])
    ids = rule.params.get("package_ids")
    if ids is None or not ids:
        return None
    return frozenset(ids)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _clock_ranges(rule: RuleShape) -> list[tuple[int, int]]:
    if rule.kind != "time_of_day":
        return [(0, 24 * 60)]
    start, end = _minutes(rule.params["from"]), _minutes(rule.params["to"])
    return [(start, end)] if start < end else [(start, 24 * 60), (0, end)]


def overlaps(a: RuleShape, b: RuleShape) -> bool:
    if not (a.active and b.active) or STAGES[a.kind] != STAGES[b.kind] or a.priority != b.priority:
        return False
    if a.store_id and b.store_id and a.store_id != b.store_id:
        return False
    if STAGES[a.kind] == "promo":
        return str(a.params["code"]).upper() == str(b.params["code"]).upper()
    ta, tb = _targets(a), _targets(b)
    if ta is not None and tb is not None and not (ta & tb):
        return False
    if (a.active_to is not None and b.active_from is not None and a.active_to <= b.active_from) or (
        b.active_to is not None and a.active_from is not None and b.active_to <= a.active_from
    ):
        return False
    if a.days_of_week is not None and b.days_of_week is not None and not (a.days_of_week & b.days_of_week):
        return False
    return any(s1 < e2 and s2 < e1 for s1, e1 in _clock_ranges(a) for s2, e2 in _clock_ranges(b))


def first_conflict(candidate: RuleShape, others: Iterable[RuleShape]) -> RuleShape | None:
    for other in sorted(others, key=lambda r: r.rule_id):
        if other.rule_id != candidate.rule_id and overlaps(candidate, other):
            return other
    return None
