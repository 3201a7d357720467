"""Refunds, reprints and the ticket timeline as the API takes and gives them. Money is satang."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from boxoffice.core.schemas import NOT_BLANK, CommandModel, ReadModel, UtcDatetime
from boxoffice.sales.schemas import PaymentMethod, TicketRead

REASON_CODE = r"^[A-Za-z0-9_-]{1,40}$"


class ReprintCreate(CommandModel):
    ticket_id: str = Field(min_length=1, max_length=64)
    approval_token: str = Field(
        min_length=1, max_length=200, description="From POST /v1/approvals/verify_pin, action reprint"
    )
    reason_code: str = Field(pattern=REASON_CODE, description="One of the `reasons` setting's codes")
    reason_text: str | None = Field(default=None, max_length=500, pattern=NOT_BLANK)


class RefundCreate(CommandModel):
    sale_id: str = Field(min_length=1, max_length=64)
    ticket_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=500, description="Omit to refund the whole sale"
    )
    approval_token: str = Field(
        min_length=1, max_length=200, description="From POST /v1/approvals/verify_pin, action refund"
    )
    reason_code: str = Field(pattern=REASON_CODE, description="One of the `reasons` setting's codes")
    reason_text: str | None = Field(default=None, max_length=500, pattern=NOT_BLANK)
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


TimelineKind = Literal["issued", "printed", "redeemed", "refunded", "audit"]


class TimelineEvent(ReadModel):
    at: UtcDatetime
    kind: TimelineKind
    summary: str
    device_id: str | None = None
    actor_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class TicketTimeline(ReadModel):
    ticket: TicketRead
    events: list[TimelineEvent]


RedeemReason = Literal[
    "invalid_sig",
    "expired",
    "refunded",
    "cancelled",
    "not_started",
    "wrong_device",
    "duplicate_use",
    "exhausted",
]


class RedeemIn(CommandModel):
    scan_id: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z_-]{10,40}$",
        description="Made by the gate (a ULID); send it again to retry a scan whose answer was lost",
    )
    qr_token: str | None = Field(default=None, min_length=1, max_length=200)
    short_code: str | None = Field(default=None, min_length=1, max_length=20)
    zone: str | None = Field(
        default=None, max_length=40, description="The zone the gate serves; the gate's own if it has one"
    )
    amount: int | None = Field(
        default=None, ge=0, le=10_000_000, description="Credit to deduct; the zone's credit price if omitted"
    )
    scanned_at: UtcDatetime | None = Field(
        default=None,
        description="When the gate scanned it (kept for the record; online verdicts use server time)",
    )


class TicketSummary(ReadModel):
    ticket_id: str
    short_code: str
    name: str
    type: str
    status: str
    valid_to: UtcDatetime
    remaining: int | None


class RedeemResult(ReadModel):
    result: Literal["pass", "fail"]
    reason: RedeemReason | None
    reason_code: str | None = Field(
        description=(
            "For a FAIL: E_DUPLICATE_USE E_EXPIRED E_NOT_STARTED E_EXHAUSTED E_INVALID_SIG E_WRONG_DEVICE "
            "E_REFUNDED E_CANCELLED"
        )
    )
    remaining: int | None = Field(description="Visits, minutes or credit left; null for a single entry")
    redemption_id: str
    offline_conflict: bool = False
    ticket: TicketSummary | None
