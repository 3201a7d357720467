"""What a refund may pay back, pure: never more than was paid, never for what was used.

A ticket's price is its share of the sale, so refunding each ticket at most once can never pay
back more than the sale took. Used-up tickets get nothing; a partly used multi-visit or credit
ticket gets its unused share (rounded down) or nothing, as the tenant's `refunds` setting says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

PartialUse = Literal["pro_rata", "refuse"]


@dataclass(frozen=True)
class RefundLine:
    ticket_id: str
    amount: int
    used_seen: int  # the ticket is refunded only if nobody used it since this was read


@dataclass(frozen=True)
class Refusal:
    ticket_id: str
    reason: str


def effective_status(ticket: dict[str, Any], now: datetime) -> str:
    """`expired` is not stored: an active ticket past its validity is expired from that instant."""
    if ticket["status"] == "active" and now >= ticket["valid_to"]:
        return "expired"
    return str(ticket["status"])


def remaining(ticket: dict[str, Any]) -> int | None:
    """Visits, minutes or credit left; None for a single entry."""
    quota = ticket.get("quota_or_minutes")
    if ticket["type"] == "single" or quota is None:
        return None
    return max(0, int(quota) - int(ticket.get("used", 0)))


def refundable_amount(ticket: dict[str, Any], partial_use: PartialUse) -> int | str:
    """The amount this ticket may refund, or why it may not."""
    status = ticket["status"]
    if status != "active":
        return f"already {status}"
    used = int(ticket.get("used", 0))
    price = int(ticket["price"])
    if used == 0:
        return price
    kind = ticket["type"]
    if kind in ("single", "timepass"):
        return "already used" if kind == "single" else "already started"
    quota = int(ticket["quota_or_minutes"])
    if used >= quota:
        return "used up"
    if partial_use == "refuse":
        return "partly used (this venue refunds unused tickets only)"
    return price * (quota - used) // quota


def plan_refund(
    tickets: list[dict[str, Any]], partial_use: PartialUse
) -> tuple[list[RefundLine], list[Refusal]]:
    """Lines for the tickets that may be refunded, and refusals for those that may not."""
    lines: list[RefundLine] = []
    refusals: list[Refusal] = []
    for ticket in tickets:
        verdict = refundable_amount(ticket, partial_use)
        if isinstance(verdict, str):
            refusals.append(Refusal(ticket["ticket_id"], verdict))
        else:
            lines.append(RefundLine(ticket["ticket_id"], verdict, int(ticket.get("used", 0))))
    return lines, refusals
