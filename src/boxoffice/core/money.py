"""Money is integer satang; rates are basis points; rounding is half-up, in one place."""

from __future__ import annotations

from collections.abc import Sequence

BASIS_POINTS = 10_000
MAX_SATANG = 100_000_000  # 1,000,000 THB: the largest amount any one field takes


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers (no floats near money)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def percent_of(amount: int, basis_points: int) -> int:
    return round_half_up(amount * basis_points, BASIS_POINTS)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` so the parts sum to it exactly (largest remainder;
    ties go to the earlier weight). All-zero weights split evenly."""
    if total < 0:
        raise ValueError("total must not be negative")
    if not weights:
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    basis = list(weights) if sum(weights) > 0 else [1] * len(weights)
    weight_sum = sum(basis)
    parts = [total * w // weight_sum for w in basis]
    remainders = [total * w % weight_sum for w in basis]
    short = total - sum(parts)
    for index in sorted(range(len(basis)), key=lambda i: (-remainders[i], i))[:short]:
        parts[index] += 1
    return parts


def format_thb(satang: int) -> str:
    sign = "-" if satang < 0 else ""
    baht, cents = divmod(abs(satang), 100)
    return f"{sign}฿{baht:,}.{cents:02d}"
