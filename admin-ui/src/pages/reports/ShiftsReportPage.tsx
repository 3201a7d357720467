import { BarChart } from "@mantine/charts";
import { Text } from "@mantine/core";
import { DEFAULT_GROUP_BY, REPORT_FILTERS, REPORT_GROUP_BYS } from "../../api/reports";
import { formatDateTime } from "../../lib/time";
import type { ReportFilterOptions } from "./reportFilters";
import { CashDiff } from "./reportParts";
import { ChartCard, apiLabel, type DrillDown, type ReportConfig, ReportScreen, formatChartBaht, hrefWith, satangToBaht } from "./ReportView";

export const SHIFTS_REPORT_OPTIONS: ReportFilterOptions = {
  groupBys: REPORT_GROUP_BYS.shifts,
  defaultGroup: DEFAULT_GROUP_BY.shifts,
  filters: REPORT_FILTERS.shifts,
};

/**
 * A shift row opens the shift; a day, store or POS row the closed shifts of the list for it. The list
 * cannot pick shifts by who opened them, so employee rows (and an employee filter) lead nowhere.
 */
export const shiftsDrill: DrillDown = (groupBy, group, { from, to, filters }) => {
  if (group !== null && groupBy === "shift") return `/reports/shifts/${encodeURIComponent(group)}`;
  if (groupBy === "employee" || filters.employee_id) return null;
  const params: Record<string, string | undefined> = {
    from,
    to,
    store: filters.store_id,
    device: filters.device_id,
    status: "closed",
  };
  if (group !== null) {
    if (groupBy === "day") params.from = params.to = group;
    else if (groupBy === "store") params.store = group;
    else if (groupBy === "device") params.device = group;
  }
  return hrefWith("/reports/shifts", params);
};

const diffColor = (baht: number) => (baht < 0 ? "red.6" : baht > 0 ? "orange.5" : "green.6");

const SHIFTS_CONFIG: ReportConfig<"shifts"> = {
  columns: [
    { field: "shifts", header: "Shifts", format: "count" },
    { field: "cash_open", header: "Float", format: "money" },
    { field: "cash_sales", header: "Cash sales", format: "money" },
    { field: "cash_refunds", header: "Cash refunds", format: "money" },
    { field: "pay_ins", header: "Pay-ins", format: "money" },
    { field: "pay_outs", header: "Pay-outs", format: "money" },
    { field: "cash_expected", header: "Expected", format: "money" },
    { field: "cash_counted", header: "Counted", format: "money" },
    { field: "cash_diff", header: "Difference", format: "money", render: (value) => <CashDiff diff={value} /> },
    { field: "reprints", header: "Reprints", format: "count" },
    { field: "sales_count", header: "Sales", format: "count" },
    { field: "sales_total", header: "Sales total", format: "money" },
    { field: "refunds_total", header: "Refunds total", format: "money" },
  ],
  isEmpty: (answer) => !answer.totals.shifts,
  emptyWhat: "No closed shifts",
  drill: shiftsDrill,
  // A shift is named by when it opened, with its till and who opened it beneath.
  groupLabel: (groupBy, row, tz) => (groupBy === "shift" && row.open_at ? formatDateTime(row.open_at, tz) : undefined),
  groupCell: (row, label, names) => {
    if (!row.open_at) return label;
    const device = row.device_id ? (names.device(row.device_id) ?? row.device_id) : null;
    const opener = row.opened_by ? (names.employee(row.opened_by) ?? row.opened_by) : null;
    return (
      <>
        {label}
        <Text span display="block" size="xs" c="dimmed">
          {apiLabel(row) ?? [device, opener].filter(Boolean).join(" · ")}
        </Text>
      </>
    );
  },
  chart: (answer, label) => (
    <ChartCard title="Cash difference (counted − expected)">
      <BarChart
        h={240}
        data={answer.rows.map((row) => ({
          name: label(row),
          diff: satangToBaht(row.cash_diff),
        }))}
        dataKey="name"
        series={[{ name: "diff", label: "Difference", color: "blue.6" }]}
        getBarColor={diffColor}
        valueFormatter={formatChartBaht}
        tickLine="y"
        yAxisProps={{ width: 90 }}
      />
    </ChartCard>
  ),
};

/** Reports → Shifts report: the cash drawers of closed shifts, one by one or by day, store, POS or cashier. */
export function ShiftsReportPage() {
  return <ReportScreen name="shifts" title="Shifts report" options={SHIFTS_REPORT_OPTIONS} config={SHIFTS_CONFIG} />;
}
