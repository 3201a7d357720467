"""Tickets, their timeline and gate scans as the API takes and gives them. Money is satang."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from boxoffice.core.schemas import CommandModel, PaymentMethod, ReadModel, UtcDatetime


class TicketRead(ReadModel):
    ticket_id: str
    sale_id: str
    store_id: str
    package_id: str
    name: str
    type: str
    quota_or_minutes: int | None
    used: int
    status: Literal["active", "cancelled", "refunded", "expired"]
    valid_from: UtcDatetime
    valid_to: UtcDatetime
    short_code: str
    qr_token: str | None = Field(
        description="Only to the back office and the device that sold the ticket; null to any other device"
    )
    price: int
    payment_method: PaymentMethod
    printed_count: int
    zones: list[str]
    shift_id: str | None
    issued_by: str | None
    lot_no: str
    created_at: UtcDatetime
    refunded_amount: int | None = Field(default=None, description="What its refund paid back, satang")


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
        description="Made by the gate (a ULID); send it again, for the same ticket, to retry a scan whose "
        "answer was lost. One already used for another ticket or device answers 409 E_IDEMPOTENCY_MISMATCH",
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
    device_id: str | None = Field(
        default=None,
        max_length=40,
        description="The scanning device, as the spec's `{qr_token, device_id}` body names it: it must be "
        "the device signed in (403 E_PERMISSION otherwise); the server takes the device from the token",
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
