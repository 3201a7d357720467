"""Shifts and sales as the API takes and gives them. Money is satang."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from boxoffice.catalog.schemas import ManualDiscountIn, QuoteLineIn
from boxoffice.core.money import MAX_SATANG
from boxoffice.core.schemas import NOT_BLANK, CommandModel, PaymentMethod, ReadModel, UtcDatetime
from boxoffice.tickets.schemas import TicketRead


class ShiftOpen(CommandModel):
    cash_open: int = Field(ge=0, le=MAX_SATANG, description="The float in the drawer, satang")


class ShiftClose(CommandModel):
    cash_counted: int = Field(ge=0, le=MAX_SATANG, description="Cash counted in the drawer, satang")


class CashMovementIn(CommandModel):
    amount: int = Field(ge=1, le=MAX_SATANG, strict=True, description="Satang (a JSON integer)")
    reason: str = Field(min_length=3, max_length=200, pattern=NOT_BLANK)


class ShiftCorrection(CommandModel):
    cash_counted: int = Field(ge=0, le=MAX_SATANG)
    reason: str = Field(min_length=3, max_length=200, pattern=NOT_BLANK)


class Totals(ReadModel):
    sales_count: int
    sales_total: int = Field(description="What was taken: sale totals plus payment fees")
    fees_total: int = Field(default=0, description="Payment fees inside sales_total")
    refunds_total: int
    cash_sales: int
    cash_refunds: int
    pay_ins: int
    pay_outs: int
    by_payment_type: dict[str, int]


class SnapshotRead(ReadModel):
    version: int
    at: UtcDatetime
    by: str | None
    reason: str
    cash_counted: int
    cash_expected: int
    cash_diff: int
    totals: Totals


class ShiftRead(ReadModel):
    shift_id: str
    store_id: str
    device_id: str
    opened_by: str | None
    open_at: UtcDatetime
    cash_open: int
    status: Literal["open", "closed"]
    closed_by: str | None = None
    close_at: UtcDatetime | None = None
    cash_expected: int | None = None
    cash_counted: int | None = None
    cash_diff: int | None = None
    totals: Totals
    snapshots: list[SnapshotRead] = Field(default_factory=list)


class SaleCreate(CommandModel):
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=100)
    promo_code: str | None = Field(default=None, max_length=32)
    manual_discount: ManualDiscountIn | None = None
    approval_token: str | None = Field(default=None, max_length=200)
    payment_method: PaymentMethod
    amount_tendered: int | None = Field(
        default=None, ge=0, le=MAX_SATANG, description="Cash handed over; cash only"
    )
    client_total: int | None = Field(
        default=None, ge=0, le=MAX_SATANG, description="The device's own total, checked"
    )


class SaleRead(ReadModel):
    sale_id: str
    short_ref: str
    store_id: str
    device_id: str
    issued_by: str | None
    shift_id: str | None
    status: Literal["pending", "completed"]
    created_at: UtcDatetime
    completed_at: UtcDatetime | None = None
    lines: list[dict[str, Any]]
    subtotal: int
    discount_total: int
    tax_total: int
    grand_total: int
    fee_total: int = Field(description="The payment type's surcharge, satang (not refunded)")
    amount_due: int = Field(description="grand_total + fee_total: what the customer paid")
    payment_method: PaymentMethod
    amount_tendered: int
    change: int
    ticket_ids: list[str]


class SaleWithTickets(ReadModel):
    sale: SaleRead
    tickets: list[TicketRead]
