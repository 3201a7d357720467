"""Packages, pricing rules and quotes as the API takes and gives them. Money is satang."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from boxoffice.core.money import MAX_SATANG
from boxoffice.core.schemas import NOT_BLANK, CommandModel, PaymentMethod, ReadModel, UtcDatetime

PackageType = Literal["single", "multi", "timepass", "credit", "bundle"]
RuleKind = Literal[
    "line_percent", "line_amount", "cart_percent", "cart_amount", "promo_code", "bundle", "time_of_day"
]
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
ID = Field(min_length=1, max_length=64)


class Component(CommandModel):
    package_id: str = ID
    qty: int = Field(ge=1, le=100)


class VisibleOn(CommandModel):
    POS: bool = True
    KIOSK: bool = True


class Window(CommandModel):
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        for value in (self.from_, self.to):
            if value is not None and value.tzinfo is None:
                raise ValueError("window times need a zone, e.g. 2026-12-01T00:00:00Z")
        if self.from_ and self.to and self.to <= self.from_:
            raise ValueError("a window must end after it starts")
        return self


class DaysAfterSale(CommandModel):
    kind: Literal["days_after_sale"] = "days_after_sale"
    days: int = Field(default=1, ge=1, le=3660)


class FixedDates(CommandModel):
    kind: Literal["fixed"]
    valid_from: datetime
    valid_to: datetime

    @model_validator(mode="after")
    def _ordered(self) -> FixedDates:
        if self.valid_from.tzinfo is None or self.valid_to.tzinfo is None:
            raise ValueError("validity dates need a zone")
        if self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


Validity = DaysAfterSale | FixedDates


StorePrices = Annotated[dict[str, Annotated[int, Field(ge=0, le=MAX_SATANG)]], Field(max_length=500)]


class PackageFields(CommandModel):
    store_id: str | None = Field(default=None, max_length=64, description="null: sold at every store")
    name: str = Field(min_length=1, max_length=80, pattern=NOT_BLANK)
    type: PackageType
    price: int = Field(ge=0, le=MAX_SATANG, description="Satang, tax as the tax profile says")
    store_prices: StorePrices = Field(
        default_factory=dict,
        description="Store id → price in satang at that store, while the multi_price feature is on",
    )
    tax_profile_id: str | None = Field(default=None, max_length=40, description="null: the default profile")
    quota_or_minutes: int | None = Field(default=None, ge=1, le=1_000_000)
    components: list[Component] = Field(default_factory=list, max_length=20)
    zones: list[str] = Field(default_factory=list, max_length=50)
    allowed_devices: list[str] | None = Field(default=None, max_length=500)
    visible_on: VisibleOn = Field(default_factory=VisibleOn)
    active_window: Window | None = None
    active: bool = True
    validity: Validity = Field(default_factory=DaysAfterSale, discriminator="kind")


def check_package_shape(kind: str, quota: int | None, components: list[Component]) -> None:
    if kind == "bundle":
        if not components:
            raise ValueError("a bundle needs components")
    elif components:
        raise ValueError("only bundles have components")
    if kind in ("multi", "timepass", "credit") and quota is None:
        raise ValueError(f"a {kind} package needs quota_or_minutes (visits, minutes or credit units)")
    if kind in ("single", "bundle") and quota not in (None, 1):
        raise ValueError(f"a {kind} package has no quota")


class PackageCreate(PackageFields):
    @model_validator(mode="after")
    def _shape(self) -> PackageCreate:
        check_package_shape(self.type, self.quota_or_minutes, self.components)
        return self


class PackageUpdate(CommandModel):
    store_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=80, pattern=NOT_BLANK)
    price: int | None = Field(default=None, ge=0, le=MAX_SATANG)
    store_prices: StorePrices | None = None
    tax_profile_id: str | None = Field(default=None, max_length=40)
    quota_or_minutes: int | None = Field(default=None, ge=1, le=1_000_000)
    components: list[Component] | None = Field(default=None, max_length=20)
    zones: list[str] | None = Field(default=None, max_length=50)
    allowed_devices: list[str] | None = Field(default=None, max_length=500)
    visible_on: VisibleOn | None = None
    active_window: Window | None = None
    active: bool | None = None
    validity: Validity | None = Field(default=None, discriminator="kind")


class WindowRead(BaseModel):
    from_: UtcDatetime | None = Field(default=None, serialization_alias="from")
    to: UtcDatetime | None = None


class PackageRead(ReadModel):
    package_id: str
    store_id: str | None
    name: str
    type: PackageType
    price: int
    store_prices: dict[str, int] = Field(default_factory=dict)
    tax_profile_id: str | None
    quota_or_minutes: int | None
    components: list[dict[str, Any]]
    zones: list[str]
    allowed_devices: list[str] | None
    visible_on: dict[str, bool]
    active_window: WindowRead | None
    active: bool
    validity: dict[str, Any]
    created_at: UtcDatetime
    updated_at: UtcDatetime


# ---- pricing rules ------------------------------------------------------------------------------


class LinePercent(CommandModel):
    package_ids: list[str] = Field(default_factory=list, max_length=200)
    percent_bp: int = Field(ge=0, le=10_000)


class LineAmount(CommandModel):
    package_ids: list[str] = Field(default_factory=list, max_length=200)
    amount: int = Field(ge=0, le=MAX_SATANG)


class CartPercent(CommandModel):
    percent_bp: int = Field(ge=0, le=10_000)
    min_subtotal: int = Field(default=0, ge=0, le=MAX_SATANG)


class CartAmount(CommandModel):
    amount: int = Field(ge=0, le=MAX_SATANG)
    min_subtotal: int = Field(default=0, ge=0, le=MAX_SATANG)


class PromoCode(CommandModel):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{3,32}$")
    percent_bp: int | None = Field(default=None, ge=0, le=10_000)
    amount: int | None = Field(default=None, ge=0, le=MAX_SATANG)

    @model_validator(mode="after")
    def _one(self) -> PromoCode:
        if (self.percent_bp is None) == (self.amount is None):
            raise ValueError("a promo code gives either percent_bp or amount")
        return self


class BundleRule(CommandModel):
    items: list[Component] = Field(min_length=2, max_length=20)
    price: int = Field(ge=0, le=MAX_SATANG)


class TimeOfDay(CommandModel):
    package_ids: list[str] = Field(default_factory=list, max_length=200)
    price: int = Field(ge=0, le=MAX_SATANG, description="Unit price inside the window")
    from_: str = Field(alias="from", pattern=HHMM)
    to: str = Field(pattern=HHMM)

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


PARAMS: dict[str, type[CommandModel]] = {
    "line_percent": LinePercent,
    "line_amount": LineAmount,
    "cart_percent": CartPercent,
    "cart_amount": CartAmount,
    "promo_code": PromoCode,
    "bundle": BundleRule,
    "time_of_day": TimeOfDay,
}


def clean_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    model = PARAMS[kind].model_validate(params)
    cleaned: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True)
    if kind == "promo_code":
        cleaned["code"] = str(cleaned["code"]).upper()
    return cleaned


class RuleCreate(CommandModel):
    name: str = Field(min_length=1, max_length=80, pattern=NOT_BLANK)
    scope: Literal["tenant", "store"] = "tenant"
    store_id: str | None = Field(default=None, max_length=64)
    kind: RuleKind
    params: dict[str, Any] = Field(description="Depends on kind: see the rule kinds in the README")
    active_window: Window | None = None
    days_of_week: list[int] | None = Field(
        default=None, max_length=7, description="0 = Monday; null = every day"
    )
    priority: int = Field(default=0, ge=-1000, le=1000, description="Higher applies first")
    stackable: bool = True
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> RuleCreate:
        if (self.scope == "store") != (self.store_id is not None):
            raise ValueError("a store rule names its store_id; a tenant rule does not")
        if self.days_of_week is not None and (
            not self.days_of_week or any(d < 0 or d > 6 for d in self.days_of_week)
        ):
            raise ValueError("days_of_week holds 0 (Monday) to 6 (Sunday)")
        self.params = clean_params(self.kind, self.params)
        return self


class RuleUpdate(CommandModel):
    name: str | None = Field(default=None, min_length=1, max_length=80, pattern=NOT_BLANK)
    params: dict[str, Any] | None = None
    active_window: Window | None = None
    days_of_week: list[int] | None = Field(default=None, max_length=7)
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    stackable: bool | None = None
    active: bool | None = None


class RuleRead(ReadModel):
    rule_id: str
    name: str
    scope: Literal["tenant", "store"]
    store_id: str | None
    kind: RuleKind
    params: dict[str, Any]
    active_window: WindowRead | None
    days_of_week: list[int] | None
    priority: int
    stackable: bool
    active: bool


# ---- quotes -------------------------------------------------------------------------------------


class QuoteLineIn(CommandModel):
    package_id: str = ID
    qty: int = Field(ge=1, le=999)


class ManualDiscountIn(CommandModel):
    amount: int | None = Field(default=None, ge=0, le=MAX_SATANG)
    percent_bp: int | None = Field(default=None, ge=0, le=10_000)

    @model_validator(mode="after")
    def _one(self) -> ManualDiscountIn:
        if (self.amount is None) == (self.percent_bp is None):
            raise ValueError("a manual discount gives either amount or percent_bp")
        return self


class QuoteRequest(CommandModel):
    store_id: str = ID
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=100)
    promo_code: str | None = Field(default=None, max_length=32)
    manual_discount: ManualDiscountIn | None = None
    approval_token: str | None = Field(
        default=None, max_length=200, description="A supervisor's approval for the manual discount"
    )
    at: datetime | None = Field(default=None, description="Price as of this moment (default: now)")
    payment_method: PaymentMethod | None = Field(
        default=None, description="Adds that payment type's fee (amount_due); refused when it is turned off"
    )


class DiscountOut(ReadModel):
    rule_id: str | None
    kind: str
    name: str
    amount: int


class BundleShare(ReadModel):
    package_id: str
    qty: int
    amount: int


class QuoteLineOut(ReadModel):
    package_id: str
    name: str
    qty: int
    list_price: int
    unit_price: int
    price_rule_id: str | None
    base_total: int
    discounts: list[DiscountOut]
    net_total: int
    tax_profile_id: str
    tax_rate_bp: int
    tax_inclusive: bool
    tax: int
    bundle_shares: list[BundleShare]


class QuoteOut(ReadModel):
    store_id: str
    tz: str
    priced_at: UtcDatetime
    currency: Literal["THB"] = "THB"
    lines: list[QuoteLineOut]
    applied_rules: list[DiscountOut]
    subtotal: int
    discount_total: int
    tax_total: int
    grand_total: int
    payment_method: PaymentMethod | None = None
    payment_fee: int = Field(default=0, description="The payment type's surcharge, satang (not refunded)")
    amount_due: int = Field(description="grand_total + payment_fee: what the customer pays")
