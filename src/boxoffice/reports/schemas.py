"""Reports as the API gives them: each has rows (one per group) and a totals row. Money is satang;
days are the store's local days (YYYY-MM-DD); rates are fractions (0.25 = 25 %), null with nothing
to divide by."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from boxoffice.core.schemas import ReadModel, UtcDatetime

#: What names a row's group for a person (rows grouped by day or hour have none).
Label = Annotated[
    str | None,
    Field(
        description="The group's name: the store, device, employee or package name, the zone's name, the "
        "reason's or payment type's label; null for a day or an hour (or a name no longer found)"
    ),
]


class ReportFrame(ReadModel):
    report: str
    from_day: str = Field(description="First local day, included")
    to_day: str = Field(description="Last local day, included")
    group_by: str
    filters: dict[str, str] = Field(description="The filters applied")


class SalesFigures(ReadModel):
    count: int = Field(description="Completed sales (by package: sales holding the package)")
    gross: int = Field(description="List value before discounts")
    discounts: int
    net: int = Field(description="gross - discounts")
    taxes: int = Field(description="Tax inside (inclusive) or on top of (exclusive) net")
    total: int = Field(description="What the sales came to: net + exclusive taxes")
    fees: int = Field(description="Payment-type surcharges")
    taken: int = Field(description="total + fees: what customers paid")
    refund_count: int
    refunds: int = Field(
        description="Paid back (refunds are counted on the day, device and method they were made)"
    )
    net_after_refunds: int = Field(description="net - refunds")
    taken_after_refunds: int = Field(description="taken - refunds")


class SalesRow(SalesFigures):
    group: str = Field(description="The group's key: a day, a store id, a device id, a payment type…")
    label: Label = None


class SalesReport(ReportFrame):
    rows: list[SalesRow]
    totals: SalesFigures


class RefundFigures(ReadModel):
    count: int
    tickets: int = Field(description="Tickets refunded")
    amount: int = Field(description="Paid back")


class RefundRow(RefundFigures):
    group: str
    label: Label = None


class RefundsReport(ReportFrame):
    rows: list[RefundRow]
    totals: RefundFigures


class ReprintFigures(ReadModel):
    count: int


class ReprintRow(ReprintFigures):
    group: str
    label: Label = None


class ReprintsReport(ReportFrame):
    rows: list[ReprintRow]
    totals: ReprintFigures


class ThroughputFigures(ReadModel):
    scans: int
    passes: int
    fails: int
    pass_rate: float | None = Field(description="passes / scans")


class ThroughputRow(ThroughputFigures):
    group: str = Field(description="A day, an hour of the day (00-23), a store, a gate, a zone or a reason")
    label: Label = None


class ReasonCount(BaseModel):
    reason: str
    count: int


class ThroughputReport(ReportFrame):
    rows: list[ThroughputRow]
    totals: ThroughputFigures
    top_failure_reasons: list[ReasonCount] = Field(description="The period's five commonest, most first")


class TicketFigures(ReadModel):
    issued: int | None = Field(description="Tickets sold on the day (null by zone)")
    redeemed: int | None = Field(description="Of those, used at least once")
    redemption_rate: float | None = Field(description="redeemed / issued")
    uses: int = Field(description="PASS scans: uses consumed")
    refunded: int | None
    expired_unused: int | None = Field(description="Past their last valid day, never used, not refunded")
    value: int | None = Field(description="What the tickets were sold for")


class TicketRow(TicketFigures):
    group: str
    label: Label = None


class TicketsReport(ReportFrame):
    rows: list[TicketRow]
    totals: TicketFigures


class ShiftFigures(ReadModel):
    shifts: int
    cash_open: int = Field(description="Opening float")
    cash_sales: int
    cash_refunds: int
    pay_ins: int
    pay_outs: int
    cash_expected: int
    cash_counted: int
    cash_diff: int = Field(description="counted - expected (negative: short)")
    reprints: int = Field(description="Reprints made on the shift's POS while it was open")
    sales_count: int
    sales_total: int
    refunds_total: int


class ShiftRow(ShiftFigures):
    group: str = Field(description="The shift id (group_by=shift), a day, a store, a POS or who opened it")
    device_id: str | None = None
    opened_by: str | None = None
    closed_by: str | None = None
    open_at: UtcDatetime | None = None
    close_at: UtcDatetime | None = None
    label: Label = None


class ShiftsReport(ReportFrame):
    rows: list[ShiftRow]
    totals: ShiftFigures


class RedemptionRead(ReadModel):
    redemption_id: str
    ticket_id: str
    store_id: str
    device_id: str
    ts: UtcDatetime = Field(description="When the scan was made (an offline gate's own time)")
    recorded_at: UtcDatetime | None = None
    result: Literal["pass", "fail"]
    reason: str | None
    zone: str | None = None
    offline: bool = False
    offline_conflict: bool = False


REPORT_MODELS: dict[str, tuple[type[ReportFrame], type[ReadModel], type[ReadModel]]] = {
    "sales": (SalesReport, SalesFigures, SalesRow),
    "shifts": (ShiftsReport, ShiftFigures, ShiftRow),
    "tickets": (TicketsReport, TicketFigures, TicketRow),
    "refunds": (RefundsReport, RefundFigures, RefundRow),
    "reprints": (ReprintsReport, ReprintFigures, ReprintRow),
    "throughput": (ThroughputReport, ThroughputFigures, ThroughputRow),
}


# ---- reconciliation -----------------------------------------------------------------------------


class RecordRef(ReadModel):
    kind: Literal[
        "sale", "ticket", "refund", "reprint", "redemption", "shift", "snapshot", "movement", "summary"
    ] = Field(description="A snapshot's id is `<shift_id>#v<version>`; a summary's is its document id")
    id: str


class ReconcileDifference(ReadModel):
    check: Literal["sale_totals", "ticket_shares", "refund_lines", "shift_snapshot", "summaries"] = Field(
        description="sale_totals: a sale against its lines; ticket_shares: a sale's tickets against it; "
        "refund_lines: a refund against its lines and tickets; shift_snapshot: a closed shift's snapshot "
        "against the sales, refunds and movements recorded on it; summaries: a report summary against "
        "what its raw records make (or a month's against its days)"
    )
    record: RecordRef = Field(description="The record (or summary) whose figure is off")
    field: str = Field(description="The figure or field that differs")
    expected: int | str | None = Field(description="What the records say it should be (satang for money)")
    found: int | str | None = Field(description="What is stored")
    message: str
    store_id: str | None
    day: str | None = Field(description="The local day it belongs to (a month for a month's summary)")
    records: list[RecordRef] = Field(description="The records behind it (the first 20)")
    records_total: int = Field(description="How many records are behind it")


class ReconcileChecked(ReadModel):
    sales: int = Field(description="Completed sales of the period checked against their lines and tickets")
    refunds: int
    tickets: int
    shifts: int = Field(description="Closed shifts opened in the period")
    summaries: int = Field(description="Day summaries compared with a recomputation from the records")
    months: int = Field(description="Month summaries compared with their days")


class ReconcileFigures(ReadModel):
    """The period's money, each way it is kept: equal when the records agree (tickets_value +
    exclusive_taxes + fees = sales_taken; tickets_refunded = refunds_amount; report_taken =
    sales_taken; report_refunds = refunds_amount). Shift figures cover shifts opened in the period,
    which may hold sales of other days and leave out sales made without a shift."""

    sales_count: int
    sales_taken: int = Field(description="Completed sales: total plus payment fees")
    fees: int
    exclusive_taxes: int
    tickets_value: int = Field(description="The prices of those sales' tickets")
    refunds_count: int
    refunds_amount: int
    tickets_refunded: int = Field(description="What those refunds' tickets say was paid back")
    net_taken: int = Field(description="sales_taken - refunds_amount")
    report_taken: int = Field(description="The sales report's taken for the period")
    report_refunds: int = Field(description="The sales report's refunds for the period")
    shifts_closed: int
    shifts_sales_total: int
    shifts_refunds_total: int


class ReconcileReport(ReadModel):
    from_day: str
    to_day: str
    store_ids: list[str]
    clean: bool = Field(description="No difference found")
    checked: ReconcileChecked
    figures: ReconcileFigures
    pending_events: int = Field(
        description="Changes not yet counted in the summaries (left out of both sides of the comparison)"
    )
    differences: list[ReconcileDifference] = Field(description="The first 500")
    differences_total: int
