"""Refunds and reprints as the API takes and gives them. Money is satang."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from boxoffice.core.schemas import (
    MULTILINE_TEXT,
    CommandModel,
    PaymentMethod,
    ReadModel,
    UtcDatetime,
)
from boxoffice.tickets.schemas import TicketRead

REASON_CODE = r"^[A-Za-z0-9_-]{1,40}$"


class ReprintCreate(CommandModel):
    ticket_id: str = Field(min_length=1, max_length=64)
    approval_token: str = Field(
        min_length=1, max_length=200, description="From POST /v1/approvals/verify_pin, action reprint"
    )
    reason_code: str = Field(pattern=REASON_CODE, description="One of the `reasons` setting's codes")
    reason_text: str | None = Field(default=None, max_length=500, pattern=MULTILINE_TEXT)


class RefundCreate(CommandModel):
    sale_id: str = Field(min_length=1, max_length=64)
    ticket_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=500, description="Omit to refund the whole sale"
    )
    approval_token: str = Field(
        min_length=1, max_length=200, description="From POST /v1/approvals/verify_pin, action refund"
    )
    reason_code: str = Field(pattern=REASON_CODE, description="One of the `reasons` setting's codes")
    reason_text: str | None = Field(default=None, max_length=500, pattern=MULTILINE_TEXT)
    method: PaymentMethod | None = Field(
        default=None, description="How the money goes back; the sale's payment method if omitted"
    )


class RefundLineRead(ReadModel):
    ticket_id: str
    amount: int


class RefundRead(ReadModel):
    refund_id: str
    sale_id: str
    store_id: str
    device_id: str
    shift_id: str | None
    status: Literal["pending", "completed", "void"]
    method: PaymentMethod
    amount: int = Field(description="What was paid back, satang")
    lines: list[RefundLineRead]
    reason_code: str
    reason_text: str | None
    refunded_by: str | None
    approver_id: str
    created_at: UtcDatetime


class RefundResult(ReadModel):
    refund: RefundRead
    tickets: list[TicketRead]


class ReprintRead(ReadModel):
    reprint_id: str
    ticket_id: str
    store_id: str
    device_id: str
    status: Literal["pending", "completed"]
    reason_code: str
    reason_text: str | None
    printed_by: str | None
    approver_id: str
    created_at: UtcDatetime


class ReprintResult(ReadModel):
    reprint: ReprintRead
    ticket: TicketRead
