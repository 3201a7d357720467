"""The gate's verdict on one scan, pure: PASS or FAIL with a reason, and what the pass uses.

Checked in this order: validity end (an expired ticket is `expired` whatever else holds), then
cancelled/refunded, not yet started, device and zone, the re-scan grace window, and finally the
ticket's own quota: single (one entry), multi (N visits), timepass (M minutes from the first
pass, re-entry allowed) and credit (each entry deducts the zone's price, never below zero).

`used` counts visits (single, multi), passes (timepass) or credit units (credit); `passes`
counts PASS verdicts and is the version the atomic update compares against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

Result = Literal["pass", "fail"]
Reason = Literal[
    "invalid_sig",
    "expired",
    "refunded",
    "cancelled",
    "not_started",
    "wrong_device",
    "duplicate_use",
    "exhausted",
]

#: The error code each FAIL reason is reported with (in `data.reason_code`).
REASON_CODES: dict[str, str] = {
    "invalid_sig": "E_INVALID_SIG",
    "expired": "E_EXPIRED",
    "refunded": "E_REFUNDED",
    "cancelled": "E_CANCELLED",
    "not_started": "E_NOT_STARTED",
    "wrong_device": "E_WRONG_DEVICE",
    "duplicate_use": "E_DUPLICATE_USE",
    "exhausted": "E_EXHAUSTED",
}


@dataclass(frozen=True)
class Scan:
    at: datetime
    device_id: str
    store_id: str
    zone: str | None = None
    amount: int | None = None  # credit to deduct, when the gate names it


@dataclass(frozen=True)
class GateRules:
    gate_binding: bool = False
    grace_seconds: int = 30
    zone_prices: dict[str, int] | None = None


@dataclass(frozen=True)
class Verdict:
    result: Result
    reason: Reason | None
    remaining: int | None  # visits, minutes or credit left after this scan; None for single
    changes: dict[str, Any]  # what a PASS writes on the ticket (empty for a FAIL)

    @property
    def reason_code(self) -> str | None:
        return REASON_CODES[self.reason] if self.reason else None


def _fail(reason: Reason, remaining: int | None) -> Verdict:
    return Verdict("fail", reason, remaining, {})


def _remaining_minutes(ticket: dict[str, Any], at: datetime) -> int:
    first = ticket.get("first_pass_at")
    total = int(ticket["quota_or_minutes"])
    if first is None:
        return total
    left = timedelta(minutes=total) - (at - first)
    minutes_left: int = math.ceil(left.total_seconds() / 60)
    return min(total, max(0, minutes_left))


def remaining_of(ticket: dict[str, Any], at: datetime) -> int | None:
    kind = ticket["type"]
    if kind == "single":
        return None if ticket.get("used", 0) == 0 else 0
    if kind == "timepass":
        return _remaining_minutes(ticket, at)
    return max(0, int(ticket["quota_or_minutes"]) - int(ticket.get("used", 0)))


def decide(ticket: dict[str, Any], scan: Scan, rules: GateRules) -> Verdict:
    """The verdict for `scan` against the ticket as stored now."""
    left = remaining_of(ticket, scan.at)
    if scan.at >= ticket["valid_to"]:
        return _fail("expired", left)
    if ticket["status"] in ("refunded", "cancelled"):
        return _fail(ticket["status"], left)
    if scan.at < ticket["valid_from"]:
        return _fail("not_started", left)
    allowed = ticket.get("allowed_devices")
    if allowed and scan.device_id not in allowed:
        return _fail("wrong_device", left)
    if ticket["store_id"] != scan.store_id:
        return _fail("wrong_device", left)
    zones = ticket.get("zones") or []
    if zones:
        if scan.zone is None and rules.gate_binding:  # a gate bound to no zone opens no zoned ticket
            return _fail("wrong_device", left)
        if scan.zone is not None and scan.zone not in zones:
            return _fail("wrong_device", left)

    kind = ticket["type"]
    used = int(ticket.get("used", 0))
    passes = int(ticket.get("passes", 0))
    stamp = {
        "passes": passes + 1,
        "last_pass_at": scan.at,
        "last_pass_device": scan.device_id,
    }
    last_at = ticket.get("last_pass_at")
    in_grace = (
        last_at is not None
        and ticket.get("last_pass_device") == scan.device_id
        and timedelta(0) <= scan.at - last_at < timedelta(seconds=rules.grace_seconds)
    )
    if kind == "single":
        if used >= 1:
            return _fail("duplicate_use", 0)
        return Verdict("pass", None, None, {**stamp, "used": 1})
    if kind == "multi":
        quota = int(ticket["quota_or_minutes"])
        if in_grace:
            return _fail("duplicate_use", left)
        if used >= quota:
            return _fail("exhausted", 0)
        return Verdict("pass", None, quota - used - 1, {**stamp, "used": used + 1})
    if kind == "timepass":
        if ticket.get("first_pass_at") is None:
            minutes = int(ticket["quota_or_minutes"])
            return Verdict("pass", None, minutes, {**stamp, "used": used + 1, "first_pass_at": scan.at})
        if left == 0:
            return _fail("exhausted", 0)
        return Verdict("pass", None, left, {**stamp, "used": used + 1})
    if kind == "credit":
        if in_grace:
            return _fail("duplicate_use", left)
        price = scan.amount if scan.amount is not None else (rules.zone_prices or {}).get(scan.zone or "", 0)
        balance = int(ticket["quota_or_minutes"]) - used
        if price > balance or balance <= 0:
            return _fail("exhausted", balance)
        return Verdict("pass", None, balance - price, {**stamp, "used": used + price})
    raise ValueError(f"a {kind} ticket is not scanned (bundles issue their parts)")
