"""The pricing engine: the demo catalog's cases by table, then properties over any cart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.catalog.pricing import (
    Cart,
    CartLine,
    ManualDiscount,
    PricedPackage,
    PricingError,
    Quote,
    Rule,
    TaxProfile,
    quote,
)

BKK = "Asia/Bangkok"
VAT = {"vat7": TaxProfile("vat7", 700, inclusive=True), "vat7x": TaxProfile("vat7x", 700, inclusive=False)}
SINGLE = PricedPackage("single", "Single Entry", 15_000)
MULTI = PricedPackage("multi10", "10-Visit Pass", 120_000)
TWO_HOUR = PricedPackage("timepass", "2-Hour Pass", 25_000)
CREDIT = PricedPackage("credit", "Play Credit 500", 50_000, tax_profile_id="vat7x")
FAMILY = PricedPackage("family", "Family Bundle", 49_900, components=(("single", 2), ("timepass", 1)))
CATALOG = {p.package_id: p for p in (SINGLE, MULTI, TWO_HOUR, CREDIT, FAMILY)}
WEEKDAYS = frozenset(range(5))
MORNING = Rule(
    "tod",
    "Weekday morning",
    "time_of_day",
    {"package_ids": ["single"], "price": 12_000, "from": "10:00", "to": "12:00"},
    days_of_week=WEEKDAYS,
)
WELCOME = Rule("promo", "Welcome", "promo_code", {"code": "WELCOME10", "percent_bp": 1_000})
DEMO_RULES = (MORNING, WELCOME)


def bangkok(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """2031-03-10 is a Monday; Bangkok is UTC+7."""
    return datetime(2031, 3, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=7)


def price(
    lines: list[tuple[str, int]],
    *,
    at: datetime | None = None,
    rules: tuple[Rule, ...] = DEMO_RULES,
    **extra: object,
) -> Quote:
    cart = Cart(tuple(CartLine(p, q) for p, q in lines), at or bangkok(11, 15), BKK, **extra)  # type: ignore[arg-type]
    return quote(cart, CATALOG, rules, VAT, "vat7")


@pytest.mark.parametrize(
    ("at", "unit"),
    [
        (bangkok(11, 9, 59, 59), 15_000),  # Tuesday, a second before the window
        (bangkok(11, 10, 0, 0), 12_000),  # the window opens at 10:00 Bangkok time
        (bangkok(11, 11, 59, 59), 12_000),
        (bangkok(11, 12, 0, 0), 15_000),  # and closes at 12:00
        (bangkok(15, 10, 30), 15_000),  # Saturday: weekdays only
        (bangkok(14, 10, 30), 12_000),  # Friday
    ],
)
def test_time_of_day_price_switches_at_the_window_edges(at: datetime, unit: int) -> None:
    result = price([("single", 2)], at=at)
    assert result.lines[0].unit_price == unit
    assert result.grand_total == unit * 2


def test_inclusive_vat_is_inside_the_price() -> None:
    result = price([("single", 2)])
    assert (result.subtotal, result.discount_total, result.grand_total) == (30_000, 0, 30_000)
    assert result.tax_total == 1_963  # 300 THB * 7/107, half-up


def test_exclusive_tax_is_added() -> None:
    result = price([("credit", 1)])
    assert result.lines[0].tax == 3_500
    assert result.grand_total == 53_500


def test_promo_code_takes_ten_percent_off_the_cart() -> None:
    result = price([("single", 2), ("timepass", 1)], promo_code=" welcome10 ")
    assert result.subtotal == 55_000
    assert result.discount_total == 5_500
    assert result.grand_total == 49_500
    assert [r.name for r in result.applied_rules] == ["Welcome (WELCOME10)"]
    assert sum(line.tax for line in result.lines) == result.tax_total


def test_unknown_promo_code_is_refused() -> None:
    with pytest.raises(PricingError) as info:
        price([("single", 1)], promo_code="NOPE")
    assert info.value.kind == "promo_code"


def test_bundle_shares_follow_list_prices_and_sum_to_the_line() -> None:
    result = price([("family", 2)])
    line = result.lines[0]
    assert line.net_total == 99_800
    assert line.bundle_shares == [("single", 4, 54_436), ("timepass", 2, 45_364)]
    assert sum(amount for _, _, amount in line.bundle_shares) == line.net_total


def test_rules_run_by_priority_and_non_stackable_ends_the_stage() -> None:
    ten = Rule(
        "a",
        "Ten percent",
        "line_percent",
        {"package_ids": [], "percent_bp": 1_000},
        priority=5,
        stackable=False,
    )
    twenty_baht = Rule(
        "b", "Twenty baht", "line_amount", {"package_ids": ["single"], "amount": 2_000}, priority=1
    )
    result = price([("single", 1)], at=bangkok(15, 9), rules=(twenty_baht, ten))
    assert [d.rule_id for d in result.lines[0].discounts] == ["a"]
    stacked = price(
        [("single", 1)],
        at=bangkok(15, 9),
        rules=(
            twenty_baht,
            Rule("a", "Ten percent", "line_percent", {"package_ids": [], "percent_bp": 1_000}, priority=5),
        ),
    )
    assert [d.amount for d in stacked.lines[0].discounts] == [1_500, 2_000]
    assert stacked.grand_total == 11_500


def test_manual_discount_and_never_below_zero() -> None:
    result = price([("single", 1)], at=bangkok(15, 9), manual_discount=ManualDiscount(amount=999_999))
    assert result.grand_total == 0
    assert result.discount_total == 15_000
    assert result.tax_total == 0


def test_bundle_rule_discounts_complete_sets_only() -> None:
    combo = Rule(
        "combo",
        "Combo",
        "bundle",
        {
            "items": [{"package_id": "single", "qty": 2}, {"package_id": "timepass", "qty": 1}],
            "price": 45_000,
        },
    )
    result = price([("single", 5), ("timepass", 3)], at=bangkok(15, 9), rules=(combo,))
    assert result.discount_total == 2 * (55_000 - 45_000)  # two full sets in the cart


def test_rules_outside_their_dates_do_not_apply() -> None:
    later = Rule("x", "Later", "cart_amount", {"amount": 1_000}, active_from=bangkok(20, 0))
    assert price([("single", 1)], at=bangkok(15, 9), rules=(later,)).discount_total == 0
    assert price([("single", 1)], at=bangkok(20, 0), rules=(later,)).discount_total == 1_000


@pytest.mark.parametrize("lines", [[], [("ghost", 1)], [("single", 0)], [("single", 1000)]])
def test_bad_carts_are_refused(lines: list[tuple[str, int]]) -> None:
    with pytest.raises(PricingError):
        price(lines)


# ---- properties -------------------------------------------------------------------------------

package_ids = st.sampled_from(sorted(CATALOG))
carts = st.lists(st.tuples(package_ids, st.integers(min_value=1, max_value=20)), min_size=1, max_size=8)


@st.composite
def rule_sets(draw: st.DrawFn) -> tuple[Rule, ...]:
    rules = []
    for n in range(draw(st.integers(min_value=0, max_value=6))):
        kind = draw(
            st.sampled_from(
                [
                    "line_percent",
                    "line_amount",
                    "cart_percent",
                    "cart_amount",
                    "bundle",
                    "time_of_day",
                    "promo_code",
                ]
            )
        )
        targets = draw(st.lists(package_ids, max_size=2, unique=True))
        params: dict[str, object] = {
            "line_percent": {"package_ids": targets, "percent_bp": draw(st.integers(0, 10_000))},
            "line_amount": {"package_ids": targets, "amount": draw(st.integers(0, 60_000))},
            "cart_percent": {
                "percent_bp": draw(st.integers(0, 10_000)),
                "min_subtotal": draw(st.integers(0, 100_000)),
            },
            "cart_amount": {"amount": draw(st.integers(0, 200_000))},
            "bundle": {
                "items": [{"package_id": p, "qty": draw(st.integers(1, 3))} for p in targets],
                "price": draw(st.integers(0, 90_000)),
            },
            "time_of_day": {
                "package_ids": targets,
                "price": draw(st.integers(0, 90_000)),
                "from": "08:00",
                "to": "20:00",
            },
            "promo_code": {"code": "PROMO", "percent_bp": draw(st.integers(0, 10_000))},
        }[kind]
        rules.append(
            Rule(
                f"r{n}",
                f"Rule {n}",
                kind,
                params,
                priority=draw(st.integers(0, 3)),
                stackable=draw(st.booleans()),
            )
        )
    return tuple(rules)


moments = st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2032, 1, 1), timezones=st.just(UTC))
manuals = st.one_of(
    st.none(),
    st.builds(ManualDiscount, amount=st.integers(0, 100_000)),
    st.builds(ManualDiscount, percent_bp=st.integers(0, 10_000)),
)


def run(
    cart: list[tuple[str, int]],
    rules: tuple[Rule, ...],
    at: datetime,
    manual: ManualDiscount | None,
    promo: bool,
) -> Quote:
    has_promo = promo and any(r.kind == "promo_code" for r in rules)
    return price(cart, at=at, rules=rules, manual_discount=manual, promo_code="promo" if has_promo else None)


@settings(max_examples=300)
@given(carts, rule_sets(), moments, manuals, st.booleans())
def test_totals_hold_together(
    cart: list[tuple[str, int]],
    rules: tuple[Rule, ...],
    at: datetime,
    manual: ManualDiscount | None,
    promo: bool,
) -> None:
    result = run(cart, rules, at, manual, promo)
    exclusive = sum(line.tax for line in result.lines if not line.tax_inclusive)
    assert result.grand_total == result.subtotal - result.discount_total + exclusive
    assert result.grand_total >= 0
    assert all(line.net_total >= 0 and line.tax >= 0 for line in result.lines)
    assert result.tax_total == sum(line.tax for line in result.lines)
    assert result.discount_total == sum(r.amount for r in result.applied_rules)
    assert sum(line.net_total for line in result.lines) == result.subtotal - result.discount_total
    for line in result.lines:
        if line.bundle_shares:
            assert sum(amount for _, _, amount in line.bundle_shares) == line.net_total


@settings(max_examples=200)
@given(carts, rule_sets(), moments, manuals, st.booleans(), st.randoms(use_true_random=False))
def test_line_order_and_repeats_never_change_the_result(
    cart: list[tuple[str, int]],
    rules: tuple[Rule, ...],
    at: datetime,
    manual: ManualDiscount | None,
    promo: bool,
    rnd: st.SearchStrategy[object],
) -> None:
    shuffled = list(cart)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    first, second, again = (
        run(cart, rules, at, manual, promo),
        run(shuffled, rules, at, manual, promo),
        run(cart, rules, at, manual, promo),
    )
    assert first == second == again
