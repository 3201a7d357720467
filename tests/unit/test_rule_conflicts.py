"""Rule conflicts, pure: same stage and priority, and they could meet in one cart."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from boxoffice.catalog.conflicts import RuleShape, first_conflict, overlaps

BASE = RuleShape(
    rule_id="a",
    name="A",
    kind="line_percent",
    store_id="",
    params={"package_ids": ["p1"], "percent_bp": 1000},
    priority=1,
    active=True,
    active_from=None,
    active_to=None,
    days_of_week=None,
)
JAN, FEB, MAR = (datetime(2031, m, 1, tzinfo=UTC) for m in (1, 2, 3))
TOD = replace(
    BASE, kind="time_of_day", params={"package_ids": ["p1"], "price": 1, "from": "10:00", "to": "12:00"}
)


@pytest.mark.parametrize(
    ("other", "clash"),
    [
        (replace(BASE, rule_id="b"), True),
        (
            replace(BASE, rule_id="b", kind="line_amount", params={"package_ids": [], "amount": 1}),
            True,
        ),  # empty = all
        (replace(BASE, rule_id="b", priority=2), False),
        (replace(BASE, rule_id="b", kind="cart_percent", params={"percent_bp": 1}), False),  # another stage
        (replace(BASE, rule_id="b", params={"package_ids": ["p2"], "percent_bp": 1}), False),
        (replace(BASE, rule_id="b", active=False), False),
        (replace(BASE, rule_id="b", store_id="S1"), True),  # a tenant rule reaches every store
        (replace(BASE, rule_id="b", days_of_week=frozenset({5, 6})), True),  # BASE runs every day
    ],
)
def test_overlaps_table(other: RuleShape, clash: bool) -> None:
    assert overlaps(BASE, other) is clash


def test_stores_dates_weekdays_and_clock_windows_separate_rules() -> None:
    s1, s2 = replace(BASE, store_id="S1"), replace(BASE, rule_id="b", store_id="S2")
    assert not overlaps(s1, s2)
    jan, feb = (
        replace(BASE, active_from=JAN, active_to=FEB),
        replace(BASE, rule_id="b", active_from=FEB, active_to=MAR),
    )
    assert not overlaps(jan, feb)  # windows end exclusive
    weekdays, weekend = (
        replace(BASE, days_of_week=frozenset(range(5))),
        replace(BASE, rule_id="b", days_of_week=frozenset({5, 6})),
    )
    assert not overlaps(weekdays, weekend)
    afternoon = replace(TOD, rule_id="b", params={**TOD.params, "from": "12:00", "to": "14:00"})
    assert not overlaps(TOD, afternoon)
    night = replace(TOD, rule_id="b", params={**TOD.params, "from": "22:00", "to": "10:30"})  # wraps midnight
    assert overlaps(TOD, night)


def test_promo_codes_conflict_only_on_the_same_code() -> None:
    promo = replace(BASE, kind="promo_code", params={"code": "A10", "percent_bp": 1000})
    assert overlaps(promo, replace(promo, rule_id="b", params={"code": "a10", "amount": 5}))
    assert not overlaps(promo, replace(promo, rule_id="b", params={"code": "B10", "amount": 5}))


def test_first_conflict_ignores_the_rule_itself_and_is_stable() -> None:
    others = [replace(BASE, rule_id="z"), BASE, replace(BASE, rule_id="m")]
    found = first_conflict(BASE, others)
    assert found is not None
    assert found.rule_id == "m"
