"""The gate's verdict on one scan, pure: PASS or FAIL with a reason, and what the pass uses.

Checked in this order: validity end (an expired ticket is `expired` whatever else holds), then
cancelled/refunded, not yet started, device and zone, the re-scan grace window, and finally the
ticket's own quota: single (one entry), multi (N visits), timepass (M minutes from the first
pass, re-entry allowed) and credit (each entry deducts the zone's price, never below zero).

`used` counts visits (single, multi), passes (timepass) or credit units (credit); `passes`
counts every PASS the ticket gave (one a later merge displaced included) and is the version the
atomic update compares against.

A PASS a gate granted offline (`granted=True`) really let someone in, so it is judged differently:
the checks that depend on the gate's clock and set-up (validity window, device, zone) do not undo
it — it uses the ticket, and the server's own reason is kept (`overridden`) for an incident. Only a
ticket that is void (refunded, cancelled) or has no use left refuses it; when no use is left, the
earliest PASS stands (`displace`): later standing passes give way and become the conflicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
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
    #: The server's own FAIL reason that a gate's offline PASS stands over (for an incident).
    overridden: Reason | None = None
    #: What the PASS used: 1 (a visit or pass) or the credit deducted; what a displacement frees.
    units: int = 0

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


def _blocked(ticket: dict[str, Any], scan: Scan, rules: GateRules) -> Reason | None:
    """The first check before the quota that refuses the scan, in the documented order."""
    if scan.at >= ticket["valid_to"]:
        return "expired"
    if ticket["status"] in ("refunded", "cancelled"):
        return "refunded" if ticket["status"] == "refunded" else "cancelled"
    if scan.at < ticket["valid_from"]:
        return "not_started"
    allowed = ticket.get("allowed_devices")
    if allowed and scan.device_id not in allowed:
        return "wrong_device"
    if ticket["store_id"] != scan.store_id:
        return "wrong_device"
    zones = ticket.get("zones") or []
    if zones:
        if scan.zone is None and rules.gate_binding:  # a gate bound to no zone opens no zoned ticket
            return "wrong_device"
        if scan.zone is not None and scan.zone not in zones:
            return "wrong_device"
    return None


def in_grace(ticket: dict[str, Any], scan: Scan, rules: GateRules) -> bool:
    """A re-scan at the gate that let the ticket in last, within the grace window: not a new use."""
    last_at = ticket.get("last_pass_at")
    return (
        last_at is not None
        and ticket.get("last_pass_device") == scan.device_id
        and timedelta(0) <= scan.at - last_at < timedelta(seconds=rules.grace_seconds)
    )


def _price(scan: Scan, rules: GateRules) -> int:
    return scan.amount if scan.amount is not None else (rules.zone_prices or {}).get(scan.zone or "", 0)


def _stamp(ticket: dict[str, Any], scan: Scan) -> dict[str, Any]:
    """What every PASS writes: the version, and the latest pass (an offline scan uploaded late may
    be older than the one recorded: the latest stays)."""
    stamp: dict[str, Any] = {"passes": int(ticket.get("passes", 0)) + 1}
    last_at = ticket.get("last_pass_at")
    if last_at is None or scan.at >= last_at:
        stamp.update(last_pass_at=scan.at, last_pass_device=scan.device_id)
    return stamp


def decide(ticket: dict[str, Any], scan: Scan, rules: GateRules, *, granted: bool = False) -> Verdict:
    """The verdict for `scan` against the ticket as stored now. `granted`: a PASS the gate gave
    offline, judged on the quota alone (see the module's note)."""
    left = remaining_of(ticket, scan.at)
    if granted and ticket["status"] in ("refunded", "cancelled"):
        return _fail("refunded" if ticket["status"] == "refunded" else "cancelled", left)
    blocked = _blocked(ticket, scan, rules)
    if blocked is not None and not granted:
        return _fail(blocked, left)
    verdict = _on_quota(ticket, scan, rules, left)
    return replace(verdict, overridden=blocked) if blocked is not None else verdict


def _on_quota(ticket: dict[str, Any], scan: Scan, rules: GateRules, left: int | None) -> Verdict:
    kind = ticket["type"]
    used = int(ticket.get("used", 0))
    stamp = _stamp(ticket, scan)
    grace = in_grace(ticket, scan, rules)
    if kind == "single":
        if used >= 1:
            return _fail("duplicate_use", 0)
        return Verdict("pass", None, None, {**stamp, "used": 1}, units=1)
    if kind == "multi":
        quota = int(ticket["quota_or_minutes"])
        if grace:
            return _fail("duplicate_use", left)
        if used >= quota:
            return _fail("exhausted", 0)
        return Verdict("pass", None, quota - used - 1, {**stamp, "used": used + 1}, units=1)
    if kind == "timepass":
        first = ticket.get("first_pass_at")
        if first is None or scan.at < first:  # the clock runs from the earliest pass
            minutes = int(ticket["quota_or_minutes"])
            changes = {**stamp, "used": used + 1, "first_pass_at": scan.at}
            return Verdict("pass", None, minutes, changes, units=1)
        if left == 0:
            return _fail("exhausted", 0)
        return Verdict("pass", None, left, {**stamp, "used": used + 1}, units=1)
    if kind == "credit":
        if grace:
            return _fail("duplicate_use", left)
        price = _price(scan, rules)
        balance = int(ticket["quota_or_minutes"]) - used
        if price > balance or balance <= 0:
            return _fail("exhausted", balance)
        return Verdict("pass", None, balance - price, {**stamp, "used": used + price}, units=price)
    raise ValueError(f"a {kind} ticket is not scanned (bundles issue their parts)")


@dataclass(frozen=True)
class StandingPass:
    """A PASS a ticket's records hold, as a later offline upload sees it."""

    redemption_id: str
    device_id: str
    at: datetime
    units: int  # what it used (0: unknown, never displaced)


def displace(
    ticket: dict[str, Any], scan: Scan, rules: GateRules, standing: list[StandingPass], refused: Verdict
) -> tuple[Verdict, list[StandingPass]] | None:
    """The earliest PASS stands, whatever order the gates upload in: an offline PASS the gate
    granted that finds no use left (`refused`) takes the place of the latest standing passes made
    after it, as many as it needs; they become the conflicts. None when no later pass frees
    enough — then this one is the later PASS, the conflict. (A timepass has no use to take: its
    clock simply runs from the earliest pass.)"""
    kind = ticket["type"]
    if kind not in ("single", "multi", "credit") or refused.reason not in ("duplicate_use", "exhausted"):
        return None
    if kind != "single" and in_grace(ticket, scan, rules):
        return None  # a re-scan of the visitor just let in, not a second use
    need = _price(scan, rules) if kind == "credit" else 1
    if need <= 0:
        return None
    total = 1 if kind == "single" else int(ticket["quota_or_minutes"])
    room = total - int(ticket.get("used", 0))
    later = sorted(
        (p for p in standing if p.at > scan.at and p.units > 0),
        key=lambda p: (p.at, p.redemption_id),
        reverse=True,
    )
    gone: list[StandingPass] = []
    for standing_pass in later:
        if room >= need:
            break
        gone.append(standing_pass)
        room += standing_pass.units
    if not gone or room < need:
        return None
    used = total - room + need
    kept = [p for p in standing if p not in gone]
    latest_at, latest_device = scan.at, scan.device_id
    for p in kept:
        if p.at > latest_at:
            latest_at, latest_device = p.at, p.device_id
    changes = {
        "passes": int(ticket.get("passes", 0)) + 1,
        "used": used,
        "last_pass_at": latest_at,
        "last_pass_device": latest_device,
    }
    remaining = None if kind == "single" else total - used
    return Verdict("pass", None, remaining, changes, refused.overridden, need), gone


def make_way(
    ticket: dict[str, Any], scan: Scan, rules: GateRules, own: list[StandingPass], verdict: Verdict
) -> tuple[Verdict, list[StandingPass]] | None:
    """A device already has its offline cap of standing passes on this ticket (`own`): its earliest
    stand, so an offline PASS it made before the latest of them takes that one's place (which
    becomes the conflict). None when it made none later: this one is over the cap."""
    later = [p for p in own if p.at > scan.at and p.units > 0]
    if not later:
        return None
    latest = max(later, key=lambda p: (p.at, p.redemption_id))
    if verdict.result == "fail":  # no use left either: the ordinary displacement, of that pass only
        return displace(ticket, scan, rules, [latest], verdict)
    changes = {**verdict.changes, "used": int(verdict.changes["used"]) - latest.units}
    remaining = verdict.remaining
    if remaining is not None and ticket["type"] in ("multi", "credit"):
        remaining += latest.units
    return replace(verdict, changes=changes, remaining=remaining), [latest]


def offline_cap(ticket: dict[str, Any], device_cap: int) -> int:
    """Offline passes one device may give this ticket: the device's `offline_cap`, and never more
    than the ticket's own uses — a single entry passes once per gate offline, N visits N times
    (a timepass or a credit ticket is bounded by its time or balance, and the device's cap)."""
    kind = ticket["type"]
    own = 1 if kind == "single" else int(ticket["quota_or_minutes"]) if kind == "multi" else device_cap
    return max(0, min(device_cap, own))
