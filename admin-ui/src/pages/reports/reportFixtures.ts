import { vi } from "vitest";
import { screen } from "@testing-library/react";
import type {
  RefundsReport,
  ReportName,
  ReportRow,
  ReprintsReport,
  SalesReport,
  ShiftsReport,
  ThroughputReport,
  TicketsReport,
} from "../../api/reports";
import { addDays } from "./reportFilters";

/**
 * Report answers shaped exactly as the API sends them (typed by the generated schema): a day grouping
 * lists every day of the range, zeros included; totals add the rows up.
 */

/** A row with the name the API gives its group (a store, device, employee or package name). */
export const labelled = <R extends { group: string }>(row: R, label: string | null): R & { label: string | null } => ({
  ...row,
  label,
});

type SalesRow = ReportRow<"sales">;

export function salesRow(group: string, figures: Partial<Omit<SalesRow, "group">> = {}): SalesRow {
  const base = {
    count: 0,
    gross: 0,
    discounts: 0,
    net: 0,
    taxes: 0,
    total: 0,
    fees: 0,
    taken: 0,
    refund_count: 0,
    refunds: 0,
    ...figures,
  };
  return {
    ...base,
    net_after_refunds: base.net - base.refunds,
    taken_after_refunds: base.taken - base.refunds,
    group,
  };
}

/** Adds up the figures of `rows` (every numeric field but those derived). */
function sum<R extends { group: string }>(rows: readonly R[]): Omit<R, "group"> {
  const totals: Record<string, number | null> = {};
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (key === "group" || key === "label") continue;
      if (typeof value === "number") totals[key] = ((totals[key] as number | undefined) ?? 0) + value;
      else if (value === null && !(key in totals)) totals[key] = null;
    }
  }
  return totals as Omit<R, "group">;
}

export const days = (from: string, to: string) => {
  const out: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) out.push(day);
  return out;
};

function frame<N extends ReportName>(report: N, from: string, to: string, groupBy: string, filters: Record<string, string>) {
  return { report, from_day: from, to_day: to, group_by: groupBy, filters };
}

/** The sales of 4–10 Mar 2025 by day: sales on the 8th and the 10th, a refund on the 10th. */
export function salesByDay(from = "2025-03-04", to = "2025-03-10", filters: Record<string, string> = {}): SalesReport {
  const busy: Record<string, SalesRow> = {
    "2025-03-08": salesRow("2025-03-08", {
      count: 3,
      gross: 150000,
      discounts: 10000,
      net: 140000,
      taxes: 9159,
      total: 140000,
      fees: 0,
      taken: 140000,
    }),
    "2025-03-10": salesRow("2025-03-10", {
      count: 2,
      gross: 200050,
      discounts: 0,
      net: 200050,
      taxes: 13087,
      total: 200050,
      fees: 5000,
      taken: 205050,
      refund_count: 1,
      refunds: 15000,
    }),
  };
  const rows = days(from, to).map((day) => busy[day] ?? salesRow(day));
  const totals = sum(rows);
  return { ...frame("sales", from, to, "day", filters), rows, totals: { ...totals } };
}

export function salesBy(groupBy: string, rows: SalesRow[], from = "2025-03-09", to = "2025-03-09", filters: Record<string, string> = {}): SalesReport {
  return { ...frame("sales", from, to, groupBy, filters), rows, totals: sum(rows) };
}

/** No sales at all in the range (a day grouping still lists each day, with zeros). */
export function noSales(from = "2025-03-04", to = "2025-03-10"): SalesReport {
  const rows = days(from, to).map((day) => salesRow(day));
  return { ...frame("sales", from, to, "day", {}), rows, totals: sum(rows) };
}

type ShiftRow = ReportRow<"shifts">;

export function shiftRow(group: string, figures: Partial<Omit<ShiftRow, "group">> = {}): ShiftRow {
  return {
    shifts: 1,
    cash_open: 200000,
    cash_sales: 320000,
    cash_refunds: 10000,
    pay_ins: 5000,
    pay_outs: 15000,
    cash_expected: 500000,
    cash_counted: 495000,
    cash_diff: -5000,
    reprints: 1,
    sales_count: 12,
    sales_total: 650000,
    refunds_total: 20000,
    group,
    ...figures,
  };
}

/** Two closed shifts, one ฿50 short, one ฿20 over, grouped by shift (the default). */
export function shiftsByShift(): ShiftsReport {
  const rows = [
    shiftRow("shift_1", {
      device_id: "dev_1",
      opened_by: "emp_1",
      closed_by: "emp_1",
      open_at: "2025-03-10T02:00:00Z",
      close_at: "2025-03-10T14:00:00Z",
    }),
    shiftRow("shift_2", {
      cash_counted: 502000,
      cash_diff: 2000,
      reprints: 0,
      device_id: "dev_2",
      opened_by: "emp_2",
      closed_by: "emp_2",
      open_at: "2025-03-09T02:00:00Z",
      close_at: "2025-03-09T13:00:00Z",
    }),
  ];
  const totals = sum(rows.map(({ device_id: _d, opened_by: _o, closed_by: _c, open_at: _a, close_at: _z, ...figures }) => figures));
  return { ...frame("shifts", "2025-03-04", "2025-03-10", "shift", {}), rows, totals };
}

const NO_SHIFTS = {
  shifts: 0,
  cash_open: 0,
  cash_sales: 0,
  cash_refunds: 0,
  pay_ins: 0,
  pay_outs: 0,
  cash_expected: 0,
  cash_counted: 0,
  cash_diff: 0,
  reprints: 0,
  sales_count: 0,
  sales_total: 0,
  refunds_total: 0,
};

export function shiftsBy(groupBy: string, rows: ShiftRow[], from = "2025-03-04", to = "2025-03-10"): ShiftsReport {
  return { ...frame("shifts", from, to, groupBy, {}), rows, totals: rows.length ? sum(rows) : NO_SHIFTS };
}

type TicketRow = ReportRow<"tickets">;

export function ticketRow(group: string, figures: Partial<Omit<TicketRow, "group">> = {}): TicketRow {
  const issued = figures.issued ?? 0;
  const redeemed = figures.redeemed ?? 0;
  return {
    issued,
    redeemed,
    redemption_rate: issued ? Math.round((redeemed / issued) * 10000) / 10000 : null,
    uses: 0,
    refunded: 0,
    expired_unused: 0,
    value: 0,
    group,
    ...figures,
  };
}

/** Tickets sold on 9 and 10 Mar, by day. */
export function ticketsByDay(): TicketsReport {
  const rows = days("2025-03-04", "2025-03-10").map((day) =>
    day === "2025-03-09"
      ? ticketRow(day, { issued: 8, redeemed: 6, uses: 9, refunded: 1, expired_unused: 1, value: 120000 })
      : day === "2025-03-10"
        ? ticketRow(day, { issued: 4, redeemed: 1, uses: 1, value: 60000 })
        : ticketRow(day),
  );
  const totals = sum(rows);
  return {
    ...frame("tickets", "2025-03-04", "2025-03-10", "day", {}),
    rows,
    totals: { ...totals, redemption_rate: Math.round((7 / 12) * 10000) / 10000 },
  };
}

/** By zone only uses are known; the sale-day figures are null. */
export function ticketsByZone(): TicketsReport {
  const zoneRow = (group: string, uses: number): TicketRow => ({
    issued: null,
    redeemed: null,
    redemption_rate: null,
    uses,
    refunded: null,
    expired_unused: null,
    value: null,
    group,
  });
  const rows = [zoneRow("zone_jump", 7), zoneRow("zone_kids", 3)];
  return {
    ...frame("tickets", "2025-03-04", "2025-03-10", "zone", {}),
    rows,
    totals: { issued: null, redeemed: null, redemption_rate: null, uses: 10, refunded: null, expired_unused: null, value: null },
  };
}

export function refundsBy(groupBy: string, rows: ReportRow<"refunds">[]): RefundsReport {
  return { ...frame("refunds", "2025-03-04", "2025-03-10", groupBy, {}), rows, totals: sum(rows) };
}

export function reprintsBy(groupBy: string, rows: ReportRow<"reprints">[]): ReprintsReport {
  return { ...frame("reprints", "2025-03-04", "2025-03-10", groupBy, {}), rows, totals: sum(rows) };
}

type ThroughputRow = ReportRow<"throughput">;

export function throughputRow(group: string, scans: number, passes: number): ThroughputRow {
  return { scans, passes, fails: scans - passes, pass_rate: scans ? Math.round((passes / scans) * 10000) / 10000 : null, group };
}

/** Every hour of the day listed; scans at 10:00 and 11:00 only. */
export function throughputByHour(): ThroughputReport {
  const rows = Array.from({ length: 24 }, (_, h) => {
    const hour = String(h).padStart(2, "0");
    return hour === "10" ? throughputRow(hour, 40, 38) : hour === "11" ? throughputRow(hour, 10, 7) : throughputRow(hour, 0, 0);
  });
  return {
    ...frame("throughput", "2025-03-04", "2025-03-10", "hour", {}),
    rows,
    totals: { scans: 50, passes: 45, fails: 5, pass_rate: 0.9 },
    top_failure_reasons: [
      { reason: "duplicate_use", count: 3 },
      { reason: "expired", count: 2 },
    ],
  };
}

export function throughputBy(groupBy: string, rows: ThroughputRow[]): ThroughputReport {
  const totals = sum(rows);
  return {
    ...frame("throughput", "2025-03-04", "2025-03-10", groupBy, {}),
    rows,
    totals: { ...totals, pass_rate: totals.scans ? Math.round((totals.passes / totals.scans) * 10000) / 10000 : null },
    top_failure_reasons: [],
  };
}

/**
 * jsdom lays nothing out, so every chart's container measures 0×0 and recharts warns about it once per
 * render; this drops that one warning (and only it) from a test's output.
 */
export function quietChartSizeWarnings(): void {
  const warn = console.warn.bind(console);
  vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("The width(0) and height(0) of chart")) return;
    warn(...args);
  });
}

/** Fakes only the clock's date: it is noon in Bangkok on Monday 10 March 2025. */
export function atNoonOnMonday10March(): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2025-03-10T05:00:00Z"));
}

/** The report's table, once its page, the stores and the report have all come in. */
export const findReportTable = (name: string) => screen.findByRole("table", { name }, { timeout: 5000 });
