"""The pricing engine, pure: one function prices a cart for the POS, the kiosk, the quote endpoint
and the admin's preview alike, so they cannot disagree.

Order: base price (a time-of-day rule may replace it inside its window, in the store's zone) →
line rules by priority → cart rules by priority → promo code → manual discount → never below
zero → taxes per line (inclusive or exclusive, half-up to the satang). Within a stage, rules run
by priority (higher first, then rule id); a non-stackable rule that applies ends its stage.
Lines of the same package are merged and priced in package-id order, so the order in which a
cashier scanned them never changes a total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.core.money import BASIS_POINTS, allocate, percent_of, round_half_up

LINE_KINDS = frozenset({"line_percent", "line_amount"})
CART_KINDS = frozenset({"cart_percent", "cart_amount", "bundle"})
MAX_QTY = 999


class PricingError(ValueError):
    """A cart that cannot be priced; `kind` says why (unknown_package, bad_qty, promo_code)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class PricedPackage:
    package_id: str
    name: str
    price: int
    tax_profile_id: str | None = None
    components: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TaxProfile:
    tax_profile_id: str
    rate_bp: int
    inclusive: bool


@dataclass(frozen=True)
class Rule:
    rule_id: str
    name: str
    kind: str
    params: Mapping[str, Any]
    priority: int = 0
    stackable: bool = True
    active_from: datetime | None = None
    active_to: datetime | None = None
    days_of_week: frozenset[int] | None = None  # 0 = Monday, in the store's zone


@dataclass(frozen=True)
class CartLine:
    package_id: str
    qty: int


@dataclass(frozen=True)
class ManualDiscount:
    amount: int = 0
    percent_bp: int = 0


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    at: datetime
    tz: str
    promo_code: str | None = None
    manual_discount: ManualDiscount | None = None


@dataclass(frozen=True)
class Discount:
    rule_id: str | None
    kind: str
    name: str
    amount: int


@dataclass
class PricedLine:
    package_id: str
    name: str
    qty: int
    list_price: int
    unit_price: int
    price_rule_id: str | None
    base_total: int
    discounts: list[Discount] = field(default_factory=list)
    net_total: int = 0
    tax_profile_id: str = ""
    tax_rate_bp: int = 0
    tax_inclusive: bool = True
    tax: int = 0
    bundle_shares: list[tuple[str, int, int]] = field(default_factory=list)  # (package_id, qty, amount)

    def take(self, discount: Discount) -> None:
        if discount.amount > 0:
            self.discounts.append(discount)
            self.net_total -= discount.amount


@dataclass(frozen=True)
class AppliedRule:
    rule_id: str | None
    kind: str
    name: str
    amount: int


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    applied_rules: tuple[AppliedRule, ...]
    subtotal: int
    discount_total: int
    tax_total: int
    grand_total: int


# ---- when a rule applies ----------------------------------------------------------------------


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def rule_in_effect(rule: Rule, at: datetime, tz: str) -> bool:
    """Date window (UTC instants), weekday and, for time-of-day rules, the clock window — all in
    the store's zone. Windows include their start and exclude their end."""
    if rule.active_from is not None and at < rule.active_from:
        return False
    if rule.active_to is not None and at >= rule.active_to:
        return False
    local = at.astimezone(ZoneInfo(tz))
    if rule.days_of_week is not None and local.weekday() not in rule.days_of_week:
        return False
    if rule.kind == "time_of_day":
        start, end = _hhmm(rule.params["from"]), _hhmm(rule.params["to"])
        now = local.time().replace(tzinfo=None)
        return start <= now < end if start <= end else (now >= start or now < end)  # may wrap midnight
    return True


def _targets(rule: Rule, package_id: str) -> bool:
    ids = rule.params.get("package_ids") or []
    return not ids or package_id in ids


def _ordered(rules: Sequence[Rule], kinds: frozenset[str]) -> list[Rule]:
    return sorted((r for r in rules if r.kind in kinds), key=lambda r: (-r.priority, r.rule_id))


# ---- the stages ---------------------------------------------------------------------------------


def _merge(lines: Sequence[CartLine], catalog: Mapping[str, PricedPackage]) -> list[tuple[str, int]]:
    if not lines:
        raise PricingError("empty_cart", "The cart has no lines.")
    qty: dict[str, int] = {}
    for line in lines:
        if line.package_id not in catalog:
            raise PricingError("unknown_package", f"Package {line.package_id} is not for sale here.")
        if line.qty < 1:
            raise PricingError("bad_qty", "Quantities must be at least 1.")
        qty[line.package_id] = qty.get(line.package_id, 0) + line.qty
        if qty[line.package_id] > MAX_QTY:
            raise PricingError("bad_qty", f"At most {MAX_QTY} of one package per sale.")
    return sorted(qty.items())


def _base_lines(
    merged: list[tuple[str, int]], catalog: Mapping[str, PricedPackage], rules: Sequence[Rule]
) -> list[PricedLine]:
    time_rules = _ordered(rules, frozenset({"time_of_day"}))
    priced = []
    for package_id, qty in merged:
        package = catalog[package_id]
        override = next((r for r in time_rules if _targets(r, package_id)), None)
        unit = int(override.params["price"]) if override else package.price
        line = PricedLine(
            package_id=package_id,
            name=package.name,
            qty=qty,
            list_price=package.price,
            unit_price=unit,
            price_rule_id=override.rule_id if override else None,
            base_total=unit * qty,
        )
        line.net_total = line.base_total
        priced.append(line)
    return priced


def _apply_line_rules(lines: list[PricedLine], rules: Sequence[Rule]) -> None:
    ordered = _ordered(rules, LINE_KINDS)
    for line in lines:
        for rule in ordered:
            if not _targets(rule, line.package_id) or line.net_total <= 0:
                continue
            if rule.kind == "line_percent":
                amount = percent_of(line.net_total, int(rule.params["percent_bp"]))
            else:
                amount = int(rule.params["amount"]) * line.qty
            amount = min(amount, line.net_total)
            line.take(Discount(rule.rule_id, rule.kind, rule.name, amount))
            if amount > 0 and not rule.stackable:
                break


def _spread(lines: list[PricedLine], amount: int, discount: Discount) -> int:
    """Take a cart-level discount from the lines in proportion to what is left on each."""
    amount = min(amount, sum(line.net_total for line in lines))
    if amount <= 0:
        return 0
    for line, part in zip(lines, allocate(amount, [line.net_total for line in lines]), strict=True):
        line.take(Discount(discount.rule_id, discount.kind, discount.name, part))
    return amount


def _bundle_discount(lines: list[PricedLine], rule: Rule) -> tuple[int, list[PricedLine]]:
    by_package = {line.package_id: line for line in lines}
    items = [(str(i["package_id"]), int(i["qty"])) for i in rule.params["items"]]
    if not items or any(pid not in by_package or qty < 1 for pid, qty in items):
        return 0, []
    sets = min(by_package[pid].qty // qty for pid, qty in items)
    regular = sum(by_package[pid].unit_price * qty for pid, qty in items)
    saving = max(0, regular - int(rule.params["price"])) * sets
    return saving, [by_package[pid] for pid, _ in items]


def _apply_cart_rules(lines: list[PricedLine], rules: Sequence[Rule]) -> None:
    for rule in _ordered(rules, CART_KINDS):
        net = sum(line.net_total for line in lines)
        discount = Discount(rule.rule_id, rule.kind, rule.name, 0)
        if rule.kind == "bundle":
            saving, bundle_lines = _bundle_discount(lines, rule)
            applied = _spread(bundle_lines, saving, discount) if saving else 0
        elif net < int(rule.params.get("min_subtotal", 0)):
            applied = 0
        elif rule.kind == "cart_percent":
            applied = _spread(lines, percent_of(net, int(rule.params["percent_bp"])), discount)
        else:
            applied = _spread(lines, int(rule.params["amount"]), discount)
        if applied > 0 and not rule.stackable:
            break


def _apply_promo(lines: list[PricedLine], rules: Sequence[Rule], code: str | None) -> None:
    if not code:
        return
    wanted = code.strip().upper()
    promo = next(
        (r for r in _ordered(rules, frozenset({"promo_code"})) if str(r.params["code"]).upper() == wanted),
        None,
    )
    if promo is None:
        raise PricingError("promo_code", f"Promo code {wanted} is not valid here and now.")
    net = sum(line.net_total for line in lines)
    amount = (
        percent_of(net, int(promo.params["percent_bp"]))
        if promo.params.get("percent_bp")
        else int(promo.params.get("amount", 0))
    )
    _spread(lines, amount, Discount(promo.rule_id, "promo_code", f"{promo.name} ({wanted})", 0))


def _apply_manual(lines: list[PricedLine], manual: ManualDiscount | None) -> None:
    if manual is None:
        return
    net = sum(line.net_total for line in lines)
    amount = percent_of(net, manual.percent_bp) if manual.percent_bp else manual.amount
    _spread(lines, amount, Discount(None, "manual", "Manual discount", 0))


def _apply_taxes(
    lines: list[PricedLine],
    catalog: Mapping[str, PricedPackage],
    taxes: Mapping[str, TaxProfile],
    default_tax: str,
) -> None:
    for line in lines:
        profile = taxes[catalog[line.package_id].tax_profile_id or default_tax]
        line.tax_profile_id = profile.tax_profile_id
        line.tax_rate_bp = profile.rate_bp
        line.tax_inclusive = profile.inclusive
        if profile.inclusive:
            line.tax = round_half_up(line.net_total * profile.rate_bp, BASIS_POINTS + profile.rate_bp)
        else:
            line.tax = percent_of(line.net_total, profile.rate_bp)


def bundle_shares(
    net_total: int, qty: int, components: Sequence[tuple[str, int, int]]
) -> list[tuple[str, int, int]]:
    """Each component's share of a bundle line, by list-price ratio, summing exactly to the line.
    `components` holds (package_id, qty per bundle, list price)."""
    weights = [qty_each * qty * price for _, qty_each, price in components]
    parts = allocate(net_total, weights)
    return [(pid, qty_each * qty, part) for (pid, qty_each, _), part in zip(components, parts, strict=True)]


def payment_fee(amount: int, fee_bp: int, fee_satang: int) -> int:
    """A payment type's surcharge on `amount`: its percent (half-up) plus its fixed part; nothing
    on a sale that costs nothing."""
    return percent_of(amount, fee_bp) + fee_satang if amount > 0 else 0


def quote(
    cart: Cart,
    catalog: Mapping[str, PricedPackage],
    rules: Sequence[Rule],
    taxes: Mapping[str, TaxProfile],
    default_tax_profile_id: str,
) -> Quote:
    """Price the cart. `catalog` must also hold the components of any bundle in it."""
    if default_tax_profile_id not in taxes:
        raise PricingError("tax_profile", "The default tax profile is missing from the settings.")
    live = [r for r in rules if rule_in_effect(r, cart.at, cart.tz)]
    lines = _base_lines(_merge(cart.lines, catalog), catalog, live)
    _apply_line_rules(lines, live)
    _apply_cart_rules(lines, live)
    _apply_promo(lines, live, cart.promo_code)
    _apply_manual(lines, cart.manual_discount)
    for line in lines:
        package = catalog[line.package_id]
        if package.components:
            components = [(pid, qty_each, catalog[pid].price) for pid, qty_each in package.components]
            line.bundle_shares = bundle_shares(line.net_total, line.qty, components)
    _apply_taxes(lines, catalog, taxes, default_tax_profile_id)

    applied: dict[tuple[str | None, str, str], int] = {}
    for line in lines:
        for d in line.discounts:
            applied[(d.rule_id, d.kind, d.name)] = applied.get((d.rule_id, d.kind, d.name), 0) + d.amount
    subtotal = sum(line.base_total for line in lines)
    discount_total = sum(d.amount for line in lines for d in line.discounts)
    exclusive_tax = sum(line.tax for line in lines if not line.tax_inclusive)
    return Quote(
        lines=tuple(lines),
        applied_rules=tuple(
            AppliedRule(rid, kind, name, amount) for (rid, kind, name), amount in applied.items()
        ),
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=sum(line.tax for line in lines),
        grand_total=subtotal - discount_total + exclusive_tax,
    )
