"""The dashboard as the API gives it: one store's day so far, in one answer. Money is satang; days
are the store's local days (YYYY-MM-DD); hours its local hours ("00".."23"); times are UTC."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from boxoffice.alerts.schemas import AlertKind, AlertRead
from boxoffice.core.schemas import ReadModel, UtcDatetime
from boxoffice.reports.schemas import SalesFigures, ThroughputFigures


class StoreChoice(ReadModel):
    store_id: str
    name: str


class DashboardStore(StoreChoice):
    tz: str = Field(description="The store's time zone: its days and hours are counted in it")


class SalesSoFar(ReadModel):
    """Completed sales by the hourly figures (no refunds, taxes or fees: those are per day)."""

    count: int = Field(description="Completed sales")
    gross: int = Field(description="List value before discounts")
    net: int = Field(description="gross - discounts")
    total: int = Field(description="What the sales came to: net + exclusive taxes (fees not included)")


class PaymentTypeSales(ReadModel):
    payment_type: str = Field(description="cash, qr, card or other")
    label: str | None = Field(description="Its name in the store's settings (payment_types)")
    today: SalesFigures = Field(description="Today so far with this payment type (refunds: by method)")
    last_week: SalesFigures = Field(description="The whole of the same weekday last week")


class DashboardSales(ReadModel):
    today: SalesFigures = Field(
        description="Today so far: the same figures as the sales report for today at this store "
        "(GET /v1/reports/sales?from=<day>&to=<day>&store_id=...)"
    )
    last_week_by_now: SalesSoFar = Field(
        description="The same weekday last week up to the same time of day: through the end of the "
        "current local hour (`compare_until`), from the hourly figures"
    )
    last_week: SalesFigures = Field(description="The whole of the same weekday last week")
    by_payment_type: list[PaymentTypeSales] = Field(
        description="Per payment type used today or on the same weekday last week"
    )


class FailReason(ReadModel):
    reason: str = Field(description="A FAIL reason code: duplicate_use, expired, refunded, invalid_sig…")
    count: int


class DashboardRedemptions(ReadModel):
    today: ThroughputFigures = Field(description="Gate scans of tickets today so far: PASS, FAIL, pass rate")
    last_week_by_now: ThroughputFigures = Field(
        description="The same weekday last week through the end of the current local hour"
    )
    last_week: ThroughputFigures = Field(description="The whole of the same weekday last week")
    top_fail_reasons: list[FailReason] = Field(
        description="Today's most frequent FAIL reasons, most first (5)"
    )


class OpenShift(ReadModel):
    shift_id: str
    device_id: str
    device_name: str
    cashier_id: str | None = Field(description="Who opened the shift")
    cashier_name: str | None = Field(description="Their name (null: not an employee, e.g. a kiosk)")
    opened_at: UtcDatetime
    cash_open: int = Field(description="The opening float")
    expected_cash: int = Field(
        description="What the drawer should hold now: float + cash sales - cash refunds + pay-ins - pay-outs"
    )
    sales_count: int = Field(description="Sales on this shift so far")
    sales_total: int = Field(description="What they took, payment fees included")


DeviceState = Literal["online", "offline", "suspended", "pending"]


class DashboardDevice(ReadModel):
    device_id: str
    name: str
    type: str = Field(description="POS, KIOSK or GATE")
    status: str = Field(description="active, pending (awaiting approval) or suspended")
    state: DeviceState = Field(
        description="online: an active device seen in the last 5 minutes; offline: active, not seen "
        "since; suspended; pending: awaiting approval"
    )
    last_seen_at: UtcDatetime | None = Field(
        description="Its latest request, upload or gate download as recorded (to about a minute)"
    )
    holding_ops: bool = Field(
        description="Its last upload said ops were still waiting on it (sales or scans not yet sent)"
    )
    outbox_remaining: int = Field(description="How many, as of that upload")
    last_sync_at: UtcDatetime | None = Field(description="Its last upload of offline work")


class DashboardDevices(ReadModel):
    online: int
    offline: int
    holding_ops: int = Field(description="Devices holding unsynced ops (of any state)")
    suspended: int
    pending: int = Field(description="Registered, awaiting approval")
    items: list[DashboardDevice] = Field(description="Every device of the store but revoked ones, by name")


class AlertKindCount(ReadModel):
    kind: AlertKind
    count: int


class DashboardAlerts(ReadModel):
    open: int = Field(
        description="Alerts not resolved yet (acknowledged or not), of this store and, for "
        "a viewer of every store, the tenant-wide ones"
    )
    unacknowledged: int = Field(description="Of those, nobody has acknowledged yet")
    by_kind: list[AlertKindCount] = Field(description="Per kind, most first")
    latest: list[AlertRead] = Field(description="The newest few (5); GET /v1/alerts lists them all")


class HourSales(ReadModel):
    hour: str = Field(description="Local hour, 00..23")
    today: SalesSoFar
    last_week: SalesSoFar = Field(description="The same hour of the same weekday last week")


class Dashboard(ReadModel):
    store: DashboardStore
    stores: list[StoreChoice] = Field(description="The stores the viewer may see (for a store switcher)")
    as_of: UtcDatetime = Field(description="When these figures were read")
    day: str = Field(description="Today, the store's local day")
    compare_day: str = Field(description="The same weekday last week")
    compare_until: str = Field(
        description="Local time (HH:MM) up to which `last_week_by_now` figures count: the end of the "
        "current hour"
    )
    sales: DashboardSales
    redemptions: DashboardRedemptions
    open_shifts: list[OpenShift] = Field(description="Shifts open on the store's devices, oldest first")
    devices: DashboardDevices
    alerts: DashboardAlerts
    hours: list[HourSales] = Field(description="Sales by local hour (24 rows): today against last week")
