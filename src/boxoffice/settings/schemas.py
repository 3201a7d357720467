"""The settings sections and their shapes; a section is replaced whole when it is saved."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, TypeAdapter, model_validator

from boxoffice.core.schemas import MULTILINE_TEXT, NOT_BLANK, CommandModel, ReadModel

Section = Literal[
    "features",
    "billing",
    "payment_types",
    "taxes",
    "receipt",
    "ticket_printers",
    "zones",
    "redemption",
    "reasons",
    "refunds",
    "reprints",
    "sales",
    "offline",
    "shifts",
    "hours",
    "fraud",
]
SECTIONS: tuple[str, ...] = get_args(Section)
SHORT_ID = r"^[A-Za-z0-9_-]{1,40}$"


class Features(CommandModel):
    kiosk: bool = True
    gate_binding: bool = False
    multi_price: bool = True
    webhooks: bool = False
    require_open_shift: bool = True


class Billing(CommandModel):
    plan: str = Field(default="standard", max_length=40)
    renews_on: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD, for display")
    seats: int = Field(default=5, ge=0, le=10_000)


class PaymentType(CommandModel):
    code: Literal["cash", "qr", "card", "other"]
    name: str = Field(min_length=1, max_length=40, pattern=NOT_BLANK)
    enabled: bool = True
    fee_bp: int = Field(default=0, ge=0, le=10_000, description="Surcharge in basis points")
    fee_satang: int = Field(default=0, ge=0, le=10_000_000, description="Fixed surcharge in satang")


class TaxProfileModel(CommandModel):
    tax_profile_id: str = Field(pattern=SHORT_ID)
    name: str = Field(min_length=1, max_length=60, pattern=NOT_BLANK)
    rate_bp: int = Field(ge=0, le=10_000)
    inclusive: bool = True


class Taxes(CommandModel):
    profiles: list[TaxProfileModel] = Field(min_length=1, max_length=20)
    default_profile_id: str = Field(pattern=SHORT_ID)

    @model_validator(mode="after")
    def _default_exists(self) -> Taxes:
        ids = [p.tax_profile_id for p in self.profiles]
        if len(set(ids)) != len(ids):
            raise ValueError("tax profile ids must be unique")
        if self.default_profile_id not in ids:
            raise ValueError("default_profile_id must name one of the profiles")
        return self


ReceiptBlock = Literal["header", "items", "totals", "payment", "qr", "footer"]


DEFAULT_BLOCKS: tuple[ReceiptBlock, ...] = ("header", "items", "totals", "payment", "qr", "footer")


class Receipt(CommandModel):
    header: str = Field(default="", max_length=500, pattern=MULTILINE_TEXT)
    footer: str = Field(default="", max_length=500, pattern=MULTILINE_TEXT)
    logo_ref: str | None = Field(default=None, max_length=200)
    paper_width: Literal[58, 80] = 80
    blocks: list[ReceiptBlock] = Field(default_factory=lambda: list(DEFAULT_BLOCKS), max_length=12)


class PrinterProfile(CommandModel):
    printer_id: str = Field(pattern=SHORT_ID)
    name: str = Field(min_length=1, max_length=60, pattern=NOT_BLANK)
    paper_width: Literal[58, 80] = 80


class TicketPrinters(CommandModel):
    profiles: list[PrinterProfile] = Field(default_factory=list, max_length=50)
    by_device: dict[str, str] = Field(default_factory=dict, max_length=500)

    @model_validator(mode="after")
    def _mapped_printers_exist(self) -> TicketPrinters:
        known = {p.printer_id for p in self.profiles}
        unknown = sorted(set(self.by_device.values()) - known)
        if unknown:
            raise ValueError(f"by_device names unknown printers: {', '.join(unknown)}")
        return self


class Zone(CommandModel):
    zone_id: str = Field(pattern=SHORT_ID)
    name: str = Field(min_length=1, max_length=60, pattern=NOT_BLANK)
    credit_price: int = Field(
        default=0, ge=0, le=10_000_000, description="What one entry here deducts from a credit ticket"
    )


class Redemption(CommandModel):
    grace_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="A re-scan at the same gate inside this window is not a new use",
    )
    max_offline_minutes: int = Field(
        default=240,
        ge=1,
        le=7 * 24 * 60,
        description="A gate whose last bootstrap is older than this refuses offline passes",
    )


ReasonUse = Literal["refund", "reprint"]


class Reason(CommandModel):
    """A reason a cashier picks for a refund or reprint; owners read them in reports."""

    code: str = Field(pattern=SHORT_ID)
    label: str = Field(min_length=1, max_length=80, pattern=NOT_BLANK)
    applies_to: list[ReasonUse] = Field(min_length=1, max_length=2)
    active: bool = True


def _unique_codes(reasons: list[Reason]) -> list[Reason]:
    codes = [r.code for r in reasons]
    if len(set(codes)) != len(codes):
        raise ValueError("reason codes must be unique")
    return reasons


class Refunds(CommandModel):
    partial_use: Literal["pro_rata", "refuse"] = Field(
        default="pro_rata",
        description="A partly used multi-visit or credit ticket: refund the unused share, or not at all",
    )


class Reprints(CommandModel):
    daily_cap_per_device: int = Field(default=20, ge=0, le=10_000, description="Reprints per device per day")
    daily_cap_per_staff: int = Field(
        default=10, ge=0, le=10_000, description="Reprints per staff member per day"
    )


class Sales(CommandModel):
    max_tickets_per_sale: int = Field(
        default=100, ge=1, le=1_000, description="Tickets one sale may issue; a larger cart is refused"
    )


class Offline(CommandModel):
    """What a device may do while it cannot reach the server, and how far its clock is trusted."""

    clock_skew_seconds: int = Field(
        default=120,
        ge=0,
        le=3600,
        description="How far an offline op's time may lie before the device's last contact or after now",
    )
    pos_max_sales: int = Field(
        default=100, ge=0, le=100_000, description="Sales one POS may make offline between two contacts"
    )
    pos_max_amount: int = Field(
        default=5_000_000,
        ge=0,
        le=10_000_000_000,
        description="Satang one POS may take offline between two contacts",
    )


class Shifts(CommandModel):
    """What a shift's close is checked against."""

    cash_difference_alert: int = Field(
        default=10_000,
        ge=0,
        le=100_000_000,
        description="Satang: a shift closed (or its count corrected) with a cash difference, short or "
        "over, of more than this raises a cash_difference alert (0: any difference)",
    )


#: A local time of day: 00:00 to 23:59, or 24:00 for the end of the day (closing at midnight).
HHMM = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"


class DayHours(CommandModel):
    """One weekday's opening hours, in the store's zone."""

    open: str = Field(default="00:00", pattern=HHMM, description="HH:MM, local")
    close: str = Field(default="24:00", pattern=HHMM, description="HH:MM, local, after open; 24:00: midnight")

    @model_validator(mode="after")
    def _close_after_open(self) -> DayHours:
        if self.open == "24:00":
            raise ValueError("open is 00:00 to 23:59")
        if self.close <= self.open:
            raise ValueError("close must be after open (on the same day)")
        return self


_DAY_DOC = "null: closed all day"
#: The weekdays of `hours`, Monday first (Python's `weekday()` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class OpeningHours(CommandModel):
    """When the store is open, per weekday, in its zone: sales outside these hours are counted as
    after-hours sales by the Fraud Watch. The default is open all day, every day (nothing is after
    hours until hours are set)."""

    mon: DayHours | None = Field(default_factory=DayHours, description=_DAY_DOC)
    tue: DayHours | None = Field(default_factory=DayHours, description=_DAY_DOC)
    wed: DayHours | None = Field(default_factory=DayHours, description=_DAY_DOC)
    thu: DayHours | None = Field(default_factory=DayHours, description=_DAY_DOC)
    fri: DayHours | None = Field(default_factory=DayHours, description=_DAY_DOC)
    sat: DayHours | None = Field(default_factory=DayHours, description=_DAY_DOC)
    sun: DayHours | None = Field(default_factory=DayHours, description=_DAY_DOC)


def _floor(default: int, what: str) -> Any:
    return Field(default=default, ge=1, le=100_000, description=f"Fewest {what} in a day that may be flagged")


class FraudFloors(CommandModel):
    """Per metric, the fewest in one day that can be a spike (one reprint on a quiet day is none)."""

    reprints: int = _floor(3, "reprints")
    refunds: int = _floor(3, "refunds")
    manual_discounts: int = _floor(3, "manual discounts")
    approvals: int = _floor(5, "approvals given")
    duplicate_use: int = _floor(5, "duplicate_use FAILs at a gate")
    offline_conflicts: int = _floor(2, "offline conflicts at a gate")
    after_hours: int = _floor(2, "sales outside opening hours")


class FraudWatch(CommandModel):
    """When the Fraud Watch flags an employee's or a device's day."""

    z_threshold: float = Field(
        default=3.0,
        ge=0.5,
        le=50.0,
        description="Flag a day whose count is at least this many standard deviations above the "
        "entity's own trailing 28-day mean",
    )
    floors: FraudFloors = Field(default_factory=FraudFloors)


SECTION_TYPES: dict[str, Any] = {
    "features": Features,
    "billing": Billing,
    "payment_types": list[PaymentType],
    "taxes": Taxes,
    "receipt": Receipt,
    "ticket_printers": TicketPrinters,
    "zones": list[Zone],
    "redemption": Redemption,
    "reasons": Annotated[list[Reason], AfterValidator(_unique_codes), Field(max_length=100)],
    "refunds": Refunds,
    "reprints": Reprints,
    "sales": Sales,
    "offline": Offline,
    "shifts": Shifts,
    "hours": OpeningHours,
    "fraud": FraudWatch,
}
ADAPTERS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(kind) for name, kind in SECTION_TYPES.items()}


def validate_section(section: str, value: Any) -> Any:
    """The section's value as plain JSON data, validated (raises pydantic.ValidationError)."""
    adapter = ADAPTERS[section]
    return adapter.dump_python(adapter.validate_python(value), mode="json")


class Values(ReadModel):
    features: Features
    billing: Billing
    payment_types: list[PaymentType]
    taxes: Taxes
    receipt: Receipt
    ticket_printers: TicketPrinters
    zones: list[Zone]
    redemption: Redemption
    reasons: list[Reason]
    refunds: Refunds
    reprints: Reprints
    sales: Sales
    offline: Offline
    shifts: Shifts
    hours: OpeningHours
    fraud: FraudWatch


class EffectiveSettings(ReadModel):
    store_id: str | None = Field(description="null: the tenant defaults (back office only)")
    version: int
    etag: str
    values: Values
    sources: dict[str, Literal["default", "tenant", "store"]]


class SettingsLevel(ReadModel):
    store_id: str | None
    version: int
    values: dict[str, Any]


class ReceiptPreview(ReadModel):
    paper_width: Literal[58, 80]
    width_chars: int
    text: str
    escpos_base64: str = Field(
        description="The same receipt as ESC/POS printer bytes (code page 874), base64"
    )
