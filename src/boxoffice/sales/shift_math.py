"""Shift cash math, pure: what the drawer should hold and how far the count is off."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PAYMENT_METHODS = ("cash", "qr", "card", "other")


@dataclass(frozen=True)
class SaleFigure:
    payment_method: str
    grand_total: int
    fee_total: int = 0  # the payment type's surcharge, taken with the sale

    @property
    def taken(self) -> int:
        return self.grand_total + self.fee_total


@dataclass(frozen=True)
class RefundFigure:
    method: str
    amount: int


@dataclass(frozen=True)
class Movement:
    kind: str  # "pay_in" | "pay_out"
    amount: int


@dataclass(frozen=True)
class ShiftTotals:
    sales_count: int = 0
    sales_total: int = 0  # what was taken: totals plus payment fees
    fees_total: int = 0
    refunds_total: int = 0
    cash_sales: int = 0
    cash_refunds: int = 0
    pay_ins: int = 0
    pay_outs: int = 0
    by_payment_type: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PAYMENT_METHODS, 0))


def totals(
    sales: Iterable[SaleFigure], refunds: Iterable[RefundFigure], movements: Iterable[Movement]
) -> ShiftTotals:
    by_type = dict.fromkeys(PAYMENT_METHODS, 0)
    count = total = fees = cash_sales = 0
    for sale in sales:
        count += 1
        total += sale.taken
        fees += sale.fee_total
        by_type[sale.payment_method] += sale.taken
        if sale.payment_method == "cash":
            cash_sales += sale.taken
    refund_list = list(refunds)
    moves = list(movements)
    return ShiftTotals(
        sales_count=count,
        sales_total=total,
        fees_total=fees,
        refunds_total=sum(r.amount for r in refund_list),
        cash_sales=cash_sales,
        cash_refunds=sum(r.amount for r in refund_list if r.method == "cash"),
        pay_ins=sum(m.amount for m in moves if m.kind == "pay_in"),
        pay_outs=sum(m.amount for m in moves if m.kind == "pay_out"),
        by_payment_type=by_type,
    )


def expected_cash(cash_open: int, figures: ShiftTotals) -> int:
    """Opening float + cash sales - cash refunds + pay-ins - pay-outs."""
    return cash_open + figures.cash_sales - figures.cash_refunds + figures.pay_ins - figures.pay_outs


def cash_difference(counted: int, expected: int) -> int:
    """Negative: the drawer is short; positive: over."""
    return counted - expected


#: What a closed shift's count froze (its snapshot's figures, copied onto the shift).
FROZEN = ("cash_counted", "cash_expected", "cash_diff", "totals")


def shift_closed_data(shift: Mapping[str, Any]) -> dict[str, Any]:
    """What `shift.closed` says of a shift, and `shift.count_corrected` before and after: the
    report summaries count its figures from it (a rebuild makes it from the shift as it stands)."""
    return {
        "shift_id": shift["shift_id"],
        "device_id": shift["device_id"],
        "cash_open": shift["cash_open"],
        **{k: shift.get(k) for k in FROZEN},
    }
