"""Packages and pricing rules (CRUD with audit), what a device may sell, and quotes.

`quote_cart` is the one way a cart gets a price: the quote endpoint, the admin's preview and
sales all call it, and it calls the pure engine in pricing.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boxoffice.access.principal import ALL_STORES, Principal
from boxoffice.audit import service as audit
from boxoffice.catalog import pricing
from boxoffice.catalog.conflicts import RuleShape, first_conflict
from boxoffice.catalog.context import store_context
from boxoffice.catalog.repository import EVERY_STORE, PackageRepository, RuleRepository
from boxoffice.catalog.schemas import (
    Component,
    PackageCreate,
    PackageUpdate,
    QuoteRequest,
    RuleCreate,
    RuleUpdate,
    check_package_shape,
    clean_params,
)
from boxoffice.core.db import Document
from boxoffice.core.deps import Deps
from boxoffice.core.errors import (
    ApprovalRequired,
    Conflict,
    NotFound,
    PaymentTypeDisabled,
    PermissionDenied,
    ValidationFailed,
)
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.settings import service as settings_service
from boxoffice.staff.service import approval_is_valid
from boxoffice.tenancy.repository import StoreRepository
from boxoffice.tenancy.service import get_store


class RuleConflict(Conflict):
    code = "E_RULE_CONFLICT"


def to_api(doc: Document) -> Document:
    """Stored "" (every store) is null in the API."""
    return {**doc, "store_id": doc.get("store_id") or None}


def _window_open(window: dict[str, Any] | None, at: datetime) -> bool:
    if not window:
        return True
    start, end = window.get("from"), window.get("to")
    return (start is None or at >= start) and (end is None or at < end)


def _require_catalog_write(principal: Principal, store_id: str | None) -> None:
    if store_id is None:
        if "catalog_write" not in principal.grants.get(ALL_STORES, frozenset()):
            raise PermissionDenied("Packages and rules for every store need catalog_write at every store.")
    else:
        principal.require_at("catalog_write", store_id)


def readable_scope(principal: Principal) -> Scope:
    """Staff who write the catalog or read reports may read it."""
    for permission in ("catalog_write", "reports_view"):
        stores = principal.stores_with(permission)
        if stores is None or stores:
            return principal.scope_with(permission)
    raise PermissionDenied("This needs the catalog_write or reports_view permission.")


# ---- packages -----------------------------------------------------------------------------------


async def _tenant_settings(deps: Deps, tenant_id: str) -> dict[str, Any]:
    values: dict[str, Any] = (await settings_service.effective(deps, tenant_id, None))["values"]
    return values


async def _check_references(
    deps: Deps, principal: Principal, fields: dict[str, Any], package_id: str | None
) -> None:
    """Components, zones and the tax profile must exist; a bundle holds no bundles (or itself)."""
    repo = PackageRepository(deps.db, Scope(principal.tenant_id))
    for component in fields.get("components") or []:
        found = await repo.find_one({"package_id": component["package_id"]})
        if found is None or component["package_id"] == package_id:
            raise ValidationFailed(f"Component {component['package_id']} is not a package of yours.")
        if found["type"] == "bundle":
            raise ValidationFailed("A bundle cannot contain another bundle.")
    values = await _tenant_settings(deps, principal.tenant_id)
    zones = {z["zone_id"] for z in values["zones"]}
    unknown = sorted(set(fields.get("zones") or []) - zones)
    if unknown:
        raise ValidationFailed(f"Unknown access zone(s): {', '.join(unknown)}; add them under Access zones.")
    priced_at = sorted(fields.get("store_prices") or {})
    if priced_at:
        known = {
            s["store_id"]
            for s in await StoreRepository(deps.db, Scope(principal.tenant_id)).find_many(
                {"store_id": {"$in": priced_at}}, projection={"_id": 0, "store_id": 1}
            )
        }
        strangers = [s for s in priced_at if s not in known]
        if strangers:
            raise ValidationFailed(f"store_prices names unknown store(s): {', '.join(strangers)}.")
    tax = fields.get("tax_profile_id")
    if tax is not None and tax not in {p["tax_profile_id"] for p in values["taxes"]["profiles"]}:
        raise ValidationFailed(f"Unknown tax profile {tax}.")


async def list_packages(
    deps: Deps, scope: Scope, store_id: str | None, include_inactive: bool
) -> list[Document]:
    if store_id is not None and not scope.allows_store(store_id):
        raise NotFound("Store not found.")
    docs = await PackageRepository(deps.db, Scope(scope.tenant_id)).for_store(
        store_id, active_only=not include_inactive
    )
    if scope.store_ids is not None:
        docs = [d for d in docs if not d["store_id"] or d["store_id"] in scope.store_ids]
    return [to_api(d) for d in docs]


async def device_packages(deps: Deps, device: Document) -> list[Document]:
    """What this device may sell now: its type may show it, it is active and inside its window,
    and it is not reserved for other devices."""
    now = deps.clock.now()
    docs = await PackageRepository(deps.db, Scope(device["tenant_id"])).for_store(
        device["store_id"], active_only=True
    )
    return [
        to_api(d)
        for d in docs
        if d.get("visible_on", {}).get(device["type"], False)
        and _window_open(d.get("active_window"), now)
        and (d.get("allowed_devices") is None or device["device_id"] in d["allowed_devices"])
    ]


async def get_package(deps: Deps, scope: Scope, package_id: str) -> Document:
    doc = await PackageRepository(deps.db, Scope(scope.tenant_id)).get({"package_id": package_id}, "Package")
    if doc["store_id"] and not scope.allows_store(doc["store_id"]):
        raise NotFound("Package not found.")
    return to_api(doc)


async def create_package(deps: Deps, principal: Principal, body: PackageCreate) -> Document:
    _require_catalog_write(principal, body.store_id)
    if body.store_id is not None:
        await get_store(deps, principal.visible_scope(), body.store_id)
    fields = body.model_dump(mode="python", by_alias=True)
    await _check_references(deps, principal, fields, None)
    now = deps.clock.now()
    doc = {
        **fields,
        "package_id": new_id(),
        "store_id": body.store_id or EVERY_STORE,
        "created_at": now,
        "updated_at": now,
    }
    saved = await PackageRepository(deps.db, Scope(principal.tenant_id)).insert(doc)
    await audit.record(
        deps,
        principal,
        "package.created",
        {"package_id": saved["package_id"], "name": body.name, "price": body.price},
        store_id=body.store_id,
    )
    return to_api(saved)


async def update_package(deps: Deps, principal: Principal, package_id: str, body: PackageUpdate) -> Document:
    before = await get_package(deps, principal.visible_scope(), package_id)
    _require_catalog_write(principal, before["store_id"])
    changes = body.model_dump(mode="python", by_alias=True, exclude_unset=True)
    if "store_id" in changes:
        _require_catalog_write(principal, changes["store_id"])
        changes["store_id"] = changes["store_id"] or EVERY_STORE
    merged = {**before, **changes}
    try:
        check_package_shape(
            merged["type"],
            merged.get("quota_or_minutes"),
            [_component(c) for c in merged.get("components") or []],
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    await _check_references(deps, principal, changes, package_id)
    if not changes:
        return before
    changes["updated_at"] = deps.clock.now()
    after = await PackageRepository(deps.db, Scope(principal.tenant_id)).find_one_and_update(
        {"package_id": package_id}, {"$set": changes}
    )
    if after is None:
        raise NotFound("Package not found.")
    shown = {k: v for k, v in changes.items() if k != "updated_at"}
    await audit.record(
        deps,
        principal,
        "package.updated",
        {"package_id": package_id, "before": {k: before.get(k) for k in shown}, "after": shown},
        store_id=before["store_id"],
    )
    return to_api(after)


def _component(value: dict[str, Any]) -> Component:
    return Component.model_validate(value)


async def archive_package(deps: Deps, principal: Principal, package_id: str) -> Document:
    return await update_package(deps, principal, package_id, PackageUpdate(active=False))


# ---- rules --------------------------------------------------------------------------------------


def _shape(doc: Document) -> RuleShape:
    window = doc.get("active_window") or {}
    days = doc.get("days_of_week")
    return RuleShape(
        rule_id=doc["rule_id"],
        name=doc["name"],
        kind=doc["kind"],
        store_id=doc.get("store_id") or EVERY_STORE,
        params=doc["params"],
        priority=int(doc["priority"]),
        active=bool(doc["active"]),
        active_from=window.get("from"),
        active_to=window.get("to"),
        days_of_week=frozenset(days) if days is not None else None,
    )


async def _refuse_conflicts(deps: Deps, tenant_id: str, candidate: Document) -> None:
    store = candidate.get("store_id") or None
    others = await RuleRepository(deps.db, Scope(tenant_id)).for_store(store, active_only=True)
    clash = first_conflict(_shape(candidate), [_shape(o) for o in others if not o.get("deleted")])
    if clash is not None:
        raise RuleConflict(
            f'This rule would silently conflict with "{clash.name}" (same priority, overlapping '
            "packages, stores and times). Change the priority, the targets or the window.",
            details={"rule_id": clash.rule_id, "name": clash.name},
        )


async def list_rules(deps: Deps, scope: Scope, store_id: str | None) -> list[Document]:
    if store_id is not None and not scope.allows_store(store_id):
        raise NotFound("Store not found.")
    docs = await RuleRepository(deps.db, Scope(scope.tenant_id)).for_store(store_id, active_only=False)
    visible = [
        d for d in docs if not d.get("deleted") and (not d["store_id"] or scope.allows_store(d["store_id"]))
    ]
    return [to_api(d) for d in visible]


async def create_rule(deps: Deps, principal: Principal, body: RuleCreate) -> Document:
    _require_catalog_write(principal, body.store_id)
    if body.store_id is not None:
        await get_store(deps, principal.visible_scope(), body.store_id)
    doc = {
        **body.model_dump(mode="python", by_alias=True),
        "rule_id": new_id(),
        "store_id": body.store_id or EVERY_STORE,
        "deleted": False,
    }
    await _refuse_conflicts(deps, principal.tenant_id, doc)
    saved = await RuleRepository(deps.db, Scope(principal.tenant_id)).insert(doc)
    await audit.record(
        deps,
        principal,
        "pricing_rule.created",
        {"rule_id": saved["rule_id"], "name": body.name, "kind": body.kind},
        store_id=body.store_id,
    )
    return to_api(saved)


async def _get_rule(deps: Deps, principal: Principal, rule_id: str) -> Document:
    doc = await RuleRepository(deps.db, Scope(principal.tenant_id)).get(
        {"rule_id": rule_id, "deleted": False}, "Pricing rule"
    )
    if doc["store_id"] and not principal.visible_scope().allows_store(doc["store_id"]):
        raise NotFound("Pricing rule not found.")
    _require_catalog_write(principal, doc["store_id"] or None)
    return doc


async def update_rule(deps: Deps, principal: Principal, rule_id: str, body: RuleUpdate) -> Document:
    before = await _get_rule(deps, principal, rule_id)
    changes = body.model_dump(mode="python", by_alias=True, exclude_unset=True)
    if "params" in changes:
        try:
            changes["params"] = clean_params(before["kind"], changes["params"] or {})
        except ValueError as exc:
            raise ValidationFailed(f"The {before['kind']} parameters are not valid: {exc}") from exc
    if not changes:
        return to_api(before)
    await _refuse_conflicts(deps, principal.tenant_id, {**before, **changes})
    after = await RuleRepository(deps.db, Scope(principal.tenant_id)).find_one_and_update(
        {"rule_id": rule_id}, {"$set": changes}
    )
    assert after is not None
    await audit.record(
        deps,
        principal,
        "pricing_rule.updated",
        {"rule_id": rule_id, "before": {k: before.get(k) for k in changes}, "after": changes},
        store_id=before["store_id"] or None,
    )
    return to_api(after)


async def delete_rule(deps: Deps, principal: Principal, rule_id: str) -> Document:
    """Kept (inactive, marked deleted) so past sales still name the rules they used."""
    before = await _get_rule(deps, principal, rule_id)
    after = await RuleRepository(deps.db, Scope(principal.tenant_id)).find_one_and_update(
        {"rule_id": rule_id}, {"$set": {"active": False, "deleted": True}}
    )
    assert after is not None
    await audit.record(
        deps,
        principal,
        "pricing_rule.deleted",
        {"rule_id": rule_id, "name": before["name"]},
        store_id=before["store_id"] or None,
    )
    return to_api(after)


# ---- quotes -------------------------------------------------------------------------------------


def _engine_rule(doc: Document) -> pricing.Rule:
    window = doc.get("active_window") or {}
    days = doc.get("days_of_week")
    return pricing.Rule(
        rule_id=doc["rule_id"],
        name=doc["name"],
        kind=doc["kind"],
        params=doc["params"],
        priority=int(doc["priority"]),
        stackable=bool(doc["stackable"]),
        active_from=window.get("from"),
        active_to=window.get("to"),
        days_of_week=frozenset(days) if days is not None else None,
    )


def _engine_package(doc: Document, store_id: str, multi_price: bool) -> pricing.PricedPackage:
    """The package as the engine prices it at this store: its store price while multi_price is on."""
    price = (doc.get("store_prices") or {}).get(store_id) if multi_price else None
    return pricing.PricedPackage(
        package_id=doc["package_id"],
        name=doc["name"],
        price=int(price if price is not None else doc["price"]),
        tax_profile_id=doc.get("tax_profile_id"),
        components=tuple((c["package_id"], int(c["qty"])) for c in doc.get("components") or []),
    )


def discount_size(body: QuoteRequest) -> tuple[int, int] | None:
    """(amount, percent_bp) of the cart's manual discount, which its approval must cover."""
    if body.manual_discount is None:
        return None
    return body.manual_discount.amount or 0, body.manual_discount.percent_bp or 0


def payment_type(settings: dict[str, Any], method: str) -> dict[str, Any]:
    """The store's payment type for `method`; refused when it is missing or turned off."""
    for kind in settings["payment_types"]:
        if kind["code"] == method and kind["enabled"]:
            return dict(kind)
    raise PaymentTypeDisabled(f"Payment by {method} is turned off at this store.")


async def _check_manual_discount(deps: Deps, principal: Principal, store_id: str, body: QuoteRequest) -> None:
    if body.manual_discount is None or "manual_discount" in principal.permissions_at(store_id):
        return
    if body.approval_token and await approval_is_valid(
        deps,
        tenant_id=principal.tenant_id,
        token=body.approval_token,
        action="manual_discount",
        store_id=store_id,
        discount=discount_size(body),
    ):
        return
    if principal.device is not None:
        raise ApprovalRequired("A manual discount needs a supervisor's approval (manual_discount).")
    raise PermissionDenied("This needs the manual_discount permission at this store.")


@dataclass(frozen=True)
class PricingContext:
    """What pricing loaded, handed on so a sale does not read it all again."""

    store: Document
    settings: dict[str, Any]
    packages: dict[str, Document]


async def quote_cart(deps: Deps, principal: Principal, body: QuoteRequest) -> dict[str, Any]:
    quote, _ = await price_cart(deps, principal, body)
    return quote


async def price_cart(
    deps: Deps, principal: Principal, body: QuoteRequest
) -> tuple[dict[str, Any], PricingContext]:
    if not principal.visible_scope().allows_store(body.store_id):
        raise NotFound("Store not found.")
    loaded = await store_context(deps, principal.tenant_id, body.store_id)
    store, settings, every = loaded.store, loaded.settings, loaded.packages
    if not store.get("active", True):
        raise ValidationFailed("This store is closed.")
    await _check_manual_discount(deps, principal, body.store_id, body)
    at = body.at or deps.clock.now()
    if at.tzinfo is None:
        raise ValidationFailed("at needs a zone, e.g. 2026-11-26T05:00:00Z.")
    sellable = {
        d["package_id"]
        for d in every
        if d["active"]
        and _window_open(d.get("active_window"), at)
        and (principal.device is None or d.get("visible_on", {}).get(principal.device["type"], False))
        and (
            principal.device is None
            or d.get("allowed_devices") is None
            or principal.device_id in d["allowed_devices"]
        )
    }
    for line in body.lines:
        if line.package_id not in sellable:
            raise ValidationFailed(
                f"Package {line.package_id} is not for sale here now.",
                details=[{"loc": ["body", "lines"], "msg": f"{line.package_id} is not for sale"}],
            )
    multi_price = bool(settings["features"]["multi_price"])
    catalog = {d["package_id"]: _engine_package(d, body.store_id, multi_price) for d in every}
    rules = [_engine_rule(r) for r in loaded.rules]
    taxes = {
        p["tax_profile_id"]: pricing.TaxProfile(p["tax_profile_id"], int(p["rate_bp"]), bool(p["inclusive"]))
        for p in settings["taxes"]["profiles"]
    }
    manual = (
        pricing.ManualDiscount(
            amount=body.manual_discount.amount or 0, percent_bp=body.manual_discount.percent_bp or 0
        )
        if body.manual_discount
        else None
    )
    cart = pricing.Cart(
        lines=tuple(pricing.CartLine(line.package_id, line.qty) for line in body.lines),
        at=at,
        tz=store["tz"],
        promo_code=body.promo_code,
        manual_discount=manual,
    )
    try:
        result = pricing.quote(cart, catalog, rules, taxes, settings["taxes"]["default_profile_id"])
    except pricing.PricingError as exc:
        raise ValidationFailed(exc.message, details=[{"loc": ["body"], "msg": exc.kind}]) from exc
    fee = 0
    if body.payment_method is not None:
        kind = payment_type(settings, body.payment_method)
        fee = pricing.payment_fee(result.grand_total, int(kind["fee_bp"]), int(kind["fee_satang"]))
    context = PricingContext(store, settings, {d["package_id"]: d for d in every})
    view = _quote_view(body.store_id, store["tz"], at, result)
    view.update(payment_method=body.payment_method, payment_fee=fee, amount_due=result.grand_total + fee)
    return view, context


def _quote_view(store_id: str, tz: str, at: datetime, result: pricing.Quote) -> dict[str, Any]:
    def discounts(items: Sequence[pricing.Discount | pricing.AppliedRule]) -> list[dict[str, Any]]:
        return [{"rule_id": d.rule_id, "kind": d.kind, "name": d.name, "amount": d.amount} for d in items]

    return {
        "store_id": store_id,
        "tz": tz,
        "priced_at": at,
        "currency": "THB",
        "lines": [
            {
                "package_id": line.package_id,
                "name": line.name,
                "qty": line.qty,
                "list_price": line.list_price,
                "unit_price": line.unit_price,
                "price_rule_id": line.price_rule_id,
                "base_total": line.base_total,
                "discounts": discounts(line.discounts),
                "net_total": line.net_total,
                "tax_profile_id": line.tax_profile_id,
                "tax_rate_bp": line.tax_rate_bp,
                "tax_inclusive": line.tax_inclusive,
                "tax": line.tax,
                "bundle_shares": [{"package_id": p, "qty": q, "amount": a} for p, q, a in line.bundle_shares],
            }
            for line in result.lines
        ],
        "applied_rules": discounts(result.applied_rules),
        "subtotal": result.subtotal,
        "discount_total": result.discount_total,
        "tax_total": result.tax_total,
        "grand_total": result.grand_total,
    }
