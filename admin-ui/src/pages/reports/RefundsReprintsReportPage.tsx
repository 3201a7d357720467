import { BarChart } from "@mantine/charts";
import { SegmentedControl } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import { DEFAULT_GROUP_BY, REPORT_FILTERS, REPORT_GROUP_BYS } from "../../api/reports";
import type { ReportFilterOptions } from "./reportFilters";
import { groupWord } from "./ReportFilterBar";
import { ChartCard, type DrillDown, type ReportConfig, ReportScreen, formatChartBaht, hrefWith, satangToBaht } from "./ReportView";

export const REFUNDS_REPORT_OPTIONS: ReportFilterOptions = {
  groupBys: REPORT_GROUP_BYS.refunds,
  defaultGroup: DEFAULT_GROUP_BY.refunds,
  filters: REPORT_FILTERS.refunds,
};

export const REPRINTS_REPORT_OPTIONS: ReportFilterOptions = {
  groupBys: REPORT_GROUP_BYS.reprints,
  defaultGroup: DEFAULT_GROUP_BY.reprints,
  filters: REPORT_FILTERS.reprints,
};

/** Day, store and device rows lead to their refunds; the refund list cannot pick by person, reason or method. */
export const refundsDrill: DrillDown = (groupBy, group, { from, to, filters }) => {
  if (filters.employee_id || filters.approver_id || filters.reason || filters.payment_type) return null;
  const params: Record<string, string | undefined> = { from, to, store: filters.store_id, device: filters.device_id };
  if (group !== null) {
    if (groupBy === "day") params.from = params.to = group;
    else if (groupBy === "store") params.store = group;
    else if (groupBy === "device") params.device = group;
    else return null;
  }
  return hrefWith("/reports/refunds", params);
};

/** Day, store, device and employee rows lead to their reprints; the list cannot pick by approver or reason. */
export const reprintsDrill: DrillDown = (groupBy, group, { from, to, filters }) => {
  if (filters.approver_id || filters.reason) return null;
  const params: Record<string, string | undefined> = {
    from,
    to,
    store: filters.store_id,
    device: filters.device_id,
    employee: filters.employee_id,
  };
  if (group !== null) {
    if (groupBy === "day") params.from = params.to = group;
    else if (groupBy === "store") params.store = group;
    else if (groupBy === "device") params.device = group;
    else if (groupBy === "employee") params.employee = group;
    else return null;
  }
  return hrefWith("/reports/reprints", params);
};

const REFUNDS_CONFIG: ReportConfig<"refunds"> = {
  columns: [
    { field: "count", header: "Refunds", format: "count" },
    { field: "tickets", header: "Tickets", format: "count" },
    { field: "amount", header: "Paid back", format: "money" },
  ],
  isEmpty: (answer) => !answer.totals.count,
  emptyWhat: "No refunds",
  drill: refundsDrill,
  chart: (answer, label) => (
    <ChartCard title={`Paid back by ${groupWord(answer.group_by)}`}>
      <BarChart
        h={240}
        data={answer.rows.map((row) => ({ name: label(row), amount: satangToBaht(row.amount) }))}
        dataKey="name"
        series={[{ name: "amount", label: "Paid back", color: "red.5" }]}
        valueFormatter={formatChartBaht}
        tickLine="y"
        yAxisProps={{ width: 90 }}
      />
    </ChartCard>
  ),
};

const REPRINTS_CONFIG: ReportConfig<"reprints"> = {
  columns: [{ field: "count", header: "Reprints", format: "count" }],
  isEmpty: (answer) => !answer.totals.count,
  emptyWhat: "No reprints",
  drill: reprintsDrill,
  chart: (answer, label) => (
    <ChartCard title={`Reprints by ${groupWord(answer.group_by)}`}>
      <BarChart
        h={240}
        data={answer.rows.map((row) => ({ name: label(row), count: row.count }))}
        dataKey="name"
        series={[{ name: "count", label: "Reprints", color: "orange.6" }]}
        tickLine="y"
        yAxisProps={{ allowDecimals: false }}
      />
    </ChartCard>
  ),
};

export type RefundsReprintsView = "refunds" | "reprints";

/** Reports → Reprints & refunds: money paid back and tickets printed again, by day, person, device or reason. */
export function RefundsReprintsReportPage() {
  const [search, setSearch] = useSearchParams();
  const view: RefundsReprintsView = search.get("view") === "reprints" ? "reprints" : "refunds";
  const switcher = (
    <SegmentedControl
      aria-label="Report"
      data={[
        { value: "refunds", label: "Refunds" },
        { value: "reprints", label: "Reprints" },
      ]}
      value={view}
      onChange={(next) => {
        const params = new URLSearchParams(search);
        if (next === "reprints") params.set("view", next);
        else params.delete("view");
        setSearch(params, { replace: true });
      }}
      style={{ alignSelf: "flex-start" }}
    />
  );
  return view === "refunds" ? (
    <ReportScreen
      key="refunds"
      name="refunds"
      title="Reprints & refunds"
      options={REFUNDS_REPORT_OPTIONS}
      barOptions={{ reasonUse: "refund" }}
      config={REFUNDS_CONFIG}
      above={switcher}
    />
  ) : (
    <ReportScreen
      key="reprints"
      name="reprints"
      title="Reprints & refunds"
      options={REPRINTS_REPORT_OPTIONS}
      barOptions={{ reasonUse: "reprint" }}
      config={REPRINTS_CONFIG}
      above={switcher}
    />
  );
}
