"""Half-up rounding and exact allocation: the two operations every satang goes through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.core.money import allocate, format_thb, percent_of, round_half_up


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (25, 10, 3), (-5, 10, -1), (-4, 10, 0), (21_000_000, 10_700, 1963)],
)
def test_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


def test_percent_of_uses_basis_points() -> None:
    assert percent_of(15_000, 1_000) == 1_500  # 10 % of 150 THB
    assert percent_of(999, 1_000) == 100  # 99.9 rounds up
    assert percent_of(994, 1_000) == 99


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12),
)
def test_allocation_sums_exactly_and_stays_proportional(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    if sum(weights) > 0:
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - total * weight / sum(weights)) < 1 + 1e-9


def test_format_thb() -> None:
    assert format_thb(120_050) == "฿1,200.50"
    assert format_thb(-5) == "-฿0.05"
